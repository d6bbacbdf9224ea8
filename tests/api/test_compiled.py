"""The list near a point, from the statement kept per shape of filters
(`mediation/api/compiled.py`), answers byte for byte what the ORM's statement
answers, whatever the values of the request."""

import pytest
from django.core.cache import cache

from mediation import statements
from mediation.api import compiled
from mediation.models import StructureQuerySet
from tests.api import test_fast_path

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"
census = test_fast_path.census  # the real census, with itinerant places

# Each shape with two sets of values: the second request fills in the first's statement.
SHAPES = [
    [{}, {}],
    [{"radius": "40"}, {"radius": "12.5"}],
    [{"radius": "40", "type": "mediatheque"}, {"radius": "60", "type": "mediatheque"}],
    [
        {"radius": "60", "service": "Aide aux démarches administratives"},
        {"radius": "30", "service": "Aide aux démarches administratives"},
    ],
    [{"radius": "60", "public": "Seniors"}, {"radius": "90", "public": "Seniors"}],
    [{"radius": "60", "gratuit": "false"}, {"radius": "80", "gratuit": "false"}],
    [{"radius": "60", "accessible": "true"}, {"radius": "70", "accessible": "true"}],
    [{"radius": "60", "bassin": "tours"}, {"radius": "100", "bassin": "amboise"}],
    [{"radius": "60", "departement": "37"}, {"radius": "150", "departement": "41"}],
    [{"radius": "60", "commune": "37261"}, {"radius": "60", "commune": "37050"}],
    [{"bbox": "0.5,47.2,0.9,47.5"}, {"bbox": "0.6,47.3,0.8,47.45", "radius": "30"}],
    [{"radius": "200", "page_size": "7", "page": "3"}, {"radius": "150", "page": "2"}],
]


def points(tours):
    return [
        f"{tours.latitude + 0.004},{tours.longitude - 0.006}",
        f"{tours.latitude - 0.2},{tours.longitude + 0.15}",
    ]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: "&".join(shape[0]) or "near")
def test_a_kept_statement_answers_as_the_orm_for_other_values(
    client,
    census,
    monkeypatch,
    shape,
):
    requests = [
        {"near": point, **values} for point, values in zip(points(census), shape, strict=True)
    ]
    monkeypatch.setattr(compiled, "_statements", statements.Kept(0))  # the ORM each time
    expected = [client.get(URL, params).content for params in requests]
    cache.clear()  # no response kept from the first round
    monkeypatch.setattr(compiled, "_statements", statements.Kept(256))
    compilations = []
    located_near = StructureQuerySet.located_near

    def counted(queryset, *args):
        compilations.append(args)
        return located_near(queryset, *args)

    monkeypatch.setattr(StructureQuerySet, "located_near", counted)
    got = [client.get(URL, requests[0]).content]
    assert len(compilations) == 2  # the request's values, then the stand-ins
    got.append(client.get(URL, requests[1]).content)
    assert len(compilations) == 2  # the kept statement, filled in
    assert got == expected
    assert b'"distance_km"' in expected[0] or b'"count":0' in expected[0]


# The list without `near`: each shape with two sets of values, as above.
LISTED_SHAPES = [
    [{"bbox": "0.5,47.2,0.9,47.5"}, {"bbox": "0.6,47.3,0.8,47.45"}],
    [
        {"bbox": "0.5,47.2,0.9,47.5", "type": "mediatheque"},
        {"bbox": "0.4,47.1,1.0,47.6", "type": "mediatheque"},
    ],
    [
        {"bbox": "0.5,47.2,0.9,47.5", "ordering": "-modifie_le"},
        {"bbox": "0.6,47.3,0.8,47.45", "ordering": "-modifie_le", "page_size": "3", "page": "2"},
    ],
    [{"bassin": "tours", "service": "Aide aux démarches administratives"}, {"bassin": "amboise"}],
    [{"commune": "37261", "accessible": "true"}, {"commune": "37050", "accessible": "true"}],
    [{"departement": "37", "public": "Seniors"}, {"departement": "41", "public": "Seniors"}],
]


@pytest.mark.parametrize("shape", LISTED_SHAPES, ids=lambda shape: "&".join(shape[0]))
def test_the_list_without_a_point_answers_as_the_orm_from_a_kept_statement(
    client, census, monkeypatch, shape
):
    monkeypatch.setattr(compiled, "_statements", statements.Kept(0))  # the ORM each time
    expected = [client.get(URL, params).content for params in shape]
    cache.clear()
    monkeypatch.setattr(compiled, "_statements", statements.Kept(256))
    compilations = []
    listed = compiled.listed

    def counted(queryset):
        compilations.append(queryset)
        return listed(queryset)

    monkeypatch.setattr(compiled, "listed", counted)
    got = [client.get(URL, params).content for params in shape]
    # The first request compiles twice (its values, the stand-ins), the second not at
    # all when it has the first's shape (the page is not part of it).
    filters = [params.keys() - {"page", "page_size"} for params in shape]
    assert len(compilations) == (2 if filters[0] == filters[1] else 4)
    assert got == expected
    assert b'"count":0' not in expected[0]


@pytest.mark.parametrize("free", [{"q": "mediatheque"}, {"updated_since": "2020-01-01"}])
def test_free_text_or_dates_take_the_orm_and_keep_nothing(client, census, monkeypatch, free):
    monkeypatch.setattr(compiled, "_statements", statements.Kept(256))
    point = points(census)[0]
    got = client.get(URL, {"near": point, "radius": "60", **free}).json()
    assert got["count"] > 0
    assert all("distance_km" in row for row in got["results"])
    assert not compiled._statements._items
