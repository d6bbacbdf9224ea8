"""What partners expect: French 404s, 410 with a tombstone, withdrawals for mirrors,
CORS preflight for conditional requests, GeoJSON ids, national codes of the kinds."""

import json

import pytest

from mediation import choices
from mediation.models import ServiceType, Structure, Tombstone
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (URL + "inconnu/", "Aucun lieu publié n’a l’identifiant « inconnu »."),
        ("/api/v1/types/piscine/", "Aucun type de lieu n’a l’identifiant « piscine »"),
        ("/api/v1/bassins/atlantide/", "Aucun bassin de vie n’a l’identifiant « atlantide »"),
        ("/api/v1/communes/99999/", "Aucune commune de la région n’a le code INSEE « 99999 »."),
        ("/api/v1/nimporte/quoi/", "Adresse inconnue de l’API"),
    ],
)
def test_not_found_is_said_in_french_and_in_json(client, url, message):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith(message)


def test_a_deleted_place_is_gone_with_its_tombstone(client):
    place = StructureFactory(uid="hub-lo-12")
    place.delete()
    response = client.get(URL + "hub-lo-12/")
    assert response.status_code == 410
    body = response.json()
    assert body["id"] == "hub-lo-12" and body["statut"] == "supprime"
    assert body["date"].startswith(str(Tombstone.objects.get().deleted_at.date()))
    assert body["detail"].startswith("Ce lieu a été supprimé de l’annuaire le ")


def test_an_archived_place_is_gone_a_draft_was_never_there(client):
    StructureFactory(uid="archive-1", status=choices.Status.ARCHIVED)
    StructureFactory(uid="brouillon-1", status=choices.Status.DRAFT)
    archived = client.get(URL + "archive-1/")
    assert archived.status_code == 410 and archived.json()["statut"] == "archive"
    assert client.get(URL + "brouillon-1/").status_code == 404


def test_a_place_created_again_under_its_id_is_no_longer_a_tombstone(client):
    StructureFactory(uid="x-1").delete()
    StructureFactory(uid="x-1", name="Revenu")
    assert client.get(URL + "x-1/").json()["nom"] == "Revenu"
    assert not Tombstone.objects.exists()


def test_withdrawals_list_deletions_archives_and_unpublished_places(client):
    old = StructureFactory(uid="ancien", status=choices.Status.ARCHIVED)
    Structure.objects.filter(pk=old.pk).update(updated_at="2020-01-01T00:00:00Z")
    StructureFactory(uid="archive", status=choices.Status.ARCHIVED)
    StructureFactory(uid="brouillon", status=choices.Status.DRAFT)
    StructureFactory(uid="supprime").delete()
    StructureFactory(uid="publie")
    response = client.get(URL + "retraits/", {"updated_since": "2024-01-01"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert {(r["id"], r["statut"]) for r in results} == {
        ("archive", "archive"),
        ("brouillon", "non_publie"),
        ("supprime", "supprime"),
    }
    assert [r["date"] for r in results] == sorted(r["date"] for r in results)
    everything = client.get(URL + "retraits/").json()
    assert everything["count"] == 4


@pytest.mark.parametrize(
    "params", [{"updated_since": "0001-01-01"}, {"updated_since": ""}, {"type": "mediatheque"}]
)
def test_withdrawals_check_their_parameters(client, params):
    response = client.get(URL + "retraits/", params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_cors_preflight_allows_conditional_requests(client):
    response = client.options(
        URL,
        HTTP_ORIGIN="https://partenaire.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match, if-match, authorization",
    )
    assert response.status_code == 200
    allowed = response["Access-Control-Allow-Headers"].lower()
    for header in ("if-none-match", "if-match", "if-modified-since", "authorization"):
        assert header in allowed
    assert "PATCH" in response["Access-Control-Allow-Methods"]
    assert (
        "ETag" in client.get(URL, HTTP_ORIGIN="https://p.example")["Access-Control-Expose-Headers"]
    )


@pytest.mark.parametrize("accept", ["application/geo+json", "application/json", "*/*"])
def test_geojson_features_have_an_id_whatever_json_is_asked(client, accept):
    StructureFactory(uid="hub-lo-12")
    response = client.get(URL + "geojson/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] in ("application/geo+json", "application/json")
    feature = json.loads(response.getvalue())["features"][0]
    assert feature["id"] == "hub-lo-12" == feature["properties"]["id"]


def test_kinds_bring_their_national_codes_in_the_api(client):
    kinds = ServiceType.objects.filter(slug__in=["france-services", "mediatheque"])
    StructureFactory(uid="fs-1", typologie=["COMMUNE"], kinds=kinds)
    StructureFactory(uid="pdn-1", kinds=ServiceType.objects.filter(slug="promeneur-du-net"))
    listed = {item["id"]: item for item in client.get(URL).json()["results"]}
    detail = client.get(URL + "fs-1/").json()
    for item in (listed["fs-1"], detail):
        assert item["typologie"][0] == "COMMUNE"
        assert sorted(item["typologie"]) == ["BIB", "COMMUNE", "RFS"]
        assert item["dispositif_programmes_nationaux"] == ["France Services"]
    assert listed["fs-1"]["typologie"] == detail["typologie"]
    assert listed["pdn-1"]["dispositif_programmes_nationaux"] == ["Promeneurs du net"]
    assert listed["pdn-1"]["typologie"] == []


def test_the_documentation_gives_the_table_of_kinds(client):
    page = client.get("/api/v1/documentation/").content.decode()
    assert "RFS" in page and "Promeneurs du net" in page and "retraits" in page
