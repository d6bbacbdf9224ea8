"""Every query parameter of the API is bounded and checked before any query runs."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
    with CaptureQueriesContext(connection) as queries:
        response = client.get(endpoint, {"q": "médiathèque " * 4000})  # 48 KB
    assert response.status_code == 400
    assert "200 caractères au plus" in response.json()["q"][0]
    assert not [query for query in queries if "diath" in query["sql"]]  # refused before


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


# --- The requests of issue 15, replayed ------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("ordering", ["nom,", ",nom", "nom,,", "nom,-nom", "mot_de_passe", "--nom"])
def test_ordering_is_parsed_strictly(client, endpoint, ordering):
    StructureFactory()
    response = client.get(endpoint, {"ordering": ordering})
    assert response.status_code == 400, response.content
    message = response.json()["ordering"][0]
    assert "nom, modifie_le, commune, code_postal" in message or "deux fois" in message


def test_a_good_ordering_still_orders(client):
    StructureFactory(name="B", postal_code="36000")
    StructureFactory(name="A", postal_code="37000")
    StructureFactory(name="C", postal_code="37000")
    response = client.get(URL, {"ordering": " -code_postal, nom"})
    assert [item["nom"] for item in response.json()["results"]] == ["A", "C", "B"]


@pytest.mark.parametrize("page", ["99999999999999999999999", "9223372036854775807", "2", "0", "-1"])
@pytest.mark.parametrize("near", [None, "47.39,0.69", "46.81,1.69"])
def test_a_page_beyond_the_last_is_not_found(client, page, near):
    StructureFactory()
    params = {"page": page} | ({"near": near, "radius": "200"} if near else {})
    response = client.get(URL, params)
    assert response.status_code == 404
    assert response.json()["detail"].startswith(("Page invalide", "Page non valide"))


@pytest.mark.parametrize("size", ["0", "-3", "abc", "1.5", ""])
def test_a_page_size_that_is_not_a_positive_integer_is_refused(client, size):
    response = client.get(URL, {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_huge_page_size_is_capped(client):
    StructureFactory()
    response = client.get(URL, {"page_size": "99999999999999999999999"})
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "since",
    ["0001-01-01", "9999-12-31T23:59:59-14:00", "1969-12-31", "2100-01-01T00:00:00Z", "2024-02-30"],
)
def test_dates_out_of_a_sane_range_are_refused(client, endpoint, since):
    response = client.get(endpoint, {"updated_since": since})
    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_dates_in_range_still_work_whatever_the_offset(client):
    StructureFactory()
    for since in ("1970-01-02", "2099-12-31T23:59:59-14:00", "2001-01-01T00:00:00+14:00"):
        assert client.get(URL, {"updated_since": since}).status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("name", "value"), [("gratuit", "maybe"), ("accessible", "2"), ("gratuit", "oui")]
)
def test_booleans_are_strict(client, endpoint, name, value):
    response = client.get(endpoint, {name: value})
    assert response.status_code == 400
    assert response.json()[name] == [f"« {value} » n’est pas accepté : indiquez true ou false."]


def test_booleans_still_filter(client):
    StructureFactory(name="Accessible", wheelchair_accessible=True)
    StructureFactory(name="Non", wheelchair_accessible=False)
    for value, expected in (("true", ["Accessible"]), ("1", ["Accessible"]), ("False", ["Non"])):
        response = client.get(URL, {"accessible": value})
        assert [item["nom"] for item in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "name", ["type", "service", "gratuit", "near", "bbox", "updated_since", "bassin", "ordering"]
)
def test_an_empty_value_is_named_in_the_message(client, name):
    response = client.get(URL, {name: ""})
    assert response.status_code == 400
    assert response.json()[name][0].startswith(f"Valeur vide pour « {name} »")


def test_an_empty_search_text_means_no_search(client):
    StructureFactory()
    assert client.get(URL, {"q": ""}).json()["count"] == 1


def test_a_wrong_closed_value_lists_the_accepted_ones(client):
    response = client.get(URL, {"type": "piscine"})
    assert response.status_code == 400
    message = response.json()["type"][0]
    assert message.startswith("« piscine » n’est pas une valeur acceptée. Valeurs acceptées : ")
    assert "mediatheque" in message


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "/api/v1/communes/"])
def test_unknown_or_misspelt_filters_are_refused_with_the_accepted_ones(client, endpoint):
    response = client.get(endpoint, {"dispositif": "France Services"})
    assert response.status_code == 400
    message = response.json()["dispositif"][0]
    assert message.startswith("Paramètre inconnu « dispositif ». Paramètres acceptés : ")
    assert "q" in message


def test_pages_are_accepted_only_where_there_are_pages(client):
    assert client.get(URL, {"page": "1", "page_size": "10"}).status_code == 200
    response = client.get(URL + "geojson/", {"page": "1"})
    assert response.status_code == 400
    assert "page" in response.json()
    assert (
        client.get("/api/v1/lieux-mediation-numerique.csv", {"page_size": "1"}).status_code == 400
    )


def test_a_single_valued_parameter_given_twice_is_refused(client):
    response = client.get(URL + "?near=47.39,0.69&near=46.81,1.69")
    assert response.status_code == 400
    assert response.json()["near"] == ["« near » ne peut être donné qu’une fois."]


def test_repeated_values_of_a_list_count_once(client):
    StructureFactory()
    response = client.get(URL, {"type": ["mediatheque"] * 500})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name", ["bassin", "commune", "departement", "near", "bbox", "updated_since"]
)
def test_long_values_are_refused(client, name):
    response = client.get(URL, {name: "1" * 5000})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "/api/v1/structures/retraits/"])
@pytest.mark.parametrize(
    "params", [{"type": "%"}, {"x%s": "1"}, {"ordering": "%d"}, {"gratuit": "%"}]
)
def test_a_percent_sign_in_a_refused_value_is_echoed_not_a_crash(client, endpoint, params):
    """Found by the fuzzer: the messages go through `message % params`."""
    response = client.get(endpoint, params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)
    if "retraits" not in endpoint or "x%s" in params:  # elsewhere the value is echoed
        assert "%" in json.dumps(response.json(), ensure_ascii=False)
