"""The list's fast path (rows read once, represented without the serializer) gives
what `StructureListItemSerializer` gives, field for field and in the same order,
on the real census (../shared/data) with itinerant places added.
"""

import json
from urllib.parse import urlencode

import orjson
import pytest
from django.http import QueryDict
from django.test import RequestFactory

from mediation.api.filters import StructureFilter
from mediation.api.serializers import StructureListItemSerializer
from mediation.importers import run_import
from mediation.models import Structure
from tests.factories import StopFactory, StructureFactory, commune
from tests.importers.conftest import HUB_LO, shared_file

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"
TOURS = "37261"


@pytest.fixture
def census():
    """The real census, plus two itinerant places stopping around Tours."""
    run_import(shared_file(HUB_LO))
    tours = commune(TOURS)
    bus = StructureFactory(name="Bus numérique", commune=commune("18033"))
    StopFactory(structure=bus, commune=tours, latitude=tours.latitude + 0.01)
    roaming = StructureFactory(name="Sans adresse fixe", latitude=None, longitude=None)
    StopFactory(structure=roaming, commune=tours, longitude=tours.longitude - 0.03)
    return tours


def serialized(queryset, *, distance=False):
    """What the serializer says of `queryset`'s places, as the API encodes it."""
    request = RequestFactory().get(URL, HTTP_HOST="testserver")
    places = queryset.select_related("commune__bassin").prefetch_related("kinds")
    rows = StructureListItemSerializer(places, many=True, context={"request": request}).data
    rows = json.loads(orjson.dumps(rows))
    if distance:
        for row in rows:
            row["distance_km"] = round(row["distance_km"], 3)
    return rows


def assert_same_rows(got, expected):
    assert [row["id"] for row in got] == [row["id"] for row in expected]
    for row, reference in zip(got, expected, strict=True):
        assert list(row) == list(reference), row["id"]
        assert row == reference, row["id"]


def test_the_whole_list_is_what_the_serializer_says(client, census):
    published = Structure.objects.published()
    assert published.count() > 300  # the census was imported
    got = client.get(URL, {"page_size": 1000}).json()
    assert got["count"] == published.count()
    assert_same_rows(got["results"], serialized(published.order_by("name", "pk")))


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"radius": "40"},
        {"radius": "40", "type": "mediatheque"},
        {"radius": "60", "service": "Aide aux démarches administratives"},
        {"radius": "60", "gratuit": "false"},  # the census says nothing of fees
        {"radius": "60", "bassin": "tours"},
        {"radius": "200", "page_size": "7", "page": "3"},
    ],
)
def test_near_lists_what_the_serializer_says_nearest_first(client, census, extra):
    point = f"{census.latitude + 0.004},{census.longitude - 0.006}"
    got = client.get(URL, {"near": point, **extra}).json()
    # The reference: the FilterSet's queryset, nearest first by the ORM (`near()`).
    size, page = int(extra.pop("page_size", 50)), int(extra.pop("page", 1))
    filterset = StructureFilter(
        QueryDict(urlencode({"near": point, **extra})), queryset=Structure.objects.published()
    )
    assert filterset.is_valid()
    assert got["count"] == filterset.qs.count() > 0
    window = filterset.qs[(page - 1) * size : page * size]
    assert got["results"]
    assert_same_rows(got["results"], serialized(window, distance=True))
