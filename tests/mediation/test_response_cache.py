"""Anonymous pages, lists and exports answered from the response cache.

What a visitor notices: the same answer as if computed, a change shown at the next
request once committed, their own page when logged in, the site still answering
when the cache does not.
"""

import gzip
import threading
import time

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.test.utils import CaptureQueriesContext

from mediation import response_cache
from mediation.models import Coordination, ServiceType, Structure
from territories.models import TerritoryProject
from tests.factories import StructureFactory, UserFactory, api_key, commune
from tests.mediation.test_degraded import closed_port

pytestmark = pytest.mark.django_db

PAGES = [
    "/types/",
    "/types/mediatheque/",
    "/territoires/bassins/",
    "/territoires/bassins/chateauroux/",
    "/territoires/departements/indre/",
    "/territoires/bassins.geojson",
    "/territoires/bassins/comparaison/",
    "/territoires/communes/suggestions.json?q=chat",
    "/api/v1/structures/?page_size=1000",
    "/api/v1/structures/?near=46.81,1.69&page_size=1000",
    "/api/v1/structures/geojson/",
    "/api/v1/lieux-mediation-numerique.csv",
    "/api/v1/lieux-mediation-numerique.json",
    "/api/v1/types/",
    "/api/v1/bassins/",
    "/api/v1/communes/?page_size=1000",
    "/api/v1/schema/",
    "/api/v1/communes/36044/",
]


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def places(django_capture_on_commit_callbacks):
    """Two published places in Châteauroux, committed as far as the version knows."""
    library = ServiceType.objects.get(slug="mediatheque")
    with django_capture_on_commit_callbacks(execute=True):
        return [
            StructureFactory(name="Médiathèque Équinoxe", kinds=[library]),
            StructureFactory(name="Espace public du Centre"),
        ]


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def queries_of(client, path, **headers):
    """(status, headers, bytes) of an answer, and the SQL queries it took (streaming too)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
        content = body(response)
    return (response.status_code, response.headers, content), len(queries)


@pytest.mark.parametrize("path", PAGES)
def test_the_cached_answer_is_the_computed_one(client, places, path):
    (computed, computed_headers, computed_body), computed_queries = queries_of(client, path)
    (kept, kept_headers, kept_body), kept_queries = queries_of(client, path)

    assert computed == kept == 200
    assert kept_body == computed_body
    assert kept_headers["Content-Type"] == computed_headers["Content-Type"]
    assert kept_headers["ETag"] == computed_headers["ETag"]
    assert kept_queries == 1 <= computed_queries  # only the data version is read


@pytest.mark.parametrize("path", ["/types/mediatheque/", "/api/v1/lieux-mediation-numerique.csv"])
def test_gzipped_copy_and_revalidation(client, places, path):
    plain = body(client.get(path))
    client.get(path, HTTP_ACCEPT_ENCODING="gzip")

    zipped = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain

    again = client.get(path, HTTP_IF_NONE_MATCH=zipped["ETag"])
    assert again.status_code == 304


def test_a_committed_change_shows_at_the_next_request(
    client, places, django_capture_on_commit_callbacks
):
    """As another server would make it: through the ORM, committed, nothing else told."""
    assert "Médiathèque Équinoxe" in client.get("/types/mediatheque/").content.decode()
    places[0].name = "Médiathèque de la Rocade"
    # The test's own transaction never commits: this runs what a commit runs.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        places[0].save()

    page = client.get("/types/mediatheque/").content.decode()
    assert "Médiathèque de la Rocade" in page
    assert "Médiathèque Équinoxe" not in page
    export = body(client.get("/api/v1/lieux-mediation-numerique.csv")).decode()
    assert "Médiathèque de la Rocade" in export


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_elsewhere_shows_at_once(client):
    """Real commits: the version row moves, and the next request reads it."""
    from tests.conftest import load_reference_data

    load_reference_data()
    place = StructureFactory(name="Point numérique de la gare")
    assert "Point numérique de la gare" in body(client.get("/api/v1/structures/")).decode()
    assert "Point numérique de la gare" in body(client.get("/api/v1/structures/")).decode()

    with transaction.atomic():
        Structure.objects.get(pk=place.pk).delete()

    assert "Point numérique de la gare" not in body(client.get("/api/v1/structures/")).decode()


def test_a_change_not_yet_committed_is_seen_by_its_own_connection(client, places):
    """Inside a transaction the version has not moved: its own reads skip the cache."""
    assert "Médiathèque Équinoxe" in client.get("/types/mediatheque/").content.decode()
    places[0].name = "Médiathèque renommée"
    places[0].save()  # the test's transaction: committed never

    assert "Médiathèque renommée" in client.get("/types/mediatheque/").content.decode()


def test_logged_in_people_get_their_own_page(client, places):
    bassin = commune("36044").bassin
    path = f"/territoires/bassins/{bassin.slug}/"
    edit_link = "Écrire le projet du bassin"
    coordinator = UserFactory(email="coordination@example.fr")
    Coordination.objects.create(user=coordinator, bassin=bassin)

    assert edit_link not in client.get(path).content.decode()  # kept for visitors
    client.force_login(coordinator)
    assert edit_link in client.get(path).content.decode()
    client.logout()
    assert edit_link not in client.get(path).content.decode()


def test_partners_with_a_token_are_answered_afresh(client, places):
    """A change that bypasses the signals is invisible to the cache, not to a partner."""
    key = api_key(UserFactory())
    client.get("/api/v1/structures/")
    Structure.objects.filter(pk=places[0].pk).update(name="Renommé sans signal")

    anonymous = body(client.get("/api/v1/structures/")).decode()
    partner = body(client.get("/api/v1/structures/", HTTP_AUTHORIZATION=f"Token {key}")).decode()
    assert "Renommé sans signal" not in anonymous  # proof that the copy was used
    assert "Renommé sans signal" in partner


def test_partners_share_the_copy_of_the_exports(client, places):
    """An export is built from its address alone: a token changes its rate, not its bytes."""
    key = api_key(UserFactory())
    export = "/api/v1/lieux-mediation-numerique.csv"
    (_status, _headers, computed), _queries = queries_of(
        client, export, HTTP_AUTHORIZATION=f"Token {key}"
    )
    (_status, _headers, anonymous), queries = queries_of(client, export)
    assert queries == 1
    assert anonymous == computed
    client.force_login(UserFactory())  # a person with a session: never a copy
    (_status, _headers, logged_in), queries = queries_of(client, export)
    assert logged_in == computed
    assert queries > 1


def test_the_query_string_order_does_not_matter(client, places):
    first, _queries = queries_of(client, "/api/v1/structures/?page_size=1&page=2")
    second, queries = queries_of(client, "/api/v1/structures/?page=2&page_size=1")
    assert queries == 1
    assert second[2] == first[2]


def request_of(rf):
    request = rf.get("/une-page/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = default_storage(request)
    return request


def plain(request):
    return HttpResponse("La même page pour tout le monde")


def with_token(request):
    return HttpResponse(f"<input name='csrfmiddlewaretoken' value='{get_token(request)}'>")


def with_nonce(request):
    request._csp_nonce = "nonce-du-visiteur"
    return HttpResponse("<script nonce='nonce-du-visiteur' src='/static/x.js'></script>")


def with_cookie(request):
    response = HttpResponse("Bonjour")
    response.set_cookie("suivi", "1")
    return response


def with_session(request):
    request.session["vu"] = True
    return HttpResponse("Bonjour")


def with_message(request):
    messages.success(request, "Merci pour votre signalement !")
    return HttpResponse("Bonjour")


@pytest.mark.parametrize(
    "make, builds",
    [
        (plain, 1),
        (with_token, 2),
        (with_nonce, 2),
        (with_cookie, 2),
        (with_session, 2),
        (with_message, 2),
    ],
)
def test_what_is_built_for_one_visitor_is_never_kept(rf, make, builds):
    built = []

    def build(request):
        built.append(request)
        return make(request)

    for _ in range(2):
        request = request_of(rf)
        assert (
            response_cache.respond(request, lambda request=request: build(request)).status_code
            == 200
        )
    assert len(built) == builds


def test_without_its_cache_the_pages_still_answer(client, places, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "mediation.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for path in PAGES:
        first, second = client.get(path), client.get(path)
        assert first.status_code == second.status_code == 200, path
        assert body(first) == body(second), path


def test_a_place_of_the_api_is_kept_with_its_own_version(client, places):
    path = f"/api/v1/structures/{places[0].uid}/"
    (_status, computed, content), _queries = queries_of(client, path)
    (_status, kept, kept_content), queries = queries_of(client, path)

    assert queries == 1
    assert kept_content == content
    assert kept["ETag"] == computed["ETag"]  # the version PATCH accepts in If-Match
    assert client.get(path, HTTP_IF_NONE_MATCH=kept["ETag"]).status_code == 304


def test_a_territory_project_shows_on_its_bassin_page_once_saved(
    client, places, django_capture_on_commit_callbacks
):
    bassin = commune("36044").bassin
    path = f"/territoires/bassins/{bassin.slug}/"
    assert "Des ateliers dans chaque commune" not in client.get(path).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        TerritoryProject.objects.create(
            bassin=bassin, presentation="Des ateliers dans chaque commune."
        )

    assert "Des ateliers dans chaque commune" in client.get(path).content.decode()


def answered_together(rf, make, visitors=4):
    """`visitors` requests for the same address at the same moment, each in its
    thread; the first to ask builds with `make`, slowly. Returns (bodies, builds)."""
    started, builds, bodies = threading.Barrier(visitors), [], []

    def build(request):
        builds.append(request)
        time.sleep(0.3)  # an export being built, while the others ask
        return make(request)

    def visit():
        request = request_of(rf)
        started.wait()
        response = response_cache.respond(request, lambda: build(request), stamp="version-de-test")
        bodies.append(response.content)

    threads = [threading.Thread(target=visit) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bodies, builds


def test_visitors_asking_together_wait_for_one_build(rf):
    bodies, builds = answered_together(rf, plain)
    assert len(builds) == 1
    assert bodies == [b"La m\xc3\xaame page pour tout le monde"] * 4


def test_an_answer_that_cannot_be_kept_is_built_by_each(rf, monkeypatch):
    """The builder says at once it keeps nothing: the others build their own
    rather than wait for a copy that will never come."""
    polls = []
    read = response_cache._read
    monkeypatch.setattr(response_cache, "_read", lambda *a, **k: polls.append(1) or read(*a, **k))
    bodies, builds = answered_together(rf, with_cookie)
    assert len(builds) == 4 and len(bodies) == 4
    # Each waited for the one build in progress, not for WAIT_SECONDS.
    limit = response_cache.WAIT_SECONDS / response_cache.POLL_SECONDS
    assert len(polls) < 4 * 0.5 * limit


def streamed(request):
    return StreamingHttpResponse(iter([b"a" * 100, b"b" * 100, b"c" * 100]))


def waits_of(monkeypatch):
    """The calls of `_wait_for` (a visitor waiting for another's copy)."""
    waits = []
    wait_for = response_cache._wait_for
    monkeypatch.setattr(
        response_cache, "_wait_for", lambda *a, **k: waits.append(1) or wait_for(*a, **k)
    )
    return waits


def test_an_export_too_large_to_keep_is_not_waited_for(rf, monkeypatch):
    """A partner downloading an export too large for the cache (100,000 places)
    makes nobody else wait until the download ends: each builds their own."""
    monkeypatch.setattr(response_cache, "MAX_BYTES", 150)
    monkeypatch.setattr(response_cache, "LOCAL_MAX_BYTES", 150)
    waits = waits_of(monkeypatch)
    first = response_cache.respond(request_of(rf), lambda: streamed(None), stamp="v1")
    download = iter(first.streaming_content)
    next(download), next(download)  # past MAX_BYTES, the download still going on
    second = response_cache.respond(request_of(rf), lambda: streamed(None), stamp="v1")
    assert b"".join(second.streaming_content) == b"a" * 100 + b"b" * 100 + b"c" * 100
    assert waits == []


def test_a_download_abandoned_midway_is_not_waited_for(rf, monkeypatch):
    """A partner who hangs up during an export: the next one is answered at once
    (rather than after WAIT_SECONDS, for BUILD_SECONDS)."""
    waits = waits_of(monkeypatch)
    first = response_cache.respond(request_of(rf), lambda: streamed(None), stamp="v2")
    next(iter(first.streaming_content))
    first.close()  # the server closes the response of a client gone away
    second = response_cache.respond(request_of(rf), lambda: streamed(None), stamp="v2")
    assert b"".join(second.streaming_content) == b"a" * 100 + b"b" * 100 + b"c" * 100
    assert waits == []


def test_a_download_too_large_to_keep_leaves_the_next_builders_mark(rf, monkeypatch):
    """Once the first download has freed its waiters, the next visitor builds and
    is waited for: the first download's end does not free those waiting for it."""
    monkeypatch.setattr(response_cache, "MAX_BYTES", 150)
    monkeypatch.setattr(response_cache, "LOCAL_MAX_BYTES", 150)
    first = response_cache.respond(request_of(rf), lambda: streamed(None), stamp="v3")
    download = iter(first.streaming_content)
    next(download), next(download)  # past MAX_BYTES: the others build their own
    request = request_of(rf)
    second = response_cache.respond(request, lambda: streamed(None), stamp="v3")
    list(download)  # the first download ends
    building = response_cache._key(request, request, "v3") + ":building"
    assert cache.get(building) is not None  # the second is still being built
    assert b"".join(second.streaming_content) == b"a" * 100 + b"b" * 100 + b"c" * 100


def test_without_redis_only_small_answers_are_kept_in_the_process(rf, monkeypatch):
    """Redis unreachable (or not configured), answers are kept in each process's
    memory: large ones are not, so an outage does not cost gigabytes per worker."""
    monkeypatch.setattr(response_cache, "LOCAL_MAX_BYTES", 20)
    built = []

    def build():
        built.append(1)
        return plain(None)  # 31 bytes

    for _ in range(2):
        response_cache.respond(request_of(rf), build, stamp="v")
    assert len(built) == 2  # too large for the process's memory: built each time
    shared = type(caches["default"])  # as Redis answering: ResilientRedisCache.is_shared
    monkeypatch.setattr(shared, "is_shared", lambda self: True, raising=False)
    for _ in range(2):
        response_cache.respond(request_of(rf), build, stamp="w")
    assert len(built) == 3  # a shared cache keeps it
