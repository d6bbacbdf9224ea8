"""The number of SQL queries of a list does not grow with the places it lists.

At 5 and at 50 places, each filter combination of /api/v1/structures/ runs the
same three queries: the data version, the page (with the total), its rows with
their kinds — never one query per place, per kind or per stop.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation import choices
from mediation.models import ServiceType
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"
TOURS = "37261"

COMBINATIONS = {
    "near": {},
    "near&type": {"type": "mediatheque"},
    "near&service": {"service": choices.Service.DEMARCHES},
    "near&bassin": {"bassin": "tours"},
    "near&public": {"public": choices.Public.SENIORS},
    "near&gratuit": {"gratuit": "true"},
    "near&everything": {
        "type": "mediatheque",
        "service": choices.Service.DEMARCHES,
        "bassin": "tours",
        "public": choices.Public.SENIORS,
        "gratuit": "true",
        "radius": "30",
    },
    "bbox": None,
    "bbox&type": {"type": "mediatheque"},
    "list": {},
    "type": {"type": "mediatheque"},
    "q&departement": {"q": "lieu", "departement": "37"},
}


def places(count):
    """`count` published places around Tours: every other one a médiathèque, free,
    for seniors and helping with administrative procedures; one in five itinerant."""
    tours = commune(TOURS)
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    for i in range(count):
        place = StructureFactory(
            name=f"Lieu {i}",
            commune=tours,
            latitude=tours.latitude + 0.001 * i,
            longitude=tours.longitude - 0.001 * i,
            services=[choices.Service.DEMARCHES] if i % 2 else [],
            publics=[choices.Public.SENIORS] if i % 2 else [],
            fees=[choices.Frais.GRATUIT] if i % 2 else [],
            kinds=[mediatheque] if i % 2 else None,
        )
        if i % 5 == 0:
            StopFactory(structure=place, commune=tours, latitude=tours.latitude - 0.002 * i)
            StopFactory(structure=place, commune=tours, longitude=tours.longitude + 0.002 * i)
    return tours


def params_for(label, tours):
    extra = COMBINATIONS[label]
    if label.startswith("bbox"):
        west, south = tours.longitude - 0.2, tours.latitude - 0.2
        return {"bbox": f"{west},{south},{west + 0.4},{south + 0.4}", **(extra or {})}
    if label.startswith("near"):
        return {"near": f"{tours.latitude},{tours.longitude}", **extra}
    return dict(extra)


def queries_and_count(client, params):
    cache.clear()
    client.get(URL, params)  # the kinds' list (for `type`) and the rate counters, cached
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, {**params, "page_size": 100})
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.json()["count"]


@pytest.mark.parametrize("label", COMBINATIONS)
def test_queries_per_request_do_not_grow_with_the_places(client, label):
    tours = places(5)
    few, listed_few = queries_and_count(client, params_for(label, tours))
    places(45)
    many, listed_many = queries_and_count(client, params_for(label, tours))
    assert listed_many > listed_few > 0  # the filters found places both times
    assert few == many <= 3
