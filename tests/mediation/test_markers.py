"""The map's markers: every matching place while the directory is small, the view's
pins or the server's clusters when it is large."""

import gzip
from datetime import timedelta
from unittest import mock

import orjson
import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import choices, markers
from mediation.models import DataVersion, ServiceType
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/carte/lieux.json"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


def test_rows_of_published_structures_with_a_position(client):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    shown = StructureFactory(name="Visible", kinds=[mediatheque])
    StructureFactory(name="Brouillon", status="draft")
    StructureFactory(name="Sans position", latitude=None, longitude=None)
    data = client.get(URL).json()
    assert data["fields"] == ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"]
    assert data["kinds"][str(mediatheque.pk)] == "Médiathèque"
    assert data["rows"] == [
        [
            shown.pk,
            round(shown.latitude, 5),
            round(shown.longitude, 5),
            "Visible",
            shown.slug,
            "Châteauroux",
            [mediatheque.pk],
            None,
        ]
    ]


def test_itinerant_places_have_a_marker_at_each_stop(client):
    from tests.factories import StopFactory, commune

    bus = StructureFactory(name="Bus", latitude=None, longitude=None)
    ardentes = commune("36005")
    StopFactory(structure=bus, commune=ardentes, place="Place de l’église")
    StopFactory(structure=StructureFactory(status="draft"), commune=ardentes)
    rows = client.get(URL).json()["rows"]
    assert rows == [
        [
            bus.pk,
            round(ardentes.latitude, 5),
            round(ardentes.longitude, 5),
            "Bus",
            bus.slug,
            "Ardentes",
            [bus.kinds.get().pk],  # the factory's kind
            "Place de l’église",
        ]
    ]


def test_served_gzipped_with_validators(client):
    StructureFactory.create_batch(3)
    # HTTP dates are in seconds: no Last-Modified within the second of a change.
    DataVersion.objects.update(changed_at=timezone.now() - timedelta(minutes=1))
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "application/json"
    assert len(orjson.loads(gzip.decompress(response.content))["rows"]) == 3
    assert response["ETag"]
    assert response["Last-Modified"]
    assert "Accept-Encoding" in response["Vary"]
    assert "max-age" in response["Cache-Control"]


def test_a_returning_visitor_downloads_nothing(client):
    StructureFactory()
    etag = client.get(URL)["ETag"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_change_gives_a_new_version(client, django_capture_on_commit_callbacks):
    structure = StructureFactory(name="Avant")
    etag = client.get(URL)["ETag"]
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on commit
        structure.name = "Après"
        structure.save()
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["rows"][0][3] == "Après"


def test_demo_data_fits_in_a_small_download(client):
    from django.core.management import call_command

    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    from mediation.models import Stop

    rows = orjson.loads(gzip.decompress(response.content))["rows"]
    assert len(rows) == 293 + Stop.objects.count()  # each place, and each itinerant stop
    assert len(response.content) < 17_000  # bytes on the wire, for 293 places and their stops


# --- A large directory: the view, in pins or in clusters --------------------------

# Around Châteauroux, then a box over the whole region.
CHATEAUROUX_BOX = "1.60,46.75,1.80,46.85"
REGION_BOX = "-0.5,46.0,3.5,49.0"


@pytest.fixture
def large(monkeypatch):
    """The directory counts as large from 4 markers on (606 places stay small), and a
    view shows at most 3 pins."""
    monkeypatch.setattr(markers, "MAX_POINTS", 3)
    monkeypatch.setattr(markers, "VIEW_MAX_PINS", 3)


def test_a_small_directory_answers_every_matching_place_whatever_the_view(client):
    inside = StructureFactory()
    elsewhere = StructureFactory(commune=commune("18033"))  # Bourges
    data = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "14"}).json()
    assert data["complete"] is True
    assert {row[0] for row in data["rows"]} == {inside.pk, elsewhere.pk}


