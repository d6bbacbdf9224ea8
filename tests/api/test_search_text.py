"""`q` forgives accents, case and hyphens, with the same answer on SQLite and PostgreSQL."""

import importlib
import json

import pytest
from django.apps import apps

from mediation.models import Structure
from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"


def found(client, text, endpoint=URL):
    response = client.get(endpoint, {"q": text})
    assert response.status_code == 200, response.content
    if endpoint == URL:
        return sorted(item["nom"] for item in response.json()["results"])
    features = json.loads(response.getvalue())["features"]
    return sorted(feature["properties"]["nom"] for feature in features)


@pytest.fixture
def places():
    StructureFactory(name="Médiathèque Équinoxe", summary="")
    StructureFactory(name="MEDIATHEQUE DE VIERZON", summary="", commune=commune("18279"))
    StructureFactory(name="Espace numérique", summary="Dans la médiathèque, au 1er étage")
    StructureFactory(name="France Services", address="2 rue de l’Église", summary="")
    StructureFactory(name="EPN", address="1 place Jean-Jaurès", summary="")


@pytest.mark.parametrize("text", ["médiathèque", "mediatheque", "MÉDIATHÈQUE", "Mediathèque"])
@pytest.mark.parametrize("endpoint", [URL, URL + "geojson/"])
def test_accents_and_case_do_not_matter(client, places, text, endpoint):
    assert found(client, text, endpoint) == [
        "Espace numérique",
        "MEDIATHEQUE DE VIERZON",
        "Médiathèque Équinoxe",
    ]


def test_a_capital_accented_letter_finds_the_small_one(client, places):
    assert found(client, "É") == found(client, "é") == found(client, "e")
    assert "France Services" in found(client, "église")
    assert found(client, "EGLISE") == found(client, "Église") == ["France Services"]


def test_every_word_must_match_somewhere(client, places):
    assert found(client, "mediatheque vierzon") == ["MEDIATHEQUE DE VIERZON"]
    assert found(client, "mediatheque etage") == ["Espace numérique"]
    assert found(client, "mediatheque piscine") == []


def test_hyphens_and_apostrophes_are_spaces(client, places):
    assert found(client, "jean jaures") == found(client, "Jean-Jaurès") == ["EPN"]
    assert found(client, "l'eglise") == ["France Services"]


def test_the_commune_name_is_searched_too(client, places):
    assert found(client, "vierzon") == ["MEDIATHEQUE DE VIERZON"]


def test_the_search_text_follows_every_save(places):
    place = Structure.objects.get(name="EPN")
    place.name = "Cyber-base Éole"
    place.save(update_fields=["name"])
    assert Structure.objects.matching("cyber base eole").get() == place
    assert not Structure.objects.matching("EPN").exists()


def test_the_migration_fills_existing_places(places):
    Structure.objects.update(search_text="")
    migration = importlib.import_module("mediation.migrations.0009_structure_search_text")
    migration.fill_search_text(apps, None)
    assert Structure.objects.matching("equinoxe").count() == 1
    assert Structure.objects.exclude(search_text="").count() == 5
