"""The exports stream (constant memory at 100,000 places) and say exactly what they said whole."""

import io

import orjson
import pytest
from django.core.management import call_command

from mediation import csvfiles, exporters
from mediation.api.renderers import dumps
from mediation.api.serializers import structure_queryset, structure_rows, structure_values
from mediation.models import Structure
from tests.factories import StopFactory
from tests.mediation.test_exporters import varied_structures

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    varied_structures()
    StopFactory(structure=Structure.objects.published().first())


def body(response):
    assert response.status_code == 200
    assert response.streaming  # never built whole in memory
    return b"".join(response.streaming_content)


def whole_csv(records):
    """The CSV as the export wrote it before it streamed: one writer, one pass."""
    buffer = io.StringIO()
    writer = csvfiles.Writer(
        buffer,
        exporters.STANDARD_FIELDS,
        exact=exporters.CSV_EXACT_COLUMNS,
        lineterminator="\r\n",
    )
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()


def whole_json(records):
    rows = [
        {column: exporters._json_value(r[column]) for column in exporters.STANDARD_FIELDS}
        for r in records
    ]
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2)


def test_standard_csv_streams_the_same_bytes(client, places):
    records = list(exporters.standard_records())
    assert len(records) > 290
    assert body(client.get("/api/v1/lieux-mediation-numerique.csv")) == whole_csv(records)
    # Chunk borders never show: seven rows at a time give the same file.
    chunks = list(exporters.standard_csv_chunks(records, rows_per_chunk=7))
    assert len(chunks) > 40
    assert "".join(chunks).encode() == whole_csv(records)


def test_standard_json_streams_the_same_bytes(client, places):
    records = list(exporters.standard_records())
    assert body(client.get("/api/v1/lieux-mediation-numerique.json")) == whole_json(records)
    chunks = list(exporters.standard_json_chunks(records, rows_per_chunk=7))
    assert b"".join(chunks) == whole_json(records)
    assert exporters.standard_json([]) == orjson.dumps([], option=orjson.OPT_INDENT_2)


def test_filtered_export_streams_only_the_filtered_places(client, places):
    queryset = Structure.objects.published().filter(commune__department_id="36")
    records = list(exporters.standard_records(queryset))
    response = client.get("/api/v1/lieux-mediation-numerique.csv", {"departement": "36"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="lieux-mediation-numerique-centre-val-de-loire.csv"'
        in response["Content-Disposition"]
    )
    assert body(response) == whole_csv(records)


def test_geojson_streams_the_same_bytes_with_its_stops(client, places):
    queryset = structure_queryset(Structure.objects.published()).order_by("name", "pk")
    items = structure_rows(structure_values(queryset), None)
    # Absolute page addresses, as the view writes them.
    prefix = "http://testserver"
    for item in items:
        item["url"] = prefix + item["url"]
    items += exporters.stop_items(queryset)
    response = client.get("/api/v1/structures/geojson/")
    assert response["Content-Type"] == "application/geo+json"
    streamed = body(response)
    assert streamed == dumps(exporters.feature_collection(items))
    assert orjson.loads(streamed)["features"][-1]["properties"]["etape_de"]


def test_a_revalidation_still_gets_304(client, places):
    first = client.get("/api/v1/lieux-mediation-numerique.json")
    body(first)
    again = client.get("/api/v1/lieux-mediation-numerique.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