def test_a_large_directory_answers_the_pins_in_view(client, large):
    here = StructureFactory.create_batch(2)
    StructureFactory.create_batch(3, commune=commune("18033"))  # Bourges, out of view
    data = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "13"}).json()
    assert data["complete"] is False
    assert data["clusters"] == []
    assert sorted(row[0] for row in data["rows"]) == sorted(p.pk for p in here)


def test_far_out_the_places_come_grouped_with_their_counts(client, large):
    StructureFactory.create_batch(3)  # Châteauroux
    bus = StructureFactory(commune=commune("18033"))  # Bourges, and a stop at Ardentes
    StopFactory(structure=bus, commune=commune("36005"))
    StructureFactory(status="draft")
    data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert data["rows"] == []
    counts = sorted(cluster[2] for cluster in data["clusters"])
    assert sum(counts) == 5  # four places and one stop; the draft is not counted
    # Each bubble sits among its places and knows their extent (to zoom on a click).
    for lat, lon, _count, south, west, north, east in data["clusters"]:
        assert south <= lat <= north and west <= lon <= east
    # Closer in, the same places split into more groups, then into pins.
    closer = client.get(URL, {"bbox": REGION_BOX, "zoom": "9"}).json()["clusters"]
    assert len(closer) > len(data["clusters"])
    assert sum(cluster[2] for cluster in closer) == 5


def test_the_map_shows_the_search_results(client, large):
    wanted = StructureFactory.create_batch(2, services=[choices.Service.DEMARCHES])
    others = StructureFactory.create_batch(3, services=[choices.Service.SECURITE])
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    data = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "13", "service": "demarches"})
    assert sorted(row[0] for row in data.json()["rows"]) == sorted(p.pk for p in wanted)
    far = client.get(URL, {"bbox": REGION_BOX, "zoom": "6", "service": "securite"}).json()
    # Five places in all, three passing the filter: few enough to be pins.
    assert sorted(row[0] for row in far["rows"]) == sorted(p.pk for p in others)
    none = client.get(URL, {"bbox": REGION_BOX, "zoom": "6", "type": mediatheque.slug}).json()
    assert none["rows"] == [] and none["clusters"] == []


def test_a_filtered_view_closer_in_reads_its_few_pins_without_grouping(
    client, large, django_assert_num_queries
):
    wanted = StructureFactory.create_batch(3, services=[choices.Service.DEMARCHES])
    StopFactory(structure=wanted[0], commune=commune("36005"))  # Ardentes, in view
    asked = {"bbox": "1.55,46.65,1.90,46.85", "zoom": "13", "service": "demarches"}
    markers.directory_size(markers.structures_version()[0])  # kept: a large directory
    # The data version, the kinds' names, the places, one stop too many: clusters,
    # from the two GROUP BY.
    with django_assert_num_queries(6):
        data = client.get(URL, asked).json()
    assert data["rows"] == [] and sum(cluster[2] for cluster in data["clusters"]) == 4
    wanted[0].stops.all().delete()
    cache.clear()  # the answer kept for this version (a test's changes never commit)
    markers.directory_size(markers.structures_version()[0])
    # The data version, the kinds' names, the places and their stops (each with its
    # kinds, from `kind_ids`).
    with django_assert_num_queries(4):
        data = client.get(URL, asked).json()
    assert sorted(row[0] for row in data["rows"]) == sorted(p.pk for p in wanted)


