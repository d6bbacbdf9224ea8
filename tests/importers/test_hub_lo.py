"""The regional census (../shared/data/hub-lo/hub-lo.json, 426 real places)."""

import json

import pytest
from django.core.management import call_command

from mediation.importers import Outcome, run_import
from mediation.importers.hub_lo import resolve_bassin
from mediation.models import Structure, planar_distance

pytestmark = pytest.mark.django_db


def test_census_is_imported_every_rejection_explained_and_a_second_run_changes_nothing(hub_lo_path):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    report = run_import(hub_lo_path)
    assert report.format == "hub-lo"
    assert len(report.results) == 426
    assert report.accepted / 426 >= 0.95
    rejected = [r for r in report.results if r.outcome == Outcome.REJECTED]
    assert all(r.messages and r.messages[0] for r in rejected)
    # Loading real data removed the 293 demo structures.
    assert report.demo_removed == 293
    assert not Structure.objects.demo().exists()
    assert Structure.objects.count() == report.accepted
    history_rows = Structure.history.count()

    again = run_import(hub_lo_path)
    assert again.count(Outcome.UNCHANGED) == report.accepted
    assert again.count(Outcome.CREATED) == again.count(Outcome.UPDATED) == 0
    assert Structure.history.count() == history_rows

    # A few rows a user would look at.
    fabrique = Structure.objects.get(source_id="1")
    assert fabrique.uid == "hub-lo-1"
    assert fabrique.phone == "+33210726533"
    assert fabrique.postal_code == "18000"
    assert fabrique.commune.name == "Bourges"
    assert fabrique.wheelchair_accessible is True
    assert [k.slug for k in fabrique.kinds.all()] == ["coworking"]
    assert fabrique.information_updated_at.date().isoformat() == "2020-06-30"
    assert fabrique.verified_at is None  # nobody verified it here
    assert fabrique.history.first().history_change_reason.startswith("Import")
    # Every structure is placed in a commune of the region and on the map, near
    # its commune: the census's points set in other regions were set aside.
    assert not Structure.objects.filter(commune__isnull=True).exists()
    assert not Structure.objects.filter(latitude__isnull=True).exists()
    far = [
        s.name
        for s in Structure.objects.select_related("commune")
        if planar_distance(s.latitude, s.longitude, s.commune.latitude, s.commune.longitude) > 20
    ]
    assert far == []
    moved = [r for r in report.results if any("écartée" in m for m in r.messages)]
    assert len(moved) >= 10  # 16 in the February 2023 export
    tours_nord = Structure.objects.get(name="PIJ Tours-Nord")
    assert "Position d’origine, écartée : 43." in tours_nord.import_note


def test_hours_are_converted_or_kept_as_text_and_reported(hub_lo_path, tmp_path):
    rows = json.loads(hub_lo_path.read_text())
    picked = [
        next(r for r in rows if r["c_horaire_ouverture"] == text)
        for text in (
            "DU LUNDI AU VENDREDI de 9h à 12h et de 14h à 17h",
            "2ème Jeudi du mois de 14h à 17h",
            "Sur RDV : 02.19.55.62.93",
        )
    ]
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps(picked))
    report = run_import(path)
    by_hours = {s.opening_hours: s for s in Structure.objects.all()}
    assert "Mo-Fr 09:00-12:00,14:00-17:00" in by_hours
    assert "Th[2] 14:00-17:00" in by_hours
    unparsed = by_hours[""]
    assert unparsed.opening_hours_note == "Sur RDV : 02.19.55.62.93"
    remark = next(r for r in report.results if r.source_id == unparsed.source_id).messages
    assert any("horaires non convertis" in m for m in remark)


def test_census_defects_are_repaired(hub_lo_path, tmp_path):
    rows = json.loads(hub_lo_path.read_text())
    email_in_status = next(r for r in rows if "@" in r["c_statut_juridique"])
    integer_phone = next(r for r in rows if isinstance(r["c_telephone"], int))
    hours_in_public = next(r for r in rows if r["c_public_cible"] == "10h-18h")
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([email_in_status, integer_phone, hours_in_public]))
    run_import(path)
    status_row = Structure.objects.get(source_id=str(email_in_status["gid"]))
    assert email_in_status["c_statut_juridique"] in status_row.emails
    phone_row = Structure.objects.get(source_id=str(integer_phone["gid"]))
    assert phone_row.phone == "+33" + str(integer_phone["c_telephone"])
    hours_row = Structure.objects.get(source_id=str(hours_in_public["gid"]))
    assert hours_row.opening_hours == "Mo-Th 10:00-18:00"
    # The text that was in the hours column is not lost.
    assert hours_in_public["c_horaire_ouverture"] in hours_row.opening_hours_note


def test_the_23_census_bassin_names_all_resolve(hub_lo_path):
    names = {r["c_bassin_de_vie"] for r in json.loads(hub_lo_path.read_text())} - {""}
    assert len(names) == 23
    resolved = {name: resolve_bassin(name) for name in names}
    assert all(resolved.values()), [n for n, b in resolved.items() if b is None]
    assert len({b.pk for b in resolved.values()}) == 23


def test_dry_run_writes_nothing_and_keeps_the_demo(hub_lo_path, tmp_path):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    rows = json.loads(hub_lo_path.read_text())[:5]
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps(rows))
    report = run_import(path, dry_run=True)
    assert report.count(Outcome.CREATED) == 5
    assert report.demo_removed == 293
    assert Structure.objects.count() == 293
    assert Structure.objects.demo().count() == 293
