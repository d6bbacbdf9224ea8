"""An import written in bulk keeps every promise of a row-by-row one (issue 14.4):
history of what changed, kinds, unique slugs, the data version, the communes'
coverage, tombstones, and places outside the region rejected first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation import versioning
from mediation.importers import Outcome, batch, run_import
from mediation.importers.batch import ImportBatch
from mediation.models import Structure, Tombstone
from mediation.provenance import IMPORT_CHANGE_REASON
from territories.models import CommuneCoverage
from tests.importers.test_standard import place, write_csv

pytestmark = pytest.mark.django_db


def history_of(structure):
    return list(structure.history.order_by("history_date", "history_id"))


def test_each_created_or_changed_place_has_one_history_record_with_its_kinds(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", [place(), place(id="lieu-2", nom="Mairie")])
    run_import(path)
    first = Structure.objects.get(uid="lieu-1")
    (created,) = history_of(first)
    assert created.history_type == "+"
    assert created.history_change_reason == f"{IMPORT_CHANGE_REASON} standard"
    assert created.name == "Médiathèque Équinoxe"
    # The record holds the place's kinds, as a record saved one by one does.
    assert sorted(k.servicetype.slug for k in created.kinds.all()) == ["france-services"]

    run_import(path)  # nothing changed: no new record
    assert len(history_of(first)) == 1

    changed = write_csv(
        tmp_path / "lieux.csv",
        [place(nom="Médiathèque Équinoxe (2ᵉ étage)", dispositif_programmes_nationaux="")],
    )
    report = run_import(changed)
    assert report.count(Outcome.UPDATED) == 1
    first.refresh_from_db()
    assert first.name == "Médiathèque Équinoxe (2ᵉ étage)"
    assert first.search_text.startswith("mediatheque equinoxe 2e etage|")
    *_, updated = history_of(first)
    assert updated.history_type == "~"
    assert updated.name == first.name
    assert updated.updated_at == first.updated_at
    # The kinds a file brings are added (the standard names none of its own).
    assert sorted(k.servicetype.slug for k in updated.kinds.all()) == ["france-services"]
    assert list(first.kinds.values_list("slug", flat=True)) == ["france-services"]


def test_places_with_the_same_name_in_one_file_get_different_slugs(tmp_path, monkeypatch):
    monkeypatch.setattr(ImportBatch, "CHUNK", 2)  # within a chunk and across chunks
    Structure.objects.create(
        name="Mairie", address="1 rue", postal_code="36000", city="Châteauroux"
    )
    rows = [place(id=f"lieu-{n}", nom="Mairie", code_postal="36000") for n in range(3)]
    run_import(write_csv(tmp_path / "lieux.csv", rows))
    slugs = sorted(Structure.objects.values_list("slug", flat=True))
    assert slugs == [
        "mairie-chateauroux",
        "mairie-chateauroux-2",
        "mairie-chateauroux-3",
        "mairie-chateauroux-4",
    ]


def test_a_place_outside_the_region_is_rejected_before_anything_else(tmp_path):
    rows = [
        place(id="paris", commune="Paris", code_postal="75011", code_insee="75056", nom=""),
        place(id="paris", commune="Paris", code_postal="75011", code_insee="75056"),
        place(),
    ]
    report = run_import(write_csv(tmp_path / "lieux.csv", rows))
    paris, again, chateauroux = report.results
    # Out of the region: said first, then what else is wrong with the row.
    assert paris.outcome == Outcome.REJECTED
    assert paris.messages == [
        "Aucune commune de la région ne correspond à « 75011 Paris » (lieu hors de la région ?).",
        "Nom du lieu (« nom ») manquant.",
    ]
    assert again.messages == ["identifiant « paris » déjà présent à la ligne 1"]
    assert chateauroux.outcome == Outcome.CREATED
    assert list(Structure.objects.values_list("uid", flat=True)) == ["lieu-1"]


def test_a_file_is_read_and_written_with_a_few_queries_per_chunk(tmp_path):
    rows = [place(id=f"lieu-{n}", nom=f"Lieu {n}") for n in range(60)]
    path = write_csv(tmp_path / "lieux.csv", rows)
    with CaptureQueriesContext(connection) as first:
        assert run_import(path).count(Outcome.CREATED) == 60
    with CaptureQueriesContext(connection) as second:
        assert run_import(path).count(Outcome.UNCHANGED) == 60
    # Neither grows with the rows (one query per row would be over 60).
    assert len(first) < 40
    assert len(second) < 30


def test_the_data_version_moves_and_a_deleted_places_tombstone_goes(
    tmp_path, django_capture_on_commit_callbacks
):
    Tombstone.objects.create(uid="lieu-1", deleted_at="2026-01-01T00:00:00Z")
    stamp, _ = versioning.structures_version()
    with django_capture_on_commit_callbacks(execute=True):
        run_import(write_csv(tmp_path / "lieux.csv", [place()]))
    assert versioning.structures_version()[0] != stamp
    assert not Tombstone.objects.exists()


@pytest.mark.coverage
def test_the_communes_coverage_follows_an_import(tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_import(write_csv(tmp_path / "lieux.csv", [place()]))
    chateauroux = CommuneCoverage.objects.get(commune_id="36044")
    assert chateauroux.nearest_km is not None


def test_a_dry_run_writes_nothing(tmp_path):
    report = run_import(write_csv(tmp_path / "lieux.csv", [place()]), dry_run=True)
    assert report.count(Outcome.CREATED) == 1
    assert not Structure.objects.exists()
    assert not Structure.history.exists()


def _analyzed_rows(table):
    """The row count the planner's statistics hold for `table`, or None."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            (count,) = cursor.fetchone()
            return None if count < 0 else int(count)
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx IS NULL", [table])
        found = cursor.fetchone()
        if found is None:  # a table with indexes has one line per index, each led by the count
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
            found = cursor.fetchone()
        return None if found is None else int(found[0].split()[0])


def test_an_import_refreshes_the_planners_statistics_after_commit(
    tmp_path, django_capture_on_commit_callbacks
):
    # Without statistics SQLite chose a slower index for the search page at
    # 100,000 places; an import now tells the planner how many rows it wrote.
    table = Structure._meta.db_table
    path = write_csv(
        tmp_path / "lieux.csv",
        [place(id=f"lieu-{n}", nom=f"Lieu numéro {n}") for n in range(1, 4)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = run_import(path)
    assert report.count(Outcome.CREATED) == 3
    assert _analyzed_rows(table) == Structure.objects.count() == 3


def test_a_dry_run_leaves_the_statistics_alone(tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "lieux.csv", [place()])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(path, dry_run=True)
    assert callbacks == []


def test_statistics_that_cannot_be_refreshed_leave_the_import_done(
    tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    class Missing:
        class _meta:
            db_table = "no_such_table_for_statistics"

    monkeypatch.setattr(batch, "ANALYZED", (Missing,))
    path = write_csv(tmp_path / "lieux.csv", [place()])
    with django_capture_on_commit_callbacks(execute=True):
        report = run_import(path)
    assert report.count(Outcome.CREATED) == 1
    assert Structure.objects.filter(uid="lieu-1").exists()  # still usable after the failure
    assert "Statistiques du planificateur non rafraîchies" in caplog.text
