"""Every query parameter of the API is bounded and checked before any query runs."""

import time

import pytest

from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"
ENDPOINTS = [
    URL,
    URL + "geojson/",
    "/api/v1/lieux-mediation-numerique.csv",
    "/api/v1/lieux-mediation-numerique.json",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_long_search_is_refused_at_once(client, endpoint):
    StructureFactory(name="Médiathèque")
    started = time.perf_counter()
    response = client.get(endpoint, {"q": "médiathèque " * 4000})  # 48 KB
    assert response.status_code == 400
    assert "200 caractères au plus" in response.json()["q"][0]
    assert time.perf_counter() - started < 1


def test_a_search_of_too_many_words_is_refused(client):
    response = client.get(URL, {"q": " ".join(["a"] * 21)})
    assert response.status_code == 400
    assert response.json() == {
        "q": ["Votre recherche compte trop de mots : 20 au plus (elle en compte 21)."]
    }


def test_a_search_within_bounds_still_works(client):
    StructureFactory(name="Médiathèque des Capucins")
    response = client.get(URL, {"q": "Capucins " + "x" * 150})
    assert response.status_code == 200 and response.json()["count"] == 0
    assert client.get(URL, {"q": "Capucins"}).json()["count"] == 1


@pytest.mark.parametrize("value", ["caf\x00e", "caf\x01é"])
def test_control_characters_in_a_search_are_refused_in_french(client, value):
    response = client.get(URL, {"q": value})
    assert response.status_code == 400
    assert response.json()["q"][0].startswith(("Votre recherche", "Les caractères nuls"))


def test_commune_search_is_bounded_too(client):
    response = client.get("/api/v1/communes/", {"q": "tours " * 100})
    assert response.status_code == 400
    assert "q" in response.json()
