"""The geocoder can't hold the site: cache, circuit breaker, time budget, per-visitor limit.

The BAN is replaced by fakes that answer, fail or take their time (no network).
"""

import threading
import time

import pytest
from django.core.cache import cache

from mediation import geocoding
from mediation.geocoding import GeocoderError, Place

pytestmark = pytest.mark.django_db

ADDRESS = "12 rue Nationale, 37000 Tours"
BAN_PLACE = Place(47.3941, 0.6848, "12 Rue Nationale 37000 Tours", "37261")


@pytest.fixture
def ban(monkeypatch, settings):
    """The guarded look-up over a fake BAN; `ban.answer` is a function of the query."""
    settings.GEOCODER = "ban"
    settings.GEOCODER_BUDGET = 0.3
    settings.GEOCODER_VISITOR_LIMIT = 10
    cache.clear()
    monkeypatch.setattr(geocoding, "ban_lookup", geocoding.guarded_ban_lookup)
    monkeypatch.setattr(geocoding, "breaker", geocoding.CircuitBreaker())

    class Fake:
        calls = []

        def answer(self, query):
            return BAN_PLACE

    fake = Fake()
    fake.calls = []
    fake.released = threading.Event()  # a hanging BAN waits for this

    def hang(query):
        fake.released.wait(30)
        return BAN_PLACE

    fake.hang = hang

    def search(query, *, citycode=None):
        fake.calls.append(query)
        return fake.answer(query)

    monkeypatch.setattr(geocoding, "ban_search", search)
    yield fake
    fake.released.set()
    cache.clear()


def test_answers_are_cached_per_normalised_query(ban):
    assert geocoding.locate(ADDRESS) == BAN_PLACE
    assert geocoding.locate("  12 RUE NATIONALE,   37000 tours ") == BAN_PLACE
    assert geocoding.locate("12 rue Nationale, 37000 Tôurs") == BAN_PLACE
    assert len(ban.calls) == 1


def test_a_hanging_ban_costs_the_budget_then_the_commune_answers(ban):
    ban.answer = ban.hang  # would answer only after 30 s
    start = time.monotonic()
    place = geocoding.locate(ADDRESS)
    assert time.monotonic() - start < 5  # budget 0.3 s here, 2 s in production
    assert place.label == "Tours"
    assert place.precise is False  # the results page says distances count from Tours


def test_repeated_failures_open_the_circuit_for_a_minute(ban, monkeypatch):
    def fail(query):
        raise GeocoderError("connexion refusée")

    ban.answer = fail
    for n in range(3):
        assert geocoding.locate(f"{n} rue de Bourgogne, Orléans").label == "Orléans"
    assert len(ban.calls) == 3
    for n in range(5):
        assert geocoding.locate(f"{n} avenue de Paris, Orléans").label == "Orléans"
    assert len(ban.calls) == 3  # not asked while the circuit is open
    # A minute later, the BAN is asked again.
    now = time.monotonic()
    monkeypatch.setattr(geocoding.time, "monotonic", lambda: now + 61)
    ban.answer = lambda query: BAN_PLACE
    assert geocoding.locate(ADDRESS) == BAN_PLACE
    assert len(ban.calls) == 4


def test_failures_are_not_cached(ban):
    ban.answer = lambda query: (_ for _ in ()).throw(GeocoderError("503"))
    assert geocoding.locate(ADDRESS).precise is False
    ban.answer = lambda query: BAN_PLACE
    assert geocoding.locate(ADDRESS) == BAN_PLACE


def test_a_visitor_is_limited_but_not_the_others(ban, settings):
    settings.GEOCODER_VISITOR_LIMIT = 3
    with geocoding.for_visitor("203.0.113.7"):
        places = [geocoding.locate(f"{n} rue Nationale, Tours") for n in range(5)]
        assert geocoding.locate("0 rue Nationale, Tours") == BAN_PLACE  # cached: free
    assert [p.precise for p in places] == [True, True, True, False, False]
    assert len(ban.calls) == 3
    with geocoding.for_visitor("198.51.100.2"):
        assert geocoding.locate("9 rue Nationale, Tours") == BAN_PLACE


def test_the_search_page_answers_with_a_plain_note_when_the_ban_hangs(ban, client):
    ban.answer = ban.hang  # would answer only after 30 s
    start = time.monotonic()
    response = client.get("/", {"q": ADDRESS})
    assert time.monotonic() - start < 10
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nous n’avons pas trouvé l’adresse exacte" in page
    assert "depuis Tours" in page


def test_the_search_page_counts_ban_calls_per_visitor(ban, client, settings):
    settings.GEOCODER_VISITOR_LIMIT = 2
    for n in range(4):
        client.get("/", {"q": f"{n} rue Nationale, Tours"}, REMOTE_ADDR="203.0.113.9")
    assert len(ban.calls) == 2
