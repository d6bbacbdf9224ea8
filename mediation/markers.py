"""The map's markers: what is in view, filtered as the search.

    GET /carte/lieux.json?v=<version>&bbox=<west>,<south>,<east>,<north>&zoom=<z>&<filters>

The filters are the search's own (`SearchForm`: type, service, besoin, public,
support, free, wheelchair, open_now, saturday), applied by the same QuerySet
methods (`search.filtered()`), so the map shows the list's places.

    {"fields": ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"],
     "kinds": {"1": "EPN", …},
     "rows": [[12, 46.81, 1.69, "…", "…", "…", [1, 7], null], …],
     "clusters": [[lat, lon, count, south, west, north, east], …],
     "complete": false, "hours_ignored": false}

An itinerant place has one more row per stop, with its id and the stop's place
and commune (`stop`: "Place de l’église", `city`: the stop's commune): it is
found on the map where it stops.

Three answers, by size:

- a small directory (at most `MAX_POINTS` markers in all: the region's 606
  places) answers every matching marker whatever the view (`complete`): the map
  fetches once per search and groups pins in the browser. One compact file is
  faster there than a request per move;
- a view holding at most `VIEW_MAX_PINS` matching markers: its pins (`rows`);
- otherwise `clusters`, computed in SQL: markers grouped in a grid whose cells
  are about `GRID["px"]` pixels wide at the zoom asked (GROUP BY the cell's row
  and column with COUNT, AVG, MIN and MAX — the same query on SQLite and
  PostgreSQL). From `WHOLE_GRID_ZOOM` out, where a view holds most of the
  directory, the grid of the whole directory is kept per data version and
  filters, and each view is a cut of it; only the finest of those grids is read
  from the database, the coarser ones are unions of its cells (`coarser`). The
  unfiltered one is prepared by the commit that moves the data version
  (`prepare`), so no visitor waits for it; a filtered one by its first visitor.
  A new version's finest grid is carried over from an earlier version's when
  the writes between them said where they changed the map (`changed_cells`):
  only those cells are read again (`patched`), a few rows rather than the
  whole directory. A write that did not say (an import, a bulk update, a cache
  lost) builds it anew. Those the writer prepared are stored in the database as
  well (`MapGrid`): a server that starts while the shared cache is lost reads
  them there. The opening-hours filters are read in Python (see
  `search.hours_filters`): clusters count without them (`hours_ignored`).

The box is widened to whole cells, so a cell is never split between two
answers and the same few URLs come back as the map moves. Each answer is cached
(plain and gzipped) under a key made of the data version
(mediation/versioning.py), the filters and the cells asked, and served with an
ETag; a URL carrying the current version (`v`, written by the page) is
immutable for the browser.
"""

import gzip
import hashlib
import logging
import math
from urllib.parse import urlencode

import orjson
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Avg, Count, Exists, F, Max, Min, OuterRef, Q
from django.db.models.functions import Floor
from django.db.models.signals import m2m_changed, pre_delete, pre_save
from django.http import HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from mediation import search, statements
from mediation.forms import SearchForm
from mediation.models import MapGrid, ServiceType, Stop, Structure
from mediation.versioning import (
    pending_changes,
    stamp_counter,
    structures_version,
    version_moved,
)

logger = logging.getLogger(__name__)

