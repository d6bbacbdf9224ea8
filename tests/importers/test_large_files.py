"""A national file of 100,000 places imports within bounds (issue 14.4): it is read a
chunk at a time, and a second run of the same file skips the rows nothing changed."""

import json

import pytest

from mediation.importers import ImportFileError, Outcome, run_import
from mediation.importers import files as import_files
from mediation.importers.batch import ImportBatch
from mediation.models import Structure
from tests.importers.test_standard import place, write_csv

pytestmark = pytest.mark.django_db


def places(n):
    return [place(id=f"lieu-{i}", nom=f"Médiathèque {i}") for i in range(n)]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ImportBatch, "CHUNK", 2)


@pytest.fixture
def records_read_at_each_write(monkeypatch):
    """How many records the file had given when each chunk was written."""
    read, written = [0], []
    original_with_source = import_files._with_source

    def counted(record, source):
        read[0] += 1
        return original_with_source(record, source)

    original_flush = ImportBatch.flush

    def flush(self):
        written.append(read[0])
        return original_flush(self)

    monkeypatch.setattr(import_files, "_with_source", counted)
    monkeypatch.setattr(ImportBatch, "flush", flush)
    return written


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_a_file_is_read_a_chunk_at_a_time(tmp_path, small_chunks, records_read_at_each_write, kind):
    if kind == "csv":
        path = write_csv(tmp_path / "lieux.csv", places(7))
    else:
        path = tmp_path / "lieux.json"
        path.write_text(json.dumps(places(7)), encoding="utf-8")
    report = run_import(path)
    assert report.count(Outcome.CREATED) == 7
    # Each chunk is written before the next one is read: never more than a chunk in hand.
    assert records_read_at_each_write == [2, 4, 6, 7]


def test_a_checked_file_keeps_only_a_sample_of_its_records(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", places(120))
    import_file = import_files.open_import_file(path)
    assert len(import_file.sample) == import_files.SAMPLE < 120
    assert sum(1 for _ in import_file.records()) == 120


def full_cleans(monkeypatch):
    """From now on, the source ids of the places checked by `Structure.full_clean()`."""
    checked = []
    original = Structure.full_clean

    def full_clean(self, *args, **kwargs):
        checked.append(self.source_id)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Structure, "full_clean", full_clean)
    return checked


def test_a_second_run_of_the_same_file_skips_the_model_checks_and_keeps_the_report(
    tmp_path, monkeypatch
):
    rows = [*places(3), place(id="sans-date", nom="Mairie", date_maj="")]
    path = write_csv(tmp_path / "lieux.csv", rows)
    first = run_import(path)
    checked = full_cleans(monkeypatch)
    second = run_import(path)
    assert second.count(Outcome.UNCHANGED) == 4
    assert checked == []
    # The same remarks as when the row was checked.
    assert [r.messages for r in second.results] == [r.messages for r in first.results]
    assert "date de mise à jour absente de la source" in second.results[-1].messages
    assert not Structure.history.filter(history_type="~").exists()


def test_a_changed_row_or_a_place_changed_since_is_checked_again(tmp_path, monkeypatch):
    run_import(write_csv(tmp_path / "lieux.csv", places(3)))
    moved = Structure.objects.get(source_id="lieu-1")
    moved.address = "3 rue Neuve"
    moved.save()
    rows = places(3)
    rows[2]["adresse"] = "12 avenue de la Gare"
    checked = full_cleans(monkeypatch)
    report = run_import(write_csv(tmp_path / "lieux.csv", rows))
    assert sorted(checked) == ["lieu-1", "lieu-2"]
    assert [r.outcome for r in report.results] == [
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,  # the person's address is kept (see test_reimport)
        Outcome.UPDATED,
    ]
    assert Structure.objects.get(source_id="lieu-1").address == "3 rue Neuve"
    assert Structure.objects.get(source_id="lieu-2").address == "12 avenue de la Gare"


def test_a_row_outside_the_region_lists_its_other_problems_after_the_reason(tmp_path):
    row = place(
        id="paris", commune="Paris", code_postal="75011", code_insee="75056", latitude="inf"
    )
    (result,) = run_import(write_csv(tmp_path / "lieux.csv", [row])).results
    assert result.outcome == Outcome.REJECTED
    assert result.messages[0] == (
        "Aucune commune de la région ne correspond à « 75011 Paris » (lieu hors de la région ?)."
    )
    assert any(m.startswith("latitude ") and "écartée" in m for m in result.messages[1:])


def test_a_file_of_blank_lines_is_empty(tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="vide"):
        run_import(path)