def test_closer_in_the_finest_grid_kept_tells_pins_from_clusters(
    client, large, django_assert_num_queries
):
    wanted = StructureFactory.create_batch(3, services=[choices.Service.DEMARCHES])
    StructureFactory(commune=commune("36005"), services=[choices.Service.DEMARCHES])
    far = {"bbox": REGION_BOX, "zoom": str(markers.WHOLE_GRID_ZOOM), "service": "demarches"}
    assert sum(c[2] for c in client.get(URL, far).json()["clusters"]) == 4  # the grid, kept
    # Châteauroux and Ardentes: four in the grid's cells, more than a view's pins. The
    # data version, the kinds' names, then the two GROUP BY of the view: clusters.
    around = {"bbox": "1.55,46.65,1.90,46.85", "zoom": "13", "service": "demarches"}
    with django_assert_num_queries(4):
        data = client.get(URL, around).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 4
    # Châteauroux alone: three at most, read as pins (places, stops), no GROUP BY.
    with django_assert_num_queries(4):
        data = client.get(URL, {**around, "bbox": "1.60,46.78,1.75,46.84"}).json()
    assert sorted(row[0] for row in data["rows"]) == sorted(p.pk for p in wanted)


def test_closer_in_a_view_cutting_the_grids_cells_reads_its_pins_first(
    client, large, django_assert_num_queries
):
    # One cell of the finest grid: two places in the view, two just outside it.
    inside = [StructureFactory(latitude=46.80, longitude=lon) for lon in (1.70, 1.71)]
    for lon in (1.74, 1.745):
        StructureFactory(latitude=46.77, longitude=lon)
    far = {"bbox": REGION_BOX, "zoom": str(markers.WHOLE_GRID_ZOOM)}
    assert sum(c[2] for c in client.get(URL, far).json()["clusters"]) == 4  # the grid, kept
    # The grid says "0 to 4": the data version, the kinds' names, the places, their
    # stops; no GROUP BY.
    with django_assert_num_queries(4):
        data = client.get(URL, {"bbox": "1.69,46.79,1.72,46.81", "zoom": "13"}).json()
    assert sorted(row[0] for row in data["rows"]) == sorted(p.pk for p in inside)


def test_closer_in_a_view_covering_most_of_a_dense_cell_is_grouped_at_once(
    client, large, django_assert_num_queries
):
    for i in range(8):  # in one cell of the finest grid, in its part the view covers
        StructureFactory(latitude=46.78, longitude=1.70 + 0.002 * i)
    far = {"bbox": REGION_BOX, "zoom": str(markers.WHOLE_GRID_ZOOM)}
    assert sum(c[2] for c in client.get(URL, far).json()["clusters"]) == 8  # the grid, kept
    # The view covers 49/64 of the cell: about six markers, more than a view's pins.
    # The data version, the kinds' names, the two GROUP BY: no pins read for nothing.
    with django_assert_num_queries(4):
        data = client.get(URL, {"bbox": "1.6705,46.7585,1.7460,46.8110", "zoom": "13"}).json()
    assert data["rows"] == [] and sum(cluster[2] for cluster in data["clusters"]) == 8


def test_open_now_keeps_the_pins_open_now(client, large, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monday_10h = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    monkeypatch.setattr(markers.timezone, "now", lambda: monday_10h)
    StructureFactory.create_batch(2, opening_hours="Mo-Fr 09:00-12:00")
    closed = StructureFactory(opening_hours="Sa 09:00-12:00")
    rows = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "13"}).json()["rows"]
    assert closed.pk in {row[0] for row in rows}
    data = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "13", "open_now": "on"}).json()
    assert closed.pk not in {row[0] for row in data["rows"]}
    assert len(data["rows"]) == 2


def test_clusters_say_when_they_ignore_the_hours(client, large):
    StructureFactory.create_batch(5)
    data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6", "open_now": "on"}).json()
    assert data["clusters"] and data["hours_ignored"] is True


