"""`?near=` alone takes a fast path (mediation/api/nearby.py): same answers, fewer steps.

The general path (django-filter + ORM) is the reference: each case is asked
twice, once as is and once with the fast path switched off, and both
responses must be identical, on SQLite and on PostgreSQL.
"""

import math

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from simple_history.utils import update_change_reason

from mediation import choices
from mediation.api import nearby
from mediation.models import ServiceType, Structure, planar_distance
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"


@pytest.fixture
def around_tours():
    """Places around Tours, with everything the two paths must read the same way."""
    tours = commune("37261")
    kinds = {k.slug: k for k in ServiceType.objects.all()}
    places = []
    for i in range(12):
        angle = i * 0.7
        places.append(
            StructureFactory(
                name=f"Lieu {i:02d}",
                commune=tours,
                latitude=tours.latitude + 0.02 * i * math.sin(angle),
                longitude=tours.longitude + 0.03 * i * math.cos(angle),
                emails=[f"lieu{i}@exemple.fr"] if i % 2 else [],
                services=[choices.Service.DEMARCHES, choices.Service.OUTILS_QUOTIDIEN][: i % 3],
                fees=[choices.Frais.GRATUIT] if i % 4 else [],
                wheelchair_accessible=(None, True, False)[i % 3],
                verified_at=timezone.now() if i % 5 == 0 else None,
                kinds=[kinds["mediatheque"], kinds["fablab-makerspace"]] if i % 3 == 0 else None,
            )
        )
    # Two places at the same spot: the primary key breaks the tie.
    StructureFactory(name="Jumeau A", commune=tours, latitude=46.5, longitude=1.0)
    StructureFactory(name="Jumeau B", commune=tours, latitude=46.5, longitude=1.0)
    # Not listed: a draft, and a place without a position.
    StructureFactory(name="Brouillon", commune=tours, status=choices.Status.DRAFT)
    StructureFactory(name="Sans position", commune=None, latitude=None, longitude=None)
    # Itinerant places count where they stop: one based in Bourges, one with no address
    # of its own, and a draft's stop (not listed).
    bourges = commune("18033")
    based_far = StructureFactory(name="Bus de Bourges", commune=bourges)
    StopFactory(structure=based_far, commune=tours, latitude=tours.latitude + 0.01)
    StopFactory(structure=based_far, commune=tours, latitude=tours.latitude + 0.2)
    no_address = StructureFactory(name="Sans adresse fixe", latitude=None, longitude=None)
    StopFactory(structure=no_address, commune=tours, longitude=tours.longitude - 0.05)
    draft = StructureFactory(name="Brouillon itinérant", status=choices.Status.DRAFT)
    StopFactory(structure=draft, commune=tours)
    # `date_maj` ignores imports: one place was last changed by an import.
    imported = places[3]
    imported.phone = "+33247000000"
    imported.save()
    update_change_reason(imported, "Import hub-lo.json")
    return tours


def both_paths(client, monkeypatch, params):
    """The fast path's response and the general path's, for the same request."""
    cache.clear()  # no ETag or rate-limit state shared between the two
    fast = client.get(URL, params)
    with monkeypatch.context() as patch:
        patch.setattr(nearby, "parse", lambda query_params: None)
        cache.clear()
        general = client.get(URL, params)
    return fast, general


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"radius": "3"},
        {"radius": "200"},
        {"radius": "0.1"},
        {"radius": "80", "page_size": "4"},
        {"radius": "80", "page_size": "4", "page": "2"},
        {"radius": "80", "page_size": "4", "page": "4"},
        {"radius": "80", "page_size": "4", "page": "99"},  # past the end: 404
        {"radius": "80", "page": "deux"},  # 404 too
        {"page_size": "5000"},  # capped at 1,000
    ],
)
def test_fast_path_answers_as_the_general_path(client, monkeypatch, around_tours, extra):
    params = {"near": f"{around_tours.latitude},{around_tours.longitude}", **extra}
    assert nearby.parse(client.get(URL, params).wsgi_request.GET) is not None
    fast, general = both_paths(client, monkeypatch, params)
    assert fast.status_code == general.status_code
    assert fast.json() == general.json()
    if fast.status_code == 200:
        assert fast.content == general.content


def test_fast_path_finds_an_empty_disc(client, monkeypatch, around_tours):
    fast, general = both_paths(client, monkeypatch, {"near": "47.9,1.9", "radius": "1"})
    assert (
        fast.json()
        == general.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


def test_distances_are_those_of_the_queryset(client, around_tours):
    origin = (around_tours.latitude + 0.013, around_tours.longitude - 0.021)
    results = client.get(URL, {"near": f"{origin[0]},{origin[1]}", "radius": 50}).json()
    by_uid = {s.uid: s for s in Structure.objects.published().near(*origin, radius_km=50)}
    assert [r["id"] for r in results["results"]] == list(by_uid)
    for row in results["results"]:
        place = by_uid[row["id"]]
        assert row["distance_km"] == round(place.distance_km, 3)
        # Each place at the nearest of its locations: its address or one of its stops.
        locations = [(stop.latitude, stop.longitude) for stop in place.stops.all()]
        if place.latitude is not None:
            locations.append((place.latitude, place.longitude))
        assert place.distance_km == pytest.approx(
            min(planar_distance(*origin, lat, lon) for lat, lon in locations), abs=1e-9
        )


@pytest.mark.parametrize(
    "params",
    [
        {"near": "47.39,0.69", "type": "mediatheque"},  # another filter
        {"near": "47.39,0.69", "ordering": "nom"},
        {"near": ["47.39,0.69", "47.0,1.0"]},  # asked twice
        {"near": "47.39;0.69"},  # malformed: the general path explains
        {"near": "95,0.69"},
        {"near": "47.39,0.69", "radius": "-3"},
        {"near": "47.39,0.69", "radius": "1e1"},
        {"near": "47.39,0.69", "radius": "500"},
        {"radius": "5"},  # no point
    ],
)
def test_anything_else_goes_the_general_way(rf, params):
    assert nearby.parse(rf.get(URL, params).GET) is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "47.39;0.69"}, "near"),
        ({"near": "47.39,0.69", "radius": "500"}, "radius"),
    ],
)
def test_errors_are_still_explained_in_french(client, params, field):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_one_query_whatever_the_page_size(client, around_tours):
    counts = []
    for size in (2, 10):
        cache.clear()
        assert client.get(URL, {"page_size": 1}).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                URL,
                {
                    "near": f"{around_tours.latitude},{around_tours.longitude}",
                    "radius": 80,
                    "page_size": size,
                },
            )
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    # The data version (one row, by primary key), then the page, its rows and
    # their kinds, with the total.
    assert counts == [2, 2]


def test_itinerant_places_are_found_where_they_stop(client, around_tours):
    params = {"near": f"{around_tours.latitude},{around_tours.longitude}", "radius": "5"}
    results = client.get(URL, params).json()["results"]
    by_name = {item["nom"]: item for item in results}
    assert by_name["Bus de Bourges"]["distance_km"] < 1.2  # its stop, not Bourges
    assert "Sans adresse fixe" in by_name
    assert "Brouillon itinérant" not in by_name
    west, south = around_tours.longitude - 0.06, around_tours.latitude - 0.005
    box = f"{west},{south},{west + 0.02},{south + 0.01}"
    assert [item["nom"] for item in client.get(URL, {"bbox": box}).json()["results"]] == [
        "Sans adresse fixe"
    ]
