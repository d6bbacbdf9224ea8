"""Cache validators never lie: a conditional request after any change gets the new content.

Each test reads every list, detail, export and GeoJSON (and the map's markers),
changes one thing through the admin or the API as a person would, then asks
again with `If-None-Match`, and with `If-Modified-Since` alone: a 200 with the
new content, never a 304.
"""

from datetime import timedelta
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from mediation.models import DataVersion, ServiceType, Structure
from territories.models import BassinDeVie, Commune
from tests.factories import StopFactory, StructureFactory, UserFactory, api_key

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/structures/",
    "/api/v1/structures/geojson/",
    "/api/v1/lieux-mediation-numerique.csv",
    "/api/v1/lieux-mediation-numerique.json",
    "/carte/lieux.json",
]


class FormReader(HTMLParser):
    """The values a browser would submit for the page's main form."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("submit", "button", "file", "image"):
                return
            self.data.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.data.append(tuple(self._textarea))
            self._textarea = None


def admin_post(client, url, **changes):
    """Submit the admin form at `url` as shown, with `changes` (lists for multiple values)."""
    reader = FormReader()
    reader.feed(client.get(url).content.decode())
    data = {}
    for name, value in reader.data:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


@pytest.fixture
def admin(client):
    user = UserFactory(email="admin@example.fr", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def place():
    structure = StructureFactory(name="Médiathèque des Capucins")
    StructureFactory(name="Espace numérique voisin")
    return structure


def read_all(place):
    """First answers, after the directory's version has aged (HTTP dates are in seconds)."""
    DataVersion.objects.update(changed_at=timezone.now() - timedelta(minutes=5))
    client = APIClient()
    answers = {}
    for url in [*LISTS, detail(place)]:
        response = client.get(url)
        assert response.status_code == 200, url
        answers[url] = (response["ETag"], response["Last-Modified"])
    return answers


def detail(place):
    return f"/api/v1/structures/{place.uid}/"


def assert_revalidated(answers, shows=None, *, unchanged=()):
    """Every URL answers 200 (not 304) to both conditional requests; `shows` maps a URL to
    text its new content must contain. `unchanged`: URLs whose content did not change
    (If-None-Match may rightly get a 304 there)."""
    client = APIClient()
    for url, (etag, last_modified) in answers.items():
        if url in unchanged:
            by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
            assert by_date.status_code == 200, url  # the directory's date moved
            continue
        by_etag = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert by_etag.status_code == 200, f"{url}: 304 to If-None-Match after a change"
        assert by_etag["ETag"] != etag, url
        by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
        assert by_date.status_code == 200, f"{url}: 304 to If-Modified-Since after a change"
        if shows and url in shows:
            assert shows[url] in by_etag.getvalue().decode(), url