def test_the_hours_filters_far_out_are_cut_from_the_grid_without_them(client, large):
    # The clusters count without the hours: "open now" or "Saturday" far out is a
    # cut of the grid prepared without them, not a GROUP BY (nor a grid to prepare)
    # of its own; with a service, that service's grid.
    StructureFactory.create_batch(4, services=[choices.Service.DEMARCHES])
    StructureFactory(commune=commune("18033"), services="")  # Bourges
    markers.prepare()
    far_out = {"bbox": REGION_BOX, "zoom": "6"}
    for hours in ({"open_now": "on"}, {"saturday": "on"}):
        with CaptureQueriesContext(connection) as queries:
            data = client.get(URL, {**far_out, **hours}).json()
        assert data["hours_ignored"] is True
        assert sum(cluster[2] for cluster in data["clusters"]) == 5
        assert not any("GROUP BY" in query["sql"] for query in queries)
    assert cache.get(markers.RECENT_FILTERS_KEY, []) == []
    client.get(URL, {**far_out, "service": "demarches"})
    with CaptureQueriesContext(connection) as queries:
        data = client.get(URL, {**far_out, "service": "demarches", "open_now": "on"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 4
    assert not any("GROUP BY" in query["sql"] for query in queries)
    assert cache.get(markers.RECENT_FILTERS_KEY) == ["service=demarches"]


def test_a_box_the_map_never_sends_gets_a_clear_error(client):
    for params in ({"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "3,47,1,48"}, {"zoom": "x"}):
        response = client.get(URL, params)
        assert response.status_code == 400
        assert "attendu" in response.json()["error"] or "avant" in response.json()["error"]


def test_a_wide_box_at_a_close_zoom_is_answered_coarser(client, large):
    StructureFactory.create_batch(5)
    data = client.get(URL, {"bbox": "-180,-90,180,90", "zoom": "18"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5
    assert markers.cells_of((-180, -90, 180, 90), 18)[0] < 18


def test_the_pages_url_carries_the_version_and_is_immutable(client, large):
    StructureFactory.create_batch(5)
    url = markers.url({"service": ["demarches"]})
    response = client.get(url + "&bbox=" + REGION_BOX + "&zoom=6")
    assert "immutable" in response["Cache-Control"]
    stale = client.get(URL, {"v": "ancienne", "bbox": REGION_BOX, "zoom": "6"})
    assert "immutable" not in stale["Cache-Control"]
    assert (
        client.get(
            URL, {"bbox": REGION_BOX, "zoom": "6"}, HTTP_IF_NONE_MATCH=stale["ETag"]
        ).status_code
        == 304
    )


def test_the_same_cells_are_one_answer_whatever_the_exact_box(client, large):
    StructureFactory.create_batch(5)
    lat_step, lon_step = markers.cell_steps(8)

    def box(west, south, east, north):  # in cells
        return f"{west * lon_step},{south * lat_step},{east * lon_step},{north * lat_step}"

    # The box the browser sends (whole cells), and one inside the same cells.
    first = client.get(URL, {"bbox": box(4, 190, 6, 191), "zoom": "8"})
    second = client.get(URL, {"bbox": box(4.2, 190.3, 5.9, 190.8), "zoom": "8"})
    assert first["ETag"] == second["ETag"]
    assert first.json() == second.json()
    assert sum(cluster[2] for cluster in first.json()["clusters"]) == 5


def test_far_out_each_view_is_a_cut_of_the_same_grid(client, large):
    StructureFactory.create_batch(4)  # Châteauroux
    StructureFactory.create_batch(2, commune=commune("18033"))  # Bourges
    zoom = markers.WHOLE_GRID_ZOOM - 1
    region = client.get(URL, {"bbox": REGION_BOX, "zoom": zoom}).json()["clusters"]
    around = client.get(URL, {"bbox": "1.2,46.5,1.9,47.0", "zoom": zoom}).json()["clusters"]
    assert sum(cluster[2] for cluster in region) == 6
    assert sum(cluster[2] for cluster in around) == 4  # Bourges is out of this view
    assert all(cluster in region for cluster in around)


def test_coarser_grids_derived_from_the_finest_are_those_sql_gives(large):
    from mediation.forms import SearchForm

    for i in range(12):  # across the region, over many cells' edges
        StructureFactory(latitude=46.4 + 0.21 * i, longitude=0.1 + 0.25 * i)
    StopFactory(structure=StructureFactory(), commune=commune("36005"))
    form = SearchForm({})
    form.is_valid()
    finest = markers.grid(*markers._markers(form), markers.WHOLE_GRID_ZOOM)
    for zoom in range(0, markers.WHOLE_GRID_ZOOM):
        derived = markers.coarser(finest, markers.WHOLE_GRID_ZOOM - zoom)
        computed = markers.grid(*markers._markers(form), zoom)
        assert derived.keys() == computed.keys(), zoom
        for key, (n, lat, lon, *box) in computed.items():
            assert derived[key][0] == n and list(derived[key][3:]) == box
            assert derived[key][1] == pytest.approx(lat) and derived[key][2] == pytest.approx(lon)
        assert markers.clusters(derived) == markers.clusters(computed)


def test_far_out_one_grid_is_read_per_version_and_filters(client, large, django_assert_num_queries):
    StructureFactory.create_batch(5)
    client.get(URL, {"bbox": REGION_BOX, "zoom": markers.WHOLE_GRID_ZOOM})
    # Further out, the same version: derived from the finest grid, no GROUP BY.
    with django_assert_num_queries(2):  # the data version, the kinds' names
        data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5


@pytest.mark.django_db(transaction=True)
def test_after_a_committed_change_far_out_no_visitor_waits_for_the_grid(
    client, large, monkeypatch, django_assert_num_queries
):
    """Real commits: the version moves, and the unfiltered grid of the new version is
    made then (by the change's writer), not by the first visitor."""
    from tests.conftest import load_reference_data

    load_reference_data()
    StructureFactory.create_batch(4)  # Châteauroux
    StructureFactory(commune=commune("18033"))  # Bourges
    with django_assert_num_queries(2):  # the data version, the kinds' names: no GROUP BY
        data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5
    monkeypatch.setattr(markers, "_size", (None, 0))  # another server: the shared cache
    stamp = markers.structures_version()[0]
    with django_assert_num_queries(0):
        assert markers.directory_size(stamp) == 5
    with django_assert_num_queries(2):
        closer = client.get(URL, {"bbox": REGION_BOX, "zoom": markers.WHOLE_GRID_ZOOM}).json()
    assert sum(cluster[2] for cluster in closer["clusters"]) == 5
    # The next change shows at the next request.
    StructureFactory(commune=commune("18033"))
    data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 6


def test_a_failed_preparation_leaves_the_grid_to_the_first_visitor(client, large):
    StructureFactory.create_batch(5)
    lost = markers.DatabaseError("connexion perdue")
    with mock.patch.object(markers, "grid", side_effect=lost):
        markers.prepare()  # logged, not raised: the change is committed already
    data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5


def test_a_dense_view_of_a_large_directory_comes_in_clusters(client, monkeypatch):
    """Fewer pins per view than the small directory's single file holds."""
    monkeypatch.setattr(markers, "MAX_POINTS", 3)
    monkeypatch.setattr(markers, "VIEW_MAX_PINS", 4)
    StructureFactory.create_batch(5)  # Châteauroux
    data = client.get(URL, {"bbox": CHATEAUROUX_BOX, "zoom": "13"}).json()
    assert data["rows"] == [] and sum(cluster[2] for cluster in data["clusters"]) == 5
    StructureFactory.create_batch(2, commune=commune("18033"))  # Bourges
    data = client.get(URL, {"bbox": "2.3,47.0,2.5,47.2", "zoom": "13"}).json()
    assert len(data["rows"]) == 2


# --- A new version's grid carried over from the previous one ----------------------


def _form(**filters):
    from mediation.forms import SearchForm

    form = SearchForm(filters)
    form.is_valid()
    return form


def _built_anew(form):
    return markers.grid(*markers._markers(form), markers.WHOLE_GRID_ZOOM)


def _same_grid(carried, anew):
    assert carried.keys() == anew.keys()
    for key, (n, lat, lon, *box) in anew.items():
        assert carried[key][0] == n and list(carried[key][3:]) == box, key
        assert carried[key][1] == pytest.approx(lat) and carried[key][2] == pytest.approx(lon)


@pytest.fixture
def spread():
    """Places over many cells (and across their edges), one with a stop far away;
    the version moved once they are written, and each filter's grid kept."""
    from mediation.versioning import move_version

    places = [
        StructureFactory(latitude=46.4 + 0.21 * i, longitude=0.1 + 0.25 * i, services="")
        for i in range(10)
    ]
    demarches = StructureFactory(services=[choices.Service.DEMARCHES])
    StopFactory(structure=demarches, commune=commune("18033"))  # Bourges
    move_version()
    stamp = markers.structures_version()[0]
    for form in (_form(), _form(service=["demarches"]), _form(type=["mediatheque"])):
        markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp)
    return places, demarches


def _next_version():
    from mediation.versioning import move_version

    move_version()
    return markers.structures_version()[0]


@pytest.mark.parametrize(
    "filters, markers_left",
    [({}, 11), ({"service": ["demarches"]}, 1), ({"type": ["mediatheque"]}, 1)],
)
def test_after_a_change_only_its_cells_are_read_again(spread, filters, markers_left):
    places, demarches = spread
    moved = places[3]
    moved.latitude, moved.longitude = 47.9, 2.7  # to another cell
    moved.services = [choices.Service.DEMARCHES]
    moved.save()
    moved.kinds.add(ServiceType.objects.get(slug="mediatheque"))
    places[5].delete()
    demarches.services = [choices.Service.SECURITE]  # its stop's cell, in Bourges, too
    demarches.save()
    stamp = _next_version()
    form = _form(**filters)
    carried = markers.patched(form, stamp)
    assert carried is not None  # carried over, not built anew
    assert sum(cell[0] for cell in carried.values()) == markers_left
    _same_grid(carried, _built_anew(form))
    _same_grid(markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp), _built_anew(form))


def test_the_cells_are_read_again_in_one_query_per_kind_of_marker(
    spread, django_assert_num_queries
):
    places, _ = spread
    places[2].name = "Nouveau nom"
    places[2].save()
    stamp = _next_version()
    with django_assert_num_queries(2):  # the places, the stops: of that cell only
        carried = markers.whole_grid(_form(service=["demarches"]), markers.WHOLE_GRID_ZOOM, stamp)
    _same_grid(carried, _built_anew(_form(service=["demarches"])))


def test_stops_moved_or_deleted_are_carried_over(spread):
    _, demarches = spread
    stop = demarches.stops.get()
    stop.latitude, stop.longitude = 47.39, 0.69  # from Bourges to Tours
    stop.save()
    StopFactory(structure=demarches, commune=commune("36005"))
    stamp = _next_version()
    form = _form(service=["demarches"])
    assert markers.patched(form, stamp) is not None
    _same_grid(markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp), _built_anew(form))
    stop.delete()
    stamp = _next_version()
    _same_grid(markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp), _built_anew(form))


def test_a_grid_is_carried_over_several_versions(spread):
    places, _ = spread
    for place in places[:3]:
        place.latitude += 0.3
        place.save()
        stamp = _next_version()  # nobody asks for the grid of these versions
    form = _form(service=["demarches"])
    assert markers.patched(form, stamp) is not None
    _same_grid(markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp), _built_anew(form))


def test_a_write_that_does_not_say_what_it_changed_builds_the_grid_anew(spread):
    from mediation.models import Structure
    from mediation.versioning import data_changed

    Structure.objects.update(services="")  # a bulk update: no signal
    data_changed()
    stamp = _next_version()
    form = _form(service=["demarches"])
    assert markers.patched(form, stamp) is None
    assert markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp) == {}


