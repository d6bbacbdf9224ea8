"""The standard's columns (mediation/standard.py) against the standard itself and the real sample.

What a partner relies on: our export has the 1.0.2 schema's columns, every value
we may store in a closed list is one the schema accepts, and a real file read in
then written out and read in again comes back to the same bytes, valid with 0
errors.
"""

import json
import re

import pytest
from django.core.management import call_command
from frictionless import Resource, Schema, system

from mediation import exporters, standard
from mediation.importers import Outcome, run_import
from mediation.models import Structure
from tests.importers.conftest import SCHEMA_1_0_2, shared_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_path():
    return shared_file(SCHEMA_1_0_2)


def test_the_export_has_the_schemas_columns_in_its_order(schema_path):
    fields = json.loads(schema_path.read_text(encoding="utf-8"))["fields"]
    assert tuple(field["name"] for field in fields) == standard.NAMES
    schema_required = {f["name"] for f in fields if f.get("constraints", {}).get("required")}
    # The importer refuses a row without these; the schema requires them too.
    assert set(standard.REQUIRED) <= schema_required


def test_every_value_of_a_closed_list_is_one_the_schema_accepts(schema_path):
    fields = {f["name"]: f for f in json.loads(schema_path.read_text(encoding="utf-8"))["fields"]}
    closed = [column for column in standard.COLUMNS if column.values]
    assert {c.name for c in closed} >= {"services", "frais_a_charge", "itinerance"}
    for column in closed:
        pattern = re.compile(fields[column.name]["constraints"]["pattern"])
        for value in column.values:
            written = exporters.SCHEMA_LABEL_SPELLING.get(value, value)
            assert pattern.fullmatch(written), (column.name, written)


def test_the_real_national_export_round_trips_and_validates(
    conseillers_path, schema_path, tmp_path
):
    run_import(conseillers_path)
    count = Structure.objects.published().count()
    assert count > 100
    first = tmp_path / "premier.csv"
    call_command("export_structures", "--output", str(first))
    with system.use_context(trusted=True):
        report = Resource(
            path=str(first), schema=Schema.from_descriptor(str(schema_path))
        ).validate()
    assert report.flatten(["rowNumber", "fieldName", "type", "note"]) == []
    assert report.task.stats["rows"] == count

    Structure.objects.all().delete()
    assert run_import(first).count(Outcome.CREATED) == count
    second = tmp_path / "second.csv"
    call_command("export_structures", "--output", str(second))
    assert second.read_bytes() == first.read_bytes()
