"""Fuzzing: hostile query strings on every endpoint, on SQLite and PostgreSQL.

Hypothesis builds query strings from every documented parameter and a few
unknown ones, with the values that broke the API before (issue 15): huge
integers, long and unicode strings, NUL and control characters, inf/NaN,
reversed bounds, repeated and empty keys. Every answer must be a 2xx/3xx/4xx;
the counts and the slowest answer are printed (run with -s) and written to
benchmarks/results/fuzz-<database>.json for the record. The schemathesis run
over the OpenAPI schema is in test_schema.py.
"""

import math
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from mediation import choices
from tests.api.fuzzing import Record
from tests.factories import StopFactory, StructureFactory

pytestmark = pytest.mark.django_db

STRUCTURE_PARAMETERS = [
    "type", "service", "public", "prise_en_charge", "frais", "gratuit", "accessible", "bassin",
    "departement", "commune", "q", "near", "radius", "bbox", "updated_since", "ordering",
]  # fmt: skip
ENDPOINTS = {
    "/api/v1/structures/": [*STRUCTURE_PARAMETERS, "page", "page_size"],
    "/api/v1/structures/geojson/": STRUCTURE_PARAMETERS,
    "/api/v1/lieux-mediation-numerique.csv": STRUCTURE_PARAMETERS,
    "/api/v1/lieux-mediation-numerique.json": STRUCTURE_PARAMETERS,
    "/api/v1/structures/retraits/": ["updated_since", "page", "page_size"],
    "/api/v1/communes/": ["q", "departement", "bassin", "page", "page_size"],
    "/api/v1/structures/hub-lo-1/": ["format"],
    "/": ["q", "lat", "lon", "page", "type", "service", "public", "support", "free", "open_now"],
}
UNKNOWN = ["dispositif", "Q", "q[]", "page_size ", "", "format"]

KNOWN_BAD = [
    "9223372036854775807", "99999999999999999999999", "-9223372036854775809", "0", "-1",
    "inf", "-inf", "nan", "NaN", "1e308", "-0", "", " ", "\x00", "caf\x00é", "\t\r\n",
    "nom,", ",nom", "nom,,", "-", "--nom", "0001-01-01", "9999-12-31T23:59:59-14:00",
    "2024-02-30", "2024-01-01T25:61:00Z", "47.39,0.69", "95,200", "47.39,0.69,1",
    "1,2,3,4", "4,3,2,1", "-180,-90,180,90", "true", "maybe", "2", "TRUE", "médiathèque",
    "MÉDIATHÈQUE", "É", "%", "_", "'; DROP TABLE x;--", "../../etc/passwd", "ﬁ", "\U0001f600",
]  # fmt: skip


def numbers():
    floats = st.floats(allow_nan=True, allow_infinity=True)
    return st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        floats.map(repr),
        st.tuples(floats, floats).map(lambda p: f"{p[0]},{p[1]}"),
        st.lists(floats, min_size=4, max_size=4).map(lambda q: ",".join(map(str, q))),
    )


def values():
    return st.one_of(
        st.sampled_from(KNOWN_BAD),
        numbers(),
        st.text(max_size=60),  # any unicode, control characters included
        st.text(min_size=150, max_size=400),
        st.builds(lambda word, n: " ".join([word] * n), st.sampled_from(["é", "mediatheque"]), st.integers(1, 3000)),
        st.sampled_from([c.value for c in choices.Service] + ["mediatheque", "france-services"]),
    )  # fmt: skip


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def some_places():
    bus = StructureFactory(uid="hub-lo-1", itinerance=[choices.Itinerance.ITINERANT])
    StopFactory(structure=bus)
    StructureFactory(name="Médiathèque Équinoxe", fees=[choices.Frais.GRATUIT])
    StructureFactory(latitude=None, longitude=None, status=choices.Status.ARCHIVED)
    StructureFactory(uid="supprime").delete()


def test_hostile_query_strings_never_cause_a_server_error(client, no_rate_limit, some_places):
    for endpoint in ENDPOINTS:  # a running server is warm: first answers build caches
        client.get(endpoint)
    record = Record()

    @settings(
        max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        endpoint=st.sampled_from(sorted(ENDPOINTS)),
        data=st.data(),
    )
    def check(endpoint, data):
        names = st.sampled_from(ENDPOINTS[endpoint] + UNKNOWN)
        pairs = data.draw(st.lists(st.tuples(names, values()), max_size=5))  # repeats allowed
        record.call(client, f"{endpoint}?{urlencode(pairs)}")

    check()
    record.report("hypothesis")
    assert record.server_errors == []


def test_the_requests_of_issue_15_answer_4xx_or_200(client, no_rate_limit, some_places):
    """Each request of the issue, replayed on every endpoint it concerns."""
    record = Record()
    hostile = [
        {"q": "médiathèque " * 4000},
        {"q": " ".join(["mot"] * 2000)},
        *({"ordering": value} for value in ("nom,", ",nom", "nom,,")),
        {"near": "47.39,0.69", "page": "99999999999999999999999"},
        {"near": "47.39,0.69", "page": "9223372036854775807"},
        {"updated_since": "0001-01-01"},
        {"updated_since": "9999-12-31T23:59:59-14:00"},
        {"gratuit": "maybe"},
        {"accessible": "2"},
        {"type": ""},
        {"dispositif": "France Services"},
        {"bbox": "4,3,2,1"},
        {"radius": "nan", "near": "47.39,0.69"},
        {"radius": "inf", "near": "47.39,0.69"},
    ]
    for endpoint in list(ENDPOINTS)[:4]:
        for params in hostile:
            response = record.call(client, f"{endpoint}?{urlencode(params)}")
            assert response.status_code in (400, 404), (endpoint, params, response.content[:200])
    site = record.call(client, "/?" + urlencode({"q": "chateauroux " * 4000, "page": "9" * 30}))
    assert site.status_code == 200
    record.report("replay")
    assert record.server_errors == []
    assert not math.isnan(record.slowest[0])