def test_a_change_of_kinds_names_builds_the_grid_anew(spread):
    kind = ServiceType.objects.get(slug="mediatheque")
    kind.slug = "bibliotheque"
    kind.save()
    assert markers.patched(_form(), _next_version()) is None


def test_a_grid_lost_from_the_cache_is_built_anew(spread):
    places, _ = spread
    places[0].save()
    stamp = _next_version()
    cache.clear()
    assert markers.patched(_form(), stamp) is None
    _same_grid(markers.whole_grid(_form(), markers.WHOLE_GRID_ZOOM, stamp), _built_anew(_form()))


def test_a_grid_the_shared_cache_lost_is_served_from_the_process(
    client, large, django_assert_num_queries
):
    # Redis flushed or restarted: the views far out are cut from the grid this
    # process built, or read from the cache, not from a GROUP BY over the whole
    # directory.
    StructureFactory.create_batch(5)
    far_out = {"bbox": REGION_BOX, "zoom": "6"}
    assert sum(cluster[2] for cluster in client.get(URL, far_out).json()["clusters"]) == 5
    cache.clear()
    with django_assert_num_queries(2):  # the data version, the kinds' names: no GROUP BY
        data = client.get(URL, far_out).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5
    # Another process, which read the grid from the cache (another server built it).
    stamp = markers.structures_version()[0]
    finest = markers._grid_key(stamp, _form(), markers.WHOLE_GRID_ZOOM)
    markers._local_grids.clear()
    cache.set(finest, markers.whole_grid(_form(), markers.WHOLE_GRID_ZOOM, stamp))
    markers._local_grids.clear()
    client.get(URL, {"bbox": REGION_BOX, "zoom": "7"})
    cache.clear()
    with django_assert_num_queries(2):
        data = client.get(URL, far_out).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5
    # A process that never had it (a server just started) reads it again.
    cache.clear()
    markers._local_grids.clear()
    with CaptureQueriesContext(connection) as queries:
        data = client.get(URL, far_out).json()
    assert any("GROUP BY" in query["sql"] for query in queries)
    assert sum(cluster[2] for cluster in data["clusters"]) == 5


