"""Kind sanity (issue 10, point 4): a name that contradicts the kind is flagged."""

import json

import pytest
from django.urls import reverse

from mediation.importers import run_import
from mediation.models import ServiceType, Structure
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db


def test_the_import_report_flags_a_name_that_contradicts_the_kind(hub_lo_path, tmp_path):
    # The census files "BIBLIOTHEQUE CELLETTES" under "autres", tagged EPN only.
    rows = {r["c_nom"]: r for r in json.loads(hub_lo_path.read_text())}
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([rows["BIBLIOTHEQUE CELLETTES"], rows["MSAP BOULLERET"]]))
    report = run_import(path)
    by_name = {r.name: r.messages for r in report.results}
    assert any(
        "type à vérifier : le nom évoque « Médiathèque »" in m
        for m in by_name["BIBLIOTHEQUE CELLETTES"]
    )
    # A MSAP whose census categories say MSAP (and Promeneur du Net) is consistent.
    assert not any("type à vérifier" in m for m in by_name["MSAP BOULLERET"])
    assert list(Structure.objects.kind_to_check().values_list("source_id", flat=True)) == [
        str(rows["BIBLIOTHEQUE CELLETTES"]["gid"])
    ]


def test_the_admin_lists_and_shows_kinds_to_check(admin_client):
    promeneur = ServiceType.objects.get(slug="promeneur-du-net")
    doubtful = StructureFactory(name="MSAP Boulleret", kinds=[promeneur])
    StructureFactory(name="Espace numérique du Centre")
    url = reverse("admin:mediation_structure_changelist")
    listing = admin_client.get(url, {"type_a_verifier": "oui"}).content.decode()
    assert "MSAP Boulleret" in listing
    assert "Espace numérique du Centre" not in listing
    assert "Type à vérifier : le nom évoque « France Services (ex-MSAP) »" in listing
    page = admin_client.get(reverse("admin:mediation_structure_change", args=[doubtful.pk]))
    assert "Type à vérifier : le nom évoque « France Services (ex-MSAP) »" in page.content.decode()
