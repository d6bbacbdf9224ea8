"""`date_maj` is the date the information changed, never the day it was loaded (issue 9.5)."""

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mediation import exporters
from mediation.importers import run_import
from mediation.models import ServiceType, Structure
from mediation.space import actions
from tests.factories import StopFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db


def exported(uid):
    return next(r for r in exporters.standard_records() if r["id"] == uid)


def test_the_demo_fixture_keeps_its_own_dates_in_the_page_and_the_export(client):
    call_command("load_initial_data", verbosity=0)
    demo = Structure.objects.get(uid="demo-0078")
    # Its information dates from 30 December 2023, confirmed on 17 January 2024.
    assert demo.information_updated_at.date() == date(2023, 12, 30)
    assert exported("demo-0078")["date_maj"] == date(2024, 1, 17)
    page = client.get(demo.get_absolute_url()).text
    assert "vérifiées par le lieu le 17 janvier 2024" in page
    assert "Modifiée le 30 décembre 2023" in page
    listed = client.get(reverse("api:structure-list"), {"page_size": 500}).json()["results"]
    assert next(r for r in listed if r["id"] == "demo-0078")["date_maj"] == "2024-01-17"
    detail = client.get(reverse("api:structure-detail", args=["demo-0078"])).json()
    assert detail["date_maj"] == "2024-01-17"


def test_an_import_dates_the_information_with_the_census_date(hub_lo_path, tmp_path):
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps(json.loads(hub_lo_path.read_text())[:1]))
    run_import(path)
    place = Structure.objects.get()
    assert exported(place.uid)["date_maj"] == date(2020, 6, 30)
    assert place.verified_at is None
    run_import(path)  # the same file again: still the source's date
    assert exported(place.uid)["date_maj"] == date(2020, 6, 30)


def test_a_persons_change_dates_the_information_today_but_a_publication_does_not():
    long_ago = timezone.now() - timedelta(days=900)
    place = StructureFactory(information_updated_at=long_ago)
    assert place.date_maj == timezone.localdate(long_ago)
    place = Structure.objects.get(pk=place.pk)
    actions.set_status(structure=place, status=Structure.Status.DRAFT, user=UserFactory())
    assert Structure.objects.get(pk=place.pk).information_updated_at == long_ago

    place = Structure.objects.get(pk=place.pk)
    place.phone = "+33254999999"
    place.save()
    assert Structure.objects.get(pk=place.pk).date_maj == timezone.localdate()


def test_kinds_and_stops_are_information_too():
    long_ago = timezone.now() - timedelta(days=900)
    place = Structure.objects.get(pk=StructureFactory(information_updated_at=long_ago).pk)
    place.kinds.add(ServiceType.objects.get(slug="fablab-makerspace"))
    assert Structure.objects.get(pk=place.pk).date_maj == timezone.localdate()

    Structure.objects.filter(pk=place.pk).update(information_updated_at=long_ago)
    StopFactory(structure=place)
    assert Structure.objects.get(pk=place.pk).date_maj == timezone.localdate()


def test_the_verification_stays_separate_and_counts_as_confirmation():
    long_ago = timezone.now() - timedelta(days=900)
    place = StructureFactory(information_updated_at=long_ago)
    actions.mark_verified(structure=Structure.objects.get(pk=place.pk), user=UserFactory())
    place = Structure.objects.get(pk=place.pk)
    assert place.information_updated_at == long_ago
    assert timezone.localtime(place.verified_at).date() == timezone.localdate()
    assert place.date_maj == timezone.localdate()


def test_the_rule_is_written_in_the_api_documentation(client):
    page = client.get(reverse("api:documentation")).text
    assert "Jamais la date à" in page and "c__edit_datemaj" in page


def test_the_migration_moves_an_imports_date_out_of_the_verification_date():
    from importlib import import_module

    from django.apps import apps
    from simple_history.utils import update_change_reason

    migration = import_module("mediation.migrations.0017_date_information_finite_positions")
    source_date = timezone.now() - timedelta(days=1000)
    imported = StructureFactory()
    imported.verified_at = source_date  # what imports used to write
    imported.save()
    update_change_reason(imported, "Import hub-lo")
    verified = StructureFactory(verified_at=timezone.now())
    Structure.objects.update(information_updated_at=None)

    migration.date_information(apps, None)
    imported.refresh_from_db()
    assert imported.information_updated_at == source_date
    assert imported.verified_at is None
    verified.refresh_from_db()
    assert verified.verified_at is not None
    assert verified.information_updated_at == verified.updated_at