FIELDS = ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"]
MAX_POINTS = 1500  # a directory this small is one file per search: ≈ 45 KB gzipped
# Pins per view of a larger directory: reading, typing and writing 1,500 pins took
# 100 ms on PostgreSQL at 100,000 places; a denser view comes in clusters.
VIEW_MAX_PINS = 500
# Grid cells: `px` screen pixels wide at the zoom asked; a cell's height in degrees
# is its width times `latRatio` (≈ cos 45.6°: squares on a map of mainland France).
# home.js widens its box to the same cells.
GRID = {"px": 64, "latRatio": 0.7}
MAX_CELLS = 2500  # a wider box is answered at a coarser zoom
# At this zoom and below (a département and wider), the grid of the whole directory
# is computed once per data version and filters, then cut to each view.
WHOLE_GRID_ZOOM = 10
DEFAULT_ZOOM = 6
MAX_ZOOM = 22
WORLD = (-180.0, -90.0, 180.0, 90.0)
CACHE_TTL = 600  # seconds; the key already changes when the data does
# The whole grids and the directory's size (a few tens of KB per version and
# filters) are kept longer: recomputing one costs a GROUP BY over the directory.
GRID_TTL = 24 * 3600
# In the key of every whole grid, kept or stored (`MapGrid`): to be moved whenever
# the code gives other cells for the same data (their geometry above, their layout,
# the filters), so that no grid an earlier release stored is read.
GRID_FORMAT = 1
BROWSER_MAX_AGE = 60  # seconds before the browser revalidates with its ETag
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
HOURS_FILTERS = ("open_now", "saturday")
SQL_FILTERS = tuple(name for name in SearchForm.FILTERS if name not in HOURS_FILTERS)
# A finest grid is carried over from a version at most this many moves back,
# reading again at most this many cells; beyond, it is built anew.
PATCH_DEPTH = 16
# The filters whose grids were last built for visitors: a new version's are
# prepared with the unfiltered one, by the writer (a few ms each after an edit).
RECENT_FILTERS = 8
RECENT_FILTERS_KEY = "mediation:markers-recent-filters"
PATCH_MAX_CELLS = 64
# The finest whole grids (`whole_grid`) a process built or read are also kept by
# it, and read there first: a shared cache lost or unreachable does not make every
# view far out wait for a GROUP BY over the whole directory (a process that never
# had the grid reads the one `prepare()` stored, or failing that builds it), and
# a view saves unpickling it. A key names its data version, so a copy is never
# stale. Room for the unfiltered grid and the `RECENT_FILTERS` that `prepare()`
# makes, and one more: each is a few thousand cells (about 2,000, 0.8 MB, for the
# region's 100,000 places).
LOCAL_GRIDS = RECENT_FILTERS + 2
# A position this close to a cell's edge (in degrees) marks both cells changed:
# the database's FLOOR and Python's may round the division differently there.
EDGE = 1e-9


class BadRequest(ValueError):
    """A parameter the map never sends: answered 400 with a French message."""


def version_token(stamp=None):
    """The data version, short, as the page writes it in the markers' URL."""
    stamp = stamp if stamp is not None else structures_version()[0]
    return hashlib.sha1(stamp.encode()).hexdigest()[:12]


def url(params, *, stamp=None):
    """The markers' URL for the search's filters in `params` (a QueryDict or a dict)."""
    query = [("v", version_token(stamp))]
    for name in SearchForm.FILTERS:
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
        query += [(name, value) for value in values if value]
    return f"{reverse('mediation:markers')}?{urlencode(query)}"


def by_view(*, stamp=None):
    """Whether the map must ask for each view (a large directory), or may ask
    once per search for every matching marker (a small one: one URL, cached)."""
    return directory_size(stamp if stamp is not None else structures_version()[0]) > MAX_POINTS


def cell_steps(zoom):
    """(latitude step, longitude step) of the grid at `zoom`, in degrees."""
    lon_step = 360 / 2**zoom * GRID["px"] / 256
    return lon_step * GRID["latRatio"], lon_step


def cells_of(bbox, zoom):
    """The grid cells holding `bbox`: (zoom, (first row, first column, last row,
    last column)), at a coarser zoom when the box holds more than `MAX_CELLS`."""
    west, south, east, north = bbox
    while True:
        lat_step, lon_step = cell_steps(zoom)
        # A box already on the grid (as home.js sends it) keeps its cells.
        span = (
            math.floor(south / lat_step + 1e-6),
            math.floor(west / lon_step + 1e-6),
            math.ceil(north / lat_step - 1e-6) - 1,
            math.ceil(east / lon_step - 1e-6) - 1,
        )
        count = (span[2] - span[0] + 1) * (span[3] - span[1] + 1)
        if count <= MAX_CELLS or zoom == 0:
            return zoom, span
        zoom -= 1


