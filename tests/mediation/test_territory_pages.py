"""Territory pages: the bassins' index, a bassin's monographie, departments."""

import json
import re

import pytest

from territories.models import BassinDeVie, Department
from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db


def test_index_of_the_23_bassins(client):
    response = client.get("/territoires/bassins/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Les 23 bassins de vie" in page
    for bassin in BassinDeVie.objects.all():
        assert bassin.get_absolute_url() in page
    assert BassinDeVie.PERIMETER_NOTE in page


def test_bassin_page_is_the_monographie(client):
    bassin = commune("36044").bassin
    bassin.presentation = "Un territoire rural autour de Châteauroux."
    bassin.save()
    StructureFactory(name="EPN du centre")
    response = client.get(bassin.get_absolute_url())
    page = response.content.decode()
    assert "Un territoire rural autour de Châteauroux." in page
    assert BassinDeVie.PERIMETER_NOTE in page
    assert "EPN du centre" in page
    assert (
        '<th scope="row"><a href="/types/espace-public-numerique/">Espace Public Numérique</a></th><td>1</td>'
        in page
    )
    data = json.loads(re.search(r'<script id="map-data"[^>]*>(.*?)</script>', page).group(1))
    assert data["outline"]["type"] in {"Polygon", "MultiPolygon"}
    assert [point[2] for point in data["points"]] == ["EPN du centre"]


def test_other_bassins_structures_are_not_listed(client):
    StructureFactory(name="À Bourges", commune=commune("18033"))
    bassin = commune("36044").bassin
    assert "À Bourges" not in client.get(bassin.get_absolute_url()).content.decode()


def test_department_page(client):
    StructureFactory()
    department = Department.objects.get(code="36")
    response = client.get(department.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Indre (36)" in page
    assert "1 lieu de médiation numérique" in page
    for bassin in department.bassins.all():
        assert bassin.get_absolute_url() in page


def test_simplified_outlines_for_the_maps(client):
    response = client.get("/territoires/bassins.geojson")
    data = response.json()
    assert response["Content-Type"] == "application/geo+json"
    assert len(data["features"]) == 23
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in data["features"])
    assert len(response.content) < 60_000
