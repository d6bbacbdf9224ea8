"""OpenAPI schema, French documentation page, and a schemathesis run against the schema."""

import re

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from mediation import choices
from tests.api.fuzzing import Record
from tests.factories import StopFactory, StructureFactory

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3.")
    for path in (
        "/api/v1/structures/",
        "/api/v1/structures/geojson/",
        "/api/v1/lieux-mediation-numerique.csv",
        "/api/v1/communes/",
        "/api/v1/bassins/",
    ):
        assert f"  {path}:" in text


def test_documentation_page_in_french_without_any_cdn(client):
    response = client.get("/api/v1/documentation/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Authorization: Token" in html and "Retry-After" in html and "near=" in html
    explorer = client.get("/api/v1/explorer/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html + explorer)
    assert sources
    assert all(not s.startswith(("http://", "https://", "//")) or "/api/v1/" in s for s in sources)
    assert "/static/drf_spectacular_sidecar/" in explorer


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schemathesis_finds_no_server_error_and_no_response_contradicting_the_schema(
    no_rate_limit, keep_test_connection
):
    itinerant = StructureFactory(
        uid="bus-1",
        itinerance=[choices.Itinerance.ITINERANT],
        services=[choices.Service.DEMARCHES],
        fees=[choices.Frais.GRATUIT],
    )
    StopFactory(structure=itinerant)
    StructureFactory(latitude=None, longitude=None)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    record = Record()
    for operation in operations:

        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def check(case):
            # The WSGI test client does not decompress: ask for plain bodies.
            response = case.call_and_validate(
                checks=checks, headers={"Accept-Encoding": "identity"}
            )
            record.add(case.formatted_path, response.status_code, response.elapsed)

        check()
    record.report("schemathesis")
    assert record.server_errors == []