def parse(query):
    """(form, bbox, zoom) of a request's parameters; `BadRequest` when unreadable."""
    form = SearchForm(query)
    form.is_valid()  # invalid filter values are ignored, as in the search
    text = query.get("bbox", "")
    if text:
        try:
            bbox = tuple(float(part) for part in text.split(","))
        except ValueError:
            bbox = ()
        if len(bbox) != 4 or not all(math.isfinite(value) for value in bbox):
            raise BadRequest(
                "bbox : quatre nombres séparés par des virgules sont attendus, "
                "ouest,sud,est,nord (par exemple 1.2,46.5,2.3,47.1)."
            )
        west, south, east, north = bbox
        bbox = (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))
        if bbox[0] >= bbox[2] or bbox[1] >= bbox[3]:
            raise BadRequest("bbox : l’ouest doit être avant l’est, et le sud avant le nord.")
    else:
        bbox = WORLD
    zoom = query.get("zoom", "")
    if zoom == "":
        zoom = DEFAULT_ZOOM
    elif zoom.isdigit() and int(zoom) <= MAX_ZOOM:
        zoom = int(zoom)
    else:
        raise BadRequest(f"zoom : un nombre entier de 0 à {MAX_ZOOM} est attendu.")
    return form, bbox, zoom


# The directory's marker count, per data version, in this process.
_size = (None, 0)
_local_grids = statements.Kept(LOCAL_GRIDS)


def _size_key(stamp):
    return f"mediation:markers-size:{version_token(stamp)}"


def directory_size(stamp):
    """How many markers the whole directory has (places with a position, and stops);
    kept per data version in this process and in the shared cache."""
    global _size
    kept_stamp, size = _size  # one read: another thread may replace it meanwhile
    if kept_stamp != stamp:
        key = _size_key(stamp)
        size = cache.get(key)
        if size is None:
            size = _stored_size(stamp)
            if size is None:
                places = Structure.objects.published().filter(
                    latitude__isnull=False, longitude__isnull=False
                )
                size = places.count() + Stop.objects.of_published().count()
            cache.set(key, size, GRID_TTL)
        _size = (stamp, size)
    return size


def _boxed(queryset, span, zoom):
    lat_step, lon_step = cell_steps(zoom)
    first_row, first_column, last_row, last_column = span
    return queryset.filter(
        latitude__gte=first_row * lat_step,
        latitude__lt=(last_row + 1) * lat_step,
        longitude__gte=first_column * lon_step,
        longitude__lt=(last_column + 1) * lon_step,
    )


def _markers(form):
    """(places with a position, stops) passing the search's SQL filters."""
    structures = search.filtered(form)
    places = structures.filter(latitude__isnull=False, longitude__isnull=False)
    # EXISTS, stop by stop (after the box): `structure__in` would have the database
    # list every matching place first — 100,000 of them for a bare search.
    stops = Stop.objects.filter(Exists(structures.filter(pk=OuterRef("structure_id"))))
    return places, stops


def _cells(queryset, zoom):
    """{(row, column): (count, Σlat, Σlon, south, west, north, east)} in one GROUP BY."""
    lat_step, lon_step = cell_steps(zoom)
    grouped = (
        queryset.annotate(
            cell_row=Floor(F("latitude") / lat_step), cell_column=Floor(F("longitude") / lon_step)
        )
        .values("cell_row", "cell_column")
        .annotate(
            n=Count("pk"),
            lat=Avg("latitude"),
            lon=Avg("longitude"),
            south=Min("latitude"),
            west=Min("longitude"),
            north=Max("latitude"),
            east=Max("longitude"),
        )
        .order_by()
        .values_list("cell_row", "cell_column", "n", "lat", "lon", "south", "west", "north", "east")
    )
    # FLOOR gives a float on SQLite and PostgreSQL: the cell's key is a pair of ints.
    return {
        (int(row), int(column)): (n, n * lat, n * lon, *box)
        for row, column, n, lat, lon, *box in grouped
    }


def _merge(cells, key, cell):
    """Add `cell` (count, Σlat, Σlon, south, west, north, east) into `cells[key]`."""
    if key in cells:
        m = cells[key]
        n, lat, lon, south, west, north, east = cell
        cells[key] = (
            m[0] + n,
            m[1] + lat,
            m[2] + lon,
            min(m[3], south),
            min(m[4], west),
            max(m[5], north),
            max(m[6], east),
        )
    else:
        cells[key] = cell


