"""Every CSV the site writes is safe to open in a spreadsheet (OWASP CSV injection),
and validated columns stay exactly as the national standard requires."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from frictionless import Resource, Schema, system

from mediation import csvfiles
from mediation.importers.runner import ImportReport, Outcome, RowResult
from tests.factories import StructureFactory, commune

SCHEMA = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/standard/schema-lieux-mediation-numerique-1.0.2.json"
)

ATTACKS = {
    "name": '=HYPERLINK("http://x","clic")',
    "address": "+cmd|' /C calc'!A0",
    "summary": "@SUM(1)",
    "description": "\t=1+1",
    "parent_structure": "-2+3",
}


def rows_of(text):
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","clic")', '\'=HYPERLINK("http://x","clic")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Médiathèque = savoir", "Médiathèque = savoir"),  # only the first character counts
        ("", ""),
        (None, ""),
        (-0.25, "-0.25"),  # a number is a number
        (12, "12"),
    ],
)
def test_free_text_cells_are_neutralised(value, written):
    assert csvfiles.cell(value) == written


def test_validated_columns_are_kept_only_when_they_match_their_pattern():
    assert csvfiles.cell("+33254000000", csvfiles.NUMBER) == "'+33254000000"
    assert csvfiles.cell("-0.5", csvfiles.NUMBER) == "-0.5"
    assert csvfiles.cell("-0.5+cmd", csvfiles.NUMBER) == "'-0.5+cmd"


@pytest.fixture
def attacked(db):
    return StructureFactory(**ATTACKS, phone="+33254000000", commune=commune("36044"))


def check_attacked(record):
    for attribute, column in [
        ("name", "nom"),
        ("address", "adresse"),
        ("summary", "presentation_resume"),
        ("description", "presentation_detail"),
        ("parent_structure", "structure_parente"),
    ]:
        assert record[column] == "'" + ATTACKS[attribute], column
    assert record["telephone"] == "+33254000000"  # E.164 as the standard requires
    assert record["latitude"] == repr(commune("36044").latitude)
    assert record["code_postal"] == "36000"
    assert len(record["date_maj"]) == 10


def test_the_standard_export_neutralises_formulas_and_still_validates(attacked, tmp_path):
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} absent : le schéma du standard est dans ../shared/data.")
    path = tmp_path / "lieux.csv"
    call_command("export_structures", "--output", str(path))
    (record,) = rows_of(path.read_text(encoding="utf-8"))
    check_attacked(record)
    with system.use_context(trusted=True):
        report = Resource(path=str(path), schema=Schema.from_descriptor(str(SCHEMA))).validate()
    assert report.flatten(["rowNumber", "fieldName", "note"]) == []
    assert report.valid


def test_the_api_csv_is_the_same_safe_file(client, attacked):
    response = client.get(reverse("api:export-csv"))
    (record,) = rows_of(response.getvalue().decode())
    check_attacked(record)


def test_the_import_report_csv_neutralises_names_and_identifiers(tmp_path):
    report = ImportReport(path="x.csv", format="standard", dry_run=False)
    report.results.append(
        RowResult(
            line=2,
            source_id="=1+1",
            name=ATTACKS["name"],
            outcome=Outcome.REJECTED,
            messages=["@commune inconnue"],
        )
    )
    path = tmp_path / "rapport.csv"
    report.write_csv(path)
    (row,) = rows_of(path.read_text(encoding="utf-8"))
    assert row == {
        "ligne": "2",
        "identifiant": "'=1+1",
        "nom": "'" + ATTACKS["name"],
        "résultat": "rejetée",
        "détails": "'@commune inconnue",
    }


def test_find_duplicates_csv_neutralises_names(db, tmp_path):
    for _ in range(2):
        StructureFactory(name="=cmd|' /C calc'!A0", address="1 place de la Gare")
    path = tmp_path / "doublons.csv"
    call_command("find_duplicates", "--csv", str(path), stdout=io.StringIO())
    (row,) = rows_of(path.read_text(encoding="utf-8"))
    assert row["nom_1"] == row["nom_2"] == "'=cmd|' /C calc'!A0"
