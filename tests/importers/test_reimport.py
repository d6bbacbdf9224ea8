"""A person's work wins over a re-import (issue 15.3)."""

import csv
import json

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from mediation.admin import ImportConflictAdmin
from mediation.importers import ImportFileError, Outcome, run_import
from mediation.models import ImportConflict, Membership, ServiceType, Structure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def census(hub_lo_path, tmp_path):
    rows = json.loads(hub_lo_path.read_text())[:3]
    path = tmp_path / "recensement.json"
    path.write_text(json.dumps(rows))
    return path, rows


def mediator_edit(structure, **changes):
    mediator = UserFactory()
    Membership.objects.create(user=mediator, structure=structure)
    structure = Structure.objects.get(pk=structure.pk)
    for name, value in changes.items():
        setattr(structure, name, value)
    structure._history_user = mediator
    structure.save()
    return mediator


def messages_of(report, structure):
    return next(r for r in report.results if r.source_id == structure.source_id).messages


def decide(conflicts, *, take_source):
    admin = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/")
    request.user = admin
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    model_admin = ImportConflictAdmin(ImportConflict, site)
    (model_admin.take_source if take_source else model_admin.keep_person)(request, conflicts)


def test_a_mediators_phone_survives_a_reimport_of_the_census_and_a_coordinator_chooses(census):
    path, rows = census
    run_import(path)
    place = Structure.objects.get(source_id=str(rows[0]["gid"]))
    census_phone = place.phone
    mediator_edit(place, phone="+33254998877", opening_hours="Mo-Fr 10:00-12:00")

    report = run_import(path)
    place.refresh_from_db()
    assert place.phone == "+33254998877"
    assert place.opening_hours == "Mo-Fr 10:00-12:00"
    # Nothing else changed: the place is unchanged, its date still the mediator's.
    assert report.results[0].outcome == Outcome.UNCHANGED
    assert place.date_maj == timezone.localdate()
    messages = messages_of(report, place)
    assert any(
        m.startswith("téléphone : valeur gardée : modifiée par un médiateur le ") for m in messages
    )
    assert any(census_phone in m for m in messages)
    assert "2 champs modifiés par des personnes" in report.summary()
    pending = ImportConflict.objects.filter(structure=place, state="pending")
    assert {c.field for c in pending} == {"phone", "opening_hours"}

    # Importing again does not pile up conflicts.
    run_import(path)
    assert ImportConflict.objects.filter(structure=place, state="pending").count() == 2

    decide(pending.filter(field="phone"), take_source=True)
    decide(pending.filter(field="opening_hours"), take_source=False)
    place.refresh_from_db()
    assert place.phone == census_phone
    assert place.opening_hours == "Mo-Fr 10:00-12:00"
    # The coordinator's choice holds at the next import: nothing new to decide.
    report = run_import(path)
    place.refresh_from_db()
    assert place.phone == census_phone and place.opening_hours == "Mo-Fr 10:00-12:00"
    assert not ImportConflict.objects.filter(structure=place, state="pending").exists()
    assert any("choix confirmé par un coordinateur" in m for m in messages_of(report, place))


def test_fields_nobody_touched_follow_the_source_and_overwrite_replaces_peoples_values(
    census, tmp_path
):
    path, rows = census
    run_import(path)
    place = Structure.objects.get(source_id=str(rows[0]["gid"]))
    mediator_edit(place, phone="+33254998877")
    place.kinds.set([ServiceType.objects.get(slug="fablab-makerspace")])

    rows[0]["c_nom"] = "Nouveau nom dans le recensement"
    path.write_text(json.dumps(rows))
    report = run_import(path)
    place.refresh_from_db()
    assert place.name == "Nouveau nom dans le recensement"
    assert place.phone == "+33254998877"
    assert [k.slug for k in place.kinds.all()] == ["fablab-makerspace"]
    assert any(
        m.startswith("types de structure : valeur gardée") for m in messages_of(report, place)
    )

    call_command("import_structures", str(path), "--overwrite", verbosity=0)
    place.refresh_from_db()
    assert place.phone != "+33254998877"
    assert [k.slug for k in place.kinds.all()] != ["fablab-makerspace"]
    assert not ImportConflict.objects.filter(structure=place, state="pending").exists()


def test_an_unchanged_file_is_still_unchanged(census):
    path, _rows = census
    first = run_import(path)
    again = run_import(path)
    assert again.count(Outcome.UNCHANGED) == first.accepted


def standard_file(path, name):
    columns = ["id", "nom", "adresse", "code_postal", "commune", "source", "date_maj"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerow(["lieu-1", name, "1 place de la Mairie", "36000", "Châteauroux", "", ""])
    return path


def test_files_without_a_source_are_refused_unless_given_one_and_never_collide(tmp_path):
    first = standard_file(tmp_path / "a.csv", "Lieu du premier fichier")
    second = standard_file(tmp_path / "b.csv", "Lieu du second fichier")
    with pytest.raises(ImportFileError, match="--source"):
        run_import(first)
    assert not Structure.objects.exists()

    run_import(first, source="Département de l’Indre")
    run_import(second, source="Ville de Châteauroux")
    assert sorted(Structure.objects.values_list("source", "name")) == [
        ("Département de l’Indre", "Lieu du premier fichier"),
        ("Ville de Châteauroux", "Lieu du second fichier"),
    ]