def grid(places, stops, zoom):
    """{(row, column): (count, Σlat, Σlon, south, west, north, east)}: places and stops
    grouped by grid cell (two GROUP BY queries, merged)."""
    merged = _cells(places, zoom)
    for key, cell in _cells(stops, zoom).items():
        _merge(merged, key, cell)  # places and stops in the same cell: one bubble
    return merged


def coarser(cells, levels):
    """`cells` of a grid, grouped `levels` zooms out: a cell at zoom z - 1 is exactly
    four cells at zoom z (its steps are twice as long, and floor(x / 2s) is
    floor(floor(x / s) / 2)), so the counts and extents are those SQL would give."""
    grouped = {}
    for (row, column), cell in cells.items():
        _merge(grouped, (row >> levels, column >> levels), cell)
    return grouped


def _unfiltered():
    """The search form without any filter: the map as it opens."""
    form = SearchForm({})
    form.is_valid()
    return form


def _stored_size(stamp):
    """The directory's size from the unfiltered finest grid `prepare()` stored for
    version `stamp` (then kept by this process: the view asked will read it), or
    None: a small directory has none, a large one only after a change."""
    key = _grid_key(stamp, _unfiltered(), WHOLE_GRID_ZOOM)
    cells = _stored_grid(key)
    if cells is None:
        return None
    _local_grids.put(key, cells)
    return _count(cells)


def _kept_grid(key):
    """The grid kept under `key` by this process (`_local_grids`) or, failing that, in
    the shared cache (then kept by this process too); None when neither has it."""
    cells = _local_grids.get(key)
    if cells is not statements.MISSING:
        return cells
    cells = cache.get(key)
    if cells is not None:
        _local_grids.put(key, cells)
    return cells


def _keep_grid(key, cells, *, local=False):
    cache.set(key, cells, GRID_TTL)
    if local:
        _local_grids.put(key, cells)


def _stored_grid(key):
    """The finest grid `prepare()` stored in the database under `key`, or None."""
    try:
        stored = MapGrid.objects.filter(key=key).values_list("cells", flat=True).first()
    except DatabaseError:
        logger.exception("Grille de la carte illisible dans la base")
        return None
    if stored is None:
        return None
    return {
        (row, column): tuple(cell) for row, column, *cell in orjson.loads(gzip.decompress(stored))
    }


def _store_grids(stamp, grids):
    """Keep the finest grids `grids` ({key: cells}) of version `stamp` in the database
    too (`MapGrid`), and delete those of earlier versions (a concurrent writer's,
    of a later version, stay)."""
    counter = stamp_counter(stamp)
    rows = [
        MapGrid(
            key=key,
            counter=counter,
            cells=gzip.compress(
                orjson.dumps([[*key, *cell] for key, cell in cells.items()]),
                compresslevel=1,
                mtime=0,
            ),
        )
        for key, cells in grids.items()
    ]
    MapGrid.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["key"], update_fields=["counter", "cells"]
    )
    MapGrid.objects.filter(counter__lt=counter).delete()


def whole_grid(form, zoom, stamp, *, remember=True):
    """`grid()` of every marker passing the filters, at `zoom` ≤ `WHOLE_GRID_ZOOM`,
    kept per data version: far out, a view holds most of the directory, and every
    view at that zoom is a cut of the same few hundred cells. Only the finest grid
    is read from the database (carried over from the previous version, stored by
    `prepare()`, or failing both one GROUP BY per version and filters); the
    coarser ones are derived from it."""
    key = _grid_key(stamp, form, zoom)
    cells = _kept_grid(key) if zoom == WHOLE_GRID_ZOOM else cache.get(key)
    if cells is None:
        if zoom < WHOLE_GRID_ZOOM:
            cells = coarser(whole_grid(form, WHOLE_GRID_ZOOM, stamp), WHOLE_GRID_ZOOM - zoom)
        else:
            cells = patched(form, stamp)
            if cells is None:  # prepared after the commit, the shared cache lost since?
                cells = _stored_grid(key)
            if cells is None:
                cells = grid(*_markers(form), zoom)
            if remember:
                _remember(form)
        _keep_grid(key, cells, local=zoom == WHOLE_GRID_ZOOM)
    return cells


