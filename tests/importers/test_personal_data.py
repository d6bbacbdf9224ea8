"""Personal data kept out of the directory (issue 15.7)."""

import json
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.admin.sites import site
from django.urls import reverse

from mediation.admin import StructureAdmin
from mediation.importers import run_import
from mediation.models import Structure
from mediation.personal_data import is_person_name
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db


def test_insee_person_names_are_recognised():
    assert is_person_name("FAUVET*FAUVET-BODIN/CORINNE ANNE-MARIE /")
    assert is_person_name("LE MOAL*/JULIE  /")
    assert not is_person_name("Communauté de communes Cœur de Berry")
    assert not is_person_name("Association A/B")
    assert not is_person_name("")


def test_the_census_sole_traders_names_are_not_imported(hub_lo_path, tmp_path):
    rows = [r for r in json.loads(hub_lo_path.read_text()) if "*" in r["c_raison_sociale"]]
    assert len(rows) == 3  # in the February 2023 export
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps(rows))
    report = run_import(path)
    imported = Structure.objects.all()
    assert imported.exists()
    assert not any("*" in s.parent_structure for s in imported)
    assert not any("*" in s.import_note for s in imported)
    assert all(
        any("nom d’une personne" in m for m in r.messages)
        for r in report.results
        if r.outcome != "rejetée"
    )


def test_the_migration_clears_stored_person_names():
    migration = import_module("mediation.migrations.0018_personal_data")
    person = StructureFactory(parent_structure="PRELY*/NATHALIE  /")
    body = StructureFactory(parent_structure="Mairie de Bourges")
    migration.forget_person_names(apps, None)
    person.refresh_from_db()
    body.refresh_from_db()
    assert person.parent_structure == ""
    assert body.parent_structure == "Mairie de Bourges"


def test_personal_looking_contacts_are_flagged_until_a_coordinator_confirms(admin_client):
    mobile = StructureFactory(name="Lieu mobile", phone="+33612345678")
    gmail = StructureFactory(name="Lieu gmail", emails=["epn.village@gmail.com"])
    office = StructureFactory(name="Lieu public", emails=["contact@mairie-bourges.fr"])
    flagged = Structure.objects.with_personal_contact()
    assert set(flagged) == {mobile, gmail}
    assert gmail.personal_contact_reasons() == [
        "adresse d’un service grand public (epn.village@gmail.com)"
    ]
    assert office.personal_contact_reasons() == []

    url = reverse("admin:mediation_structure_changelist")
    page = admin_client.get(url, {"contact_personnel": "oui"}).content.decode()
    assert "Lieu mobile" in page and "Lieu gmail" in page and "Lieu public" not in page
    assert "numéro de mobile" in page

    admin_client.post(url, {"action": "confirm_public_contact", "_selected_action": [mobile.pk]})
    mobile.refresh_from_db()
    assert mobile.public_contact_confirmed
    assert set(Structure.objects.with_personal_contact()) == {gmail}

    # A new number is not what the coordinator checked: flagged again.
    mobile.phone = "+33698765432"
    mobile.save()
    assert not Structure.objects.get(pk=mobile.pk).public_contact_confirmed


def test_the_privacy_page_says_what_is_published_and_why(client):
    page = client.get(reverse("mediation:legal")).content.decode()
    assert "Ce que l’annuaire publie sur les lieux, et pourquoi" in page
    assert "contact personnel ?" in page


def test_the_admin_lists_the_filter():
    assert "PersonalContactFilter" in {
        getattr(f, "__name__", f) for f in StructureAdmin(Structure, site).list_filter
    }