def test_a_place_changed_in_the_admin(client, admin, place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(client, f"/admin/mediation/structure/{place.pk}/change/", name="Le Récif")
    assert_revalidated(answers, dict.fromkeys(answers, "Le Récif"))


def test_a_place_changed_through_the_api(admin, place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    key = api_key(admin)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            detail(place),
            {"presentation_resume": "Ateliers le mardi"},
            format="json",
            HTTP_IF_MATCH=answers[detail(place)][0],  # PATCH names GET's ETag
        )
    assert response.status_code == 200, response.content
    assert response.json()["presentation_resume"] == "Ateliers le mardi"
    assert_revalidated(
        answers,
        {
            "/api/v1/lieux-mediation-numerique.csv": "Ateliers le mardi",
            "/api/v1/lieux-mediation-numerique.json": "Ateliers le mardi",
            detail(place): "Ateliers le mardi",
        },
    )


def test_a_stop_added_in_the_admin(client, admin, place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    commune = Commune.objects.get(pk="36018")
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(
            client,
            "/admin/mediation/stop/add/",
            structure=str(place.pk),
            place="Parking de la salle des fêtes",
            commune=commune.pk,
            latitude=str(commune.latitude),
            longitude=str(commune.longitude),
            opening_hours="Th 14:00-17:00",
        )
    assert_revalidated(answers, {detail(place): "Parking de la salle des f"})


def test_a_stop_changed_or_removed(place, django_capture_on_commit_callbacks):
    stop = StopFactory(structure=place, place="Place du marché")
    answers = read_all(place)
    with django_capture_on_commit_callbacks(execute=True):
        stop.note = "Sauf en août"
        stop.save()
    assert_revalidated(answers, {detail(place): "Sauf en août"})
    answers = read_all(place)
    with django_capture_on_commit_callbacks(execute=True):
        stop.delete()
    assert_revalidated(answers)


def test_kinds_changed_in_the_admin(client, admin, place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    fablab = ServiceType.objects.get(slug="fablab-makerspace")
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(client, f"/admin/mediation/structure/{place.pk}/change/", kinds=[fablab.pk])
    assert_revalidated(answers, {"/api/v1/structures/": "fablab", detail(place): "fablab"})


def test_kinds_changed_in_code_without_saving_the_place(place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    with django_capture_on_commit_callbacks(execute=True):
        place.kinds.add(ServiceType.objects.get(slug="mediatheque"))
    assert_revalidated(answers, {"/api/v1/structures/": "mediatheque", detail(place): "mediath"})


def test_a_kind_renamed_in_the_admin(client, admin, place, django_capture_on_commit_callbacks):
    answers = read_all(place)
    kind = place.kinds.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(client, f"/admin/mediation/servicetype/{kind.pk}/change/", name="EPN")
    # The detail shows kinds by slug: its ETag rightly stays.
    assert_revalidated(answers, {"/carte/lieux.json": '"EPN"'}, unchanged=[detail(place)])


def test_the_commune_moved_to_another_bassin_in_the_admin(
    client, admin, place, django_capture_on_commit_callbacks
):
    answers = read_all(place)
    other = BassinDeVie.objects.exclude(pk=place.commune.bassin_id).order_by("slug").first()
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(
            client, f"/admin/territories/commune/{place.commune_id}/change/", bassin=other.pk
        )
    assert Commune.objects.get(pk=place.commune_id).bassin == other
    assert_revalidated(
        answers,
        {
            "/api/v1/structures/": f'"{other.slug}"',
            "/api/v1/structures/geojson/": f'"{other.slug}"',
            detail(place): f'"{other.slug}"',
        },
    )


def test_a_deletion_in_the_admin(client, admin, place, django_capture_on_commit_callbacks):
    gone = StructureFactory(name="Lieu supprimé")
    answers = read_all(place)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/mediation/structure/{gone.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Structure.objects.filter(pk=gone.pk).exists()
    assert_revalidated(answers, unchanged=[detail(place)])
    for url in LISTS:
        assert "Lieu supprimé" not in APIClient().get(url).getvalue().decode(), url


def test_an_unchanged_directory_still_answers_304(place):
    answers = read_all(place)
    client = APIClient()
    for url, (etag, last_modified) in answers.items():
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, url
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304, url


def test_a_change_elsewhere_does_not_invalidate_a_place(place, django_capture_on_commit_callbacks):
    other = Structure.objects.exclude(pk=place.pk).get()
    etag = APIClient().get(detail(place))["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        other.name = "Autre nom"
        other.save()
    assert APIClient().get(detail(place), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_no_last_modified_within_the_second_of_a_change(place, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        place.name = "Changé à l’instant"
        place.save()
    # The request comes within the second of the change: on a loaded machine the
    # real clock may already have moved on, so it is held at the change's instant.
    changed_at = DataVersion.objects.get().changed_at
    with mock.patch.object(timezone, "now", return_value=changed_at):
        response = APIClient().get("/api/v1/structures/")
    # A change later in this same second would carry the same HTTP date.
    assert "Last-Modified" not in response
    assert response["ETag"]