def test_a_server_started_while_the_cache_is_lost_reads_the_grids_prepared(
    client, large, monkeypatch
):
    # Redis lost, and a process that never had the grids (a server just started):
    # the finest grids the change's writer prepared are read from the database,
    # one row each, rather than grouped again from every place of the directory.
    from mediation.versioning import move_version

    StructureFactory.create_batch(4, services=[choices.Service.DEMARCHES])
    StructureFactory(commune=commune("18033"), services="")  # Bourges
    demarches = {"bbox": REGION_BOX, "zoom": "6", "service": "demarches"}
    client.get(URL, demarches)  # visitors asked for this filter
    move_version()
    markers.prepare()  # what the commit does (a test's transaction never commits)
    cache.clear()
    markers._local_grids.clear()
    monkeypatch.setattr(markers, "_size", (None, 0))
    for params, count in (({"bbox": REGION_BOX, "zoom": "6"}, 5), (demarches, 4)):
        with CaptureQueriesContext(connection) as queries:
            data = client.get(URL, params).json()
        assert sum(cluster[2] for cluster in data["clusters"]) == count
        assert any("mediation_mapgrid" in query["sql"] for query in queries)
        assert not any("GROUP BY" in query["sql"] for query in queries)
        assert not any("COUNT(" in query["sql"] for query in queries)  # the size: the grid's