def _filters_query(form):
    """The form's filters that a grid counts (`SQL_FILTERS`) as a query string (""
    without any), in a stable order."""
    pairs = []
    for name in SQL_FILTERS:
        values = form.data.getlist(name) if hasattr(form.data, "getlist") else form.data.get(name)
        values = values if isinstance(values, list | tuple) else [values]
        pairs += [(name, str(value)) for value in values if value not in (None, "", False)]
    return urlencode(sorted(pairs))


def _remember(form):
    """Note `form`'s filters among the `RECENT_FILTERS` whose grids `prepare()` keeps ready."""
    query = _filters_query(form)
    if query:
        recent = [q for q in cache.get(RECENT_FILTERS_KEY, []) if q != query]
        cache.set(RECENT_FILTERS_KEY, [query, *recent][:RECENT_FILTERS], GRID_TTL)


def _grid_key(stamp, form, zoom):
    # The hours filters left out: a grid counts without them (`hours_ignored`), so
    # "open now" far out is a cut of the grid without it, not another GROUP BY.
    parts = [GRID_FORMAT, GRID, stamp, search.filters_key(form, SQL_FILTERS), zoom]
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()
    return f"mediation:markers-grid:{digest[:20]}"


def _changes_key(stamp):
    return f"mediation:markers-changes:{version_token(stamp)}"


def patched(form, stamp):
    """The finest whole grid of version `stamp`, carried over from the latest earlier
    version whose grid for these filters is kept: its cells, but those the moves
    since then changed (`changed_cells`), read again from the database. None when
    it cannot be: a move that did not say what it changed, no earlier grid kept
    within `PATCH_DEPTH` moves, or more than `PATCH_MAX_CELLS` cells to read."""
    changed, current = set(), stamp
    for _ in range(PATCH_DEPTH):
        record = cache.get(_changes_key(current))
        if record is None:
            return None
        previous, cells = record
        if previous is None or cells is None:
            return None
        changed |= cells
        if len(changed) > PATCH_MAX_CELLS:
            return None
        base = _kept_grid(_grid_key(previous, form, WHOLE_GRID_ZOOM))
        if base is not None:
            break
        current = previous
    else:
        return None
    places, stops = _markers(form)
    fresh = grid(_in_cells(places, changed), _in_cells(stops, changed), WHOLE_GRID_ZOOM)
    cells = {key: cell for key, cell in base.items() if key not in changed}
    cells.update((key, cell) for key, cell in fresh.items() if key in changed)
    return cells


def _in_cells(queryset, cells):
    """`queryset`'s rows in any of the finest grid's `cells`, and maybe a few just
    around them (each box is widened by `EDGE`: the GROUP BY tells them apart)."""
    lat_step, lon_step = cell_steps(WHOLE_GRID_ZOOM)
    boxes = Q()
    for row, column in cells:
        boxes |= Q(
            latitude__gte=row * lat_step - EDGE,
            latitude__lt=(row + 1) * lat_step + EDGE,
            longitude__gte=column * lon_step - EDGE,
            longitude__lt=(column + 1) * lon_step + EDGE,
        )
    return queryset.filter(boxes) if cells else queryset.none()


def cells_at(latitude, longitude):
    """The finest grid's cells holding a position: one, or two to four on an edge."""
    lat_step, lon_step = cell_steps(WHOLE_GRID_ZOOM)
    rows = {math.floor(latitude / lat_step + sign * EDGE) for sign in (-1, 1)}
    columns = {math.floor(longitude / lon_step + sign * EDGE) for sign in (-1, 1)}
    return {(row, column) for row in rows for column in columns}


def changed_cells(changes):
    """The finest grid's cells a transaction's `Changes` touched: where its positions
    are, and where the changed places' stops are now; None for "anywhere"."""
    if changes is None:
        return None
    positions = set(changes.positions)
    if changes.structures:
        positions.update(
            Stop.objects.filter(structure_id__in=changes.structures).values_list(
                "latitude", "longitude"
            )
        )
    cells = set()
    for latitude, longitude in positions:
        cells |= cells_at(latitude, longitude)
    return cells if len(cells) <= PATCH_MAX_CELLS else None


# --- What a write changes on the map, noted before it is made (the version moves
# right after a write made outside a transaction). A place is shown at its position
# and at its stops, by its status and what the filters read: any of its changes
# touches those cells, before and after it (a move touches two).


