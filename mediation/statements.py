"""Statements compiled once per shape, run with each request's values.

A search near a new point, or an API request with other values, builds the same
querysets as the previous one (the filters come from the `StructureQuerySet`
named queries): only some numbers and names differ, and compiling again is most
of a request's Python. The one rule, here for both: compile the statement twice,
with two sets of named values (`template()`); each parameter that differs must be
exactly one of those values, and filling either set back in (`fill()`) must
give the ORM's own parameters; the SQL is then kept (`Kept`), and a later request
of that shape only fills its values in. A shape that fails the check is not kept:
the ORM builds and runs it each time, slower, never wrong.

`rows()` does it for the search page's querysets near a point (two unlikely
points, `point_values()`); `mediation/api/compiled.py` for the API list's
statement (the request's values and stand-ins).
"""

import threading
from collections import OrderedDict

from django.db import connections

from mediation.models import NEAREST_RADII_KM, bounding_box, inscribed_box, planar_coefficients

# Two points no search starts from, whose numbers all differ.
_SENTINELS = ((47.123456789, 1.987654321), (46.876543219, 2.345678912))
_SENTINEL_IDS = (10**12, 2 * 10**12)  # ids: sentinel + position in the list
MISSING = object()


class Kept:
    """What a process keeps (statements, the map's grids), the least recently used
    dropped past `capacity`; shared by the threads of a gthread worker."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """What is kept for `key` (for a statement, None when that shape is never
        kept), or `MISSING` when nothing is."""
        with self._lock:
            found = self._items.get(key, MISSING)
            if found is not MISSING:
                self._items.move_to_end(key)
            return found

    def put(self, key, statement):
        with self._lock:
            self._items[key] = statement
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()


def template(first, first_values, second, second_values):
    """`(sql, slots)` of a statement compiled twice — `first` and `second`, each
    `(sql, params)` — with two sets of named values; None when it cannot be kept:
    the texts differ, a parameter that differs is not exactly one named value, or
    filling either set back in does not give its parameters."""
    (sql, first_params), (other_sql, second_params) = first, second
    first_params, second_params = list(first_params), list(second_params)
    if sql != other_sql or len(first_params) != len(second_params):
        return None
    slots = []
    for one, two in zip(first_params, second_params, strict=True):
        if one == two and type(one) is type(two):
            slots.append((None, one))  # the same whatever the values: part of the shape
            continue
        names = [
            name
            for name, value in first_values.items()
            if value == one and name in second_values and second_values[name] == two
        ]
        if len(names) != 1:
            return None
        slots.append((names[0], None))
    if fill(slots, first_values) != first_params or fill(slots, second_values) != second_params:
        return None
    return sql, slots


def fill(slots, values):
    """The parameters of a kept statement for `values` (see `template()`)."""
    return [constant if name is None else values[name] for name, constant in slots]


_statements = Kept(2000)  # the search's: shapes are filters × radius × slice × ids


def point_values(lat, lon, ids=()):
    """Every number a query near (lat, lon) may carry that depends on the point: the
    point, its planar coefficients, the boxes of `nearest()`'s discs; and `ids`."""
    cos0, slope = planar_coefficients(lat)
    values = {"lat": lat, "lon": lon, "cos0": cos0, "slope": slope}
    for radius in NEAREST_RADII_KM:
        for name, box in (
            ("bounding", bounding_box(lat, lon, float(radius))),
            ("inscribed", inscribed_box(lat, lon, radius)),
        ):
            values.update({(name, radius, side): value for side, value in enumerate(box)})
    values.update({("id", position): pk for position, pk in enumerate(ids)})
    return values


def rows(build, key, lat, lon, ids=(), *, using):
    """The rows of `build(lat, lon, ids)` (a sliced or plain `values_list()` queryset,
    ids passed only when given), as tuples in the fields' order. `key` names the
    queryset's shape: everything but the point and the ids (filters, radius, slice,
    how many ids); `using`: the database the queryset reads."""
    lat, lon, ids = float(lat), float(lon), list(ids)
    key = (using, key, len(ids))
    statement = _statements.get(key)
    if statement is MISSING:
        statement = _compile(build, len(ids), using)
        _statements.put(key, statement)
    if statement is None:
        queryset = build(lat, lon, ids) if ids else build(lat, lon)
        return [tuple(row) for row in queryset]
    sql, slots, reading = statement
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, fill(slots, point_values(lat, lon, ids)))
        fetched = cursor.fetchall()
    return [tuple(row) for row in converted(fetched, reading, connection)]


def reader(compiler):
    """How `compiler.results_iter()` reads its rows: how many columns are selected,
    and their converters by position (for `converted()`)."""
    columns = compiler.col_count
    found = compiler.get_converters([column for column, *_ in compiler.select[:columns]])
    return columns, list(found.items())


def converted(fetched, reading, connection):
    """The rows `fetched` by a kept statement, as the ORM gives them: its selected
    columns, converted (`reader()`), with this thread's `connection`."""
    columns, converters = reading
    rows = []
    for row in fetched:
        row = list(row[:columns])
        for position, (functions, expression) in converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
        rows.append(row)
    return rows


def _built(build, lat, lon, count, base=0):
    if count:
        return build(lat, lon, [base + position for position in range(count)])
    return build(lat, lon)


def _compile(build, count, alias):
    """(sql, slots, reader) of the queryset `build` makes, or None when its
    parameters cannot all be told from the point's numbers."""
    compiled = []
    for (lat, lon), base in zip(_SENTINELS, _SENTINEL_IDS, strict=True):
        queryset = _built(build, lat, lon, count, base)
        compiler = queryset.query.get_compiler(using=alias)
        values = point_values(lat, lon, [base + position for position in range(count)])
        compiled.append((compiler.as_sql(), values))
    if not queryset._fields:
        return None
    kept = template(*compiled[0], *compiled[1])
    if kept is None:
        return None
    return *kept, reader(compiler)