def test_the_grids_stored_for_earlier_versions_are_deleted(large):
    from mediation.models import MapGrid
    from mediation.versioning import move_version

    StructureFactory.create_batch(5)
    move_version()
    markers.prepare()
    assert MapGrid.objects.count() == 1  # the unfiltered finest grid (no filter asked yet)
    # A concurrent writer, a version ahead, has stored its own meanwhile: kept.
    MapGrid.objects.create(key="ahead", counter=10**6, cells=b"")
    move_version()
    markers.prepare()
    stamp = markers.structures_version()[0]
    key = markers._grid_key(stamp, _form(), markers.WHOLE_GRID_ZOOM)
    assert set(MapGrid.objects.values_list("key", flat=True)) == {key, "ahead"}
    assert markers._stored_grid(key) == _built_anew(_form())  # exactly: ints, floats, tuples


def test_a_stored_grid_unreadable_is_built_anew(client, large, monkeypatch):
    from mediation.versioning import move_version

    StructureFactory.create_batch(5)
    move_version()
    markers.prepare()
    cache.clear()
    markers._local_grids.clear()
    monkeypatch.setattr(markers, "_size", (None, 0))
    absent = DatabaseError("la relation « mediation_mapgrid » n’existe pas")
    with (
        mock.patch.object(markers.MapGrid.objects, "filter", side_effect=absent),
        CaptureQueriesContext(connection) as queries,
    ):
        data = client.get(URL, {"bbox": REGION_BOX, "zoom": "6"}).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5
    assert any("GROUP BY" in query["sql"] for query in queries)