def _position_in_database(model, pk):
    """The row's (latitude, longitude) as stored, or None: not the instance's, which
    may have been loaded before another write. Locked until the transaction ends,
    so that a concurrent move of the same row is waited for, not missed."""
    rows = model.objects.filter(pk=pk)
    if connection.in_atomic_block:
        rows = rows.select_for_update()
    return rows.values_list("latitude", "longitude").first()


def _place_noted(changes, instance):
    """Note a place's position as stored and its stops (where the map shows it)."""
    if changes.all:  # nothing more to learn: no query
        return
    if instance.pk is not None:
        changes.structure(instance.pk)
        stored = _position_in_database(Structure, instance.pk)
        if stored:
            changes.position(*stored)


def _place_saved(sender, instance, raw=False, **kwargs):
    changes = pending_changes()
    if raw:  # a fixture: nothing loaded to compare with
        changes.everything()
        return
    changes.position(instance.latitude, instance.longitude)
    _place_noted(changes, instance)


def _place_deleted(sender, instance, **kwargs):
    _place_noted(pending_changes(), instance)


def _stop_saved(sender, instance, raw=False, **kwargs):
    changes = pending_changes()
    if raw:
        changes.everything()
        return
    changes.position(instance.latitude, instance.longitude)
    if instance.pk is not None and not changes.all:
        stored = _position_in_database(Stop, instance.pk)
        if stored:
            changes.position(*stored)


def _stop_deleted(sender, instance, **kwargs):
    changes = pending_changes()
    if not changes.all:
        stored = _position_in_database(Stop, instance.pk)
        changes.position(*(stored or (instance.latitude, instance.longitude)))


