"""`?near=`: the places within the radius, nearest first, each at the nearest of its
locations (its address or a stop), checked against a computation in Python.
"""

import math

import pytest
from django.utils import timezone
from simple_history.utils import update_change_reason

from mediation import choices
from mediation.models import ServiceType, Structure, planar_distance
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"


@pytest.fixture
def around_tours():
    """Places around Tours, with everything a list must read: kinds, dates, stops…"""
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


def expected_disc(origin, radius_km):
    """What `?near=` must list, computed in Python from the rows: the published places
    with a location (their own or a stop) within the radius, each at the nearest,
    nearest first, the primary key breaking ties."""
    found = []
    for place in Structure.objects.published().prefetch_related("stops"):
        locations = [(stop.latitude, stop.longitude) for stop in place.stops.all()]
        if place.latitude is not None:
            locations.append((place.latitude, place.longitude))
        if locations:
            km = min(planar_distance(*origin, lat, lon) for lat, lon in locations)
            if km <= radius_km:
                found.append((km, place.pk, place.uid))
    return [(uid, km) for km, _pk, uid in sorted(found)]


@pytest.mark.parametrize(
    ("extra", "radius", "window"),
    [
        ({}, 10, slice(0, 50)),
        ({"radius": "3"}, 3, slice(0, 50)),
        ({"radius": "200"}, 200, slice(0, 50)),
        ({"radius": "0.1"}, 0.1, slice(0, 50)),
        ({"radius": "80", "page_size": "4"}, 80, slice(0, 4)),
        ({"radius": "80", "page_size": "4", "page": "2"}, 80, slice(4, 8)),
        ({"radius": "80", "page_size": "4", "page": "4"}, 80, slice(12, 16)),
        ({"page_size": "5000"}, 10, slice(0, 1000)),  # capped at 1,000
    ],
)
def test_the_disc_nearest_first_page_by_page(client, around_tours, extra, radius, window):
    origin = (around_tours.latitude, around_tours.longitude)
    response = client.get(URL, {"near": f"{origin[0]},{origin[1]}", **extra})
    assert response.status_code == 200
    body = response.json()
    disc = expected_disc(origin, radius)
    assert body["count"] == len(disc)
    assert [(r["id"], r["distance_km"]) for r in body["results"]] == [
        (uid, round(km, 3)) for uid, km in disc[window]
    ]


@pytest.mark.parametrize("extra", [{"page": "99"}, {"page": "deux"}])
def test_a_page_past_the_end_is_not_found(client, around_tours, extra):
    near = f"{around_tours.latitude},{around_tours.longitude}"
    response = client.get(URL, {"near": near, "radius": "80", "page_size": "4", **extra})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Page invalide")


def test_an_empty_disc_is_an_empty_list(client, around_tours):
    assert client.get(URL, {"near": "47.9,1.9", "radius": "1"}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


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