def test_a_small_directory_stores_no_grid():
    from mediation.models import MapGrid

    StructureFactory.create_batch(5)
    markers.prepare()
    assert not MapGrid.objects.exists()


def test_positions_on_a_cells_edge_mark_both_cells():
    lat_step, lon_step = markers.cell_steps(markers.WHOLE_GRID_ZOOM)
    assert markers.cells_at(100.5 * lat_step, 7.5 * lon_step) == {(100, 7)}
    assert markers.cells_at(100 * lat_step, 7.5 * lon_step) == {(99, 7), (100, 7)}


def test_the_filters_visitors_asked_for_are_prepared_by_the_next_change(
    client, large, django_assert_num_queries
):
    from mediation.versioning import move_version

    StructureFactory.create_batch(4, services=[choices.Service.DEMARCHES])
    place = StructureFactory(commune=commune("18033"), services="")  # Bourges
    move_version()
    asked = {"bbox": REGION_BOX, "zoom": "6", "service": "demarches"}
    assert sum(cluster[2] for cluster in client.get(URL, asked).json()["clusters"]) == 4
    place.services = [choices.Service.DEMARCHES]
    place.save()
    move_version()
    markers.prepare()  # what the commit does (a test's transaction never commits)
    with django_assert_num_queries(2):  # the data version, the kinds' names: no GROUP BY
        data = client.get(URL, asked).json()
    assert sum(cluster[2] for cluster in data["clusters"]) == 5


def test_a_move_says_which_version_it_moved_from():
    from mediation.versioning import move_version, version_moved

    sent = []

    def receiver(**kwargs):
        sent.append(kwargs)

    version_moved.connect(receiver)
    try:
        before = markers.structures_version()[0]
        move_version()
    finally:
        version_moved.disconnect(receiver)
    assert sent[0]["previous"] == before
    assert sent[0]["stamp"] == markers.structures_version()[0] != before


def test_a_place_saved_from_a_copy_loaded_before_another_write_is_carried_over(spread):
    from mediation.models import Structure

    places, _ = spread
    stale = Structure.objects.get(pk=places[3].pk)  # loaded before the move below
    places[3].latitude, places[3].longitude = 47.9, 2.7
    places[3].save()
    form = _form()
    markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, _next_version())
    stale.name = "Nom corrigé"
    stale.save()  # writes its old position back: the cell it leaves is the stored one
    stamp = _next_version()
    assert markers.patched(form, stamp) is not None
    _same_grid(markers.whole_grid(form, markers.WHOLE_GRID_ZOOM, stamp), _built_anew(form))


def test_a_failed_move_leaves_anything_changed_for_the_next_one(spread, monkeypatch):
    from mediation import versioning

    places, _ = spread
    places[0].save()
    monkeypatch.setattr(versioning, "_current", lambda: (_ for _ in ()).throw(DatabaseError()))
    with pytest.raises(DatabaseError):
        versioning.move_version()
    assert versioning.pending_changes().all