def _kinds_changed(sender, instance, action, reverse, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    changes = pending_changes()
    if reverse:  # a kind's places changed from the kind's side: any of them
        changes.everything()
    else:
        _place_noted(changes, instance)


def _kind_changed(sender, instance, **kwargs):
    pending_changes().everything()  # the type filter reads kinds by slug


pre_save.connect(_place_saved, sender=Structure, dispatch_uid="markers-place-saved")
pre_delete.connect(_place_deleted, sender=Structure, dispatch_uid="markers-place-deleted")
pre_save.connect(_stop_saved, sender=Stop, dispatch_uid="markers-stop-saved")
pre_delete.connect(_stop_deleted, sender=Stop, dispatch_uid="markers-stop-deleted")
m2m_changed.connect(_kinds_changed, sender=Structure.kinds.through, dispatch_uid="markers-kinds")
pre_save.connect(_kind_changed, sender=ServiceType, dispatch_uid="markers-kind-saved")
pre_delete.connect(_kind_changed, sender=ServiceType, dispatch_uid="markers-kind-deleted")


def warm(previous=None, stamp=None, changes=None, **kwargs):
    """Once the data version has moved (after a commit): note which cells it
    changed since `previous`, for `patched()`, then `prepare()` the new version."""
    if stamp is not None:
        try:
            cells = changed_cells(changes)
        except DatabaseError:
            cells = None
        cache.set(_changes_key(stamp), (previous, cells), GRID_TTL)
    if connection.in_atomic_block:
        # Not committed yet (a test's transaction): rows that may be rolled back
        # must not be kept under the version's key.
        return
    prepare()


def prepare():
    """The unfiltered map's grids of the current version, so that no visitor pays
    the GROUP BY over the whole directory — the change's writer does, once per
    transaction — and the directory's size, their total; then the finest grids
    of the filters visitors last asked for (`RECENT_FILTERS`). After an edit each
    is carried over from the previous version (`patched`): a few milliseconds;
    after an import, built anew. Other filters' grids are computed when first
    asked. The finest grids are stored in the database too (`MapGrid`), for a
    server that starts while the shared cache is lost. A failure leaves them to
    the first visitor."""
    global _size
    try:
        stamp = structures_version()[0]
        form = _unfiltered()
        finest = whole_grid(form, WHOLE_GRID_ZOOM, stamp)
        size = sum(cell[0] for cell in finest.values())
        cache.set(_size_key(stamp), size, GRID_TTL)
        _size = (stamp, size)
        stored = {}
        if size > MAX_POINTS:  # a small directory is one file per search: no grid
            for zoom in range(WHOLE_GRID_ZOOM - 1, -1, -1):
                whole_grid(form, zoom, stamp)
            stored = {_grid_key(stamp, form, WHOLE_GRID_ZOOM): finest}
            for query in cache.get(RECENT_FILTERS_KEY, []):
                filtered = SearchForm(QueryDict(query))
                filtered.is_valid()
                key = _grid_key(stamp, filtered, WHOLE_GRID_ZOOM)
                stored[key] = whole_grid(filtered, WHOLE_GRID_ZOOM, stamp, remember=False)
    except DatabaseError:  # the change is committed: never fail its writer for a cache
        logger.exception("Grille de la carte non préparée après un changement")
        return
    try:
        if stored:
            _store_grids(stamp, stored)
    except DatabaseError:  # the grids are in the caches: only a cold start pays
        logger.exception("Grilles de la carte non enregistrées dans la base")


version_moved.connect(warm, dispatch_uid="markers-warm")


def clusters(cells):
    """The bubbles: [[lat, lon, count, south, west, north, east], …] by cell."""
    return [
        [round(lat / n, 5), round(lon / n, 5), n, *(round(value, 5) for value in box)]
        for (n, lat, lon, *box) in (cells[key] for key in sorted(cells))
    ]


def pins(places, stops, form, now=None, *, most=None):
    """Rows of `FIELDS`, the places by id then their stops; the hours filters applied.
    With `most`: None when the places and stops are more than that (before the
    hours filters, as the clusters count them)."""
    by_hours = any(form.value(name) for name in HOURS_FILTERS)
    own = places.order_by("pk").values_list(
        "pk", "latitude", "longitude", "name", "slug", "city", "kind_ids", "opening_hours"
    )
    own = list(own if most is None else own[: most + 1])
    if most is not None and len(own) > most:
        return None
    at_stops = stops.order_by("structure_id", "pk").values_list(
        "structure_id",
        "latitude",
        "longitude",
        "structure__name",
        "structure__slug",
        "commune__name",
        "structure__kind_ids",
        "place",
        "opening_hours",
    )
    at_stops = list(at_stops if most is None else at_stops[: most - len(own) + 1])
    if most is not None and len(own) + len(at_stops) > most:
        return None
    if by_hours:
        # Each pin by its own hours: a place's at its address, a stop's where it stops.
        own = search.hours_filters(own, form, now)
        at_stops = search.hours_filters(at_stops, form, now)
    # The kinds from the place's own `kind_ids`, read with it.
    rows = [
        [pk, round(lat, 5), round(lon, 5), name, slug, city, [int(k) for k in kinds], None]
        for pk, lat, lon, name, slug, city, kinds, _hours in own
    ]
    rows += [
        [pk, round(lat, 5), round(lon, 5), name, slug, city, [int(k) for k in kinds], place]
        for pk, lat, lon, name, slug, city, kinds, place, _hours in at_stops
    ]
    return rows


def payload(form, bbox=WORLD, zoom=DEFAULT_ZOOM, *, stamp=None, now=None):
    """The answer as a dict (not cached); see the module's docstring."""
    stamp = stamp if stamp is not None else structures_version()[0]
    places, stops = _markers(form)
    document = {
        "fields": FIELDS,
        "kinds": {
            str(pk): short for pk, short in ServiceType.objects.values_list("pk", "short_name")
        },
        "rows": [],
        "clusters": [],
        "complete": directory_size(stamp) <= MAX_POINTS,
        "hours_ignored": False,
    }
    if document["complete"]:
        document["rows"] = pins(places, stops, form, now)
        return document
    zoom, span = cells_of(bbox, zoom)
    places, stops = _boxed(places, span, zoom), _boxed(stops, span, zoom)
    if zoom <= WHOLE_GRID_ZOOM:
        first_row, first_column, last_row, last_column = span
        cells = {
            (row, column): cell
            for (row, column), cell in whole_grid(form, zoom, stamp).items()
            if first_row <= row <= last_row and first_column <= column <= last_column
        }
        rows = pins(places, stops, form, now) if _count(cells) <= VIEW_MAX_PINS else None
    else:
        # Closer in, the finest whole grid (when kept) bounds the view's count:
        # few enough, the pins are read without grouping; surely too many, the
        # view is grouped; in between (or no grid kept), the pins are read
        # first, up to the most a view shows, and grouped only if more.
        least, likely, most = _count_in_view(form, span, zoom, stamp)
        if most is None:
            _remember(form)  # its grid is kept from the next version on
        if most is not None and most <= VIEW_MAX_PINS:
            cells, rows = {}, pins(places, stops, form, now)
        elif least is not None and least > VIEW_MAX_PINS:
            cells, rows = grid(places, stops, zoom), None
        elif likely is not None and likely > VIEW_MAX_PINS:
            cells = grid(places, stops, zoom)
            rows = pins(places, stops, form, now) if _count(cells) <= VIEW_MAX_PINS else None
        else:
            rows = pins(places, stops, form, now, most=VIEW_MAX_PINS)
            cells = grid(places, stops, zoom) if rows is None else {}
    if rows is not None:
        document["rows"] = rows
    else:
        document["clusters"] = clusters(cells)
        document["hours_ignored"] = any(form.value(name) for name in HOURS_FILTERS)
    return document


def _count(cells):
    return sum(cell[0] for cell in cells.values())


def _count_in_view(form, span, zoom, stamp):
    """(at least, likely, at most) how many markers pass the filters in the cells
    `span` at `zoom` (closer in than `WHOLE_GRID_ZOOM`), from the finest whole
    grid when it is kept: its cells wholly inside the view; each cell's count in
    the share of its area the view covers; the cells touching the view. (None,
    None, None) when that grid is not kept (nothing is computed for it, nor read
    from the database: a filter never prepared would pay that query each time)."""
    finest = _kept_grid(_grid_key(stamp, form, WHOLE_GRID_ZOOM))
    if finest is None:
        return None, None, None
    levels = zoom - WHOLE_GRID_ZOOM
    side = 1 << levels  # a finest cell is side × side cells of this zoom
    first_row, first_column, last_row, last_column = span
    least = likely = most = 0
    for (row, column), cell in finest.items():
        rows = min(last_row, ((row + 1) << levels) - 1) - max(first_row, row << levels) + 1
        columns = (
            min(last_column, ((column + 1) << levels) - 1) - max(first_column, column << levels) + 1
        )
        if rows <= 0 or columns <= 0:
            continue
        most += cell[0]
        likely += cell[0] * rows * columns / (side * side)
        if rows == side and columns == side:
            least += cell[0]
    return least, likely, most


def _cache_key(stamp, form, bbox, zoom, now):
    parts = [stamp, search.filters_key(form)]
    if directory_size(stamp) > MAX_POINTS:
        parts.append(cells_of(bbox, zoom))
    if any(form.value(name) for name in HOURS_FILTERS):
        parts.append(timezone.localtime(now).strftime("%Y-%m-%d %H:%M"))  # open *now*
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:20]


@require_GET
def markers(request):
    try:
        form, bbox, zoom = parse(request.GET)
    except BadRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    stamp, latest = structures_version()
    now = timezone.now()
    hours = any(form.value(name) for name in HOURS_FILTERS)
    if hours:
        latest = None  # open *now*: the answer changes with the minute, not the data
    key = _cache_key(stamp, form, bbox, zoom, now)
    etag = f'"{key[:16]}"'
    last_modified = int(latest.timestamp()) if latest else None  # HTTP dates have no fraction
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        response = not_modified
    else:
        cached = cache.get(f"mediation:markers:{key}")
        if cached is None:
            body = orjson.dumps(payload(form, bbox, zoom, stamp=stamp, now=now))
            cached = (body, gzip.compress(body, compresslevel=6, mtime=0))
            cache.set(f"mediation:markers:{key}", cached, CACHE_TTL)
        body, gzipped = cached
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            # Already compressed once for everybody: GZipMiddleware leaves it alone.
            response = HttpResponse(gzipped, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    if latest:
        response["Last-Modified"] = http_date(last_modified)
    if request.GET.get("v") == version_token(stamp) and not hours:
        response["Cache-Control"] = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
    else:
        response["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE}"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
