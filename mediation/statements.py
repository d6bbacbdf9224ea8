"""Queries near a point, compiled once per database and shape, run with each point's numbers.

A search near a new point builds the same querysets as the previous one (the
filters come from the `StructureQuerySet` named queries), only the point's
numbers differ: compiling them again is most of a new search's Python. Here a
queryset is built and compiled twice, at two unlikely points, and the
parameters that differ between the two are matched with the numbers a query
near a point carries (`point_values()`); the SQL is then kept, and a later
point only fills its own numbers in. A shape whose parameters cannot all be
matched that way is not kept: it is built and run by the ORM each time.
"""

from django.db import connections

from mediation.models import NEAREST_RADII_KM, bounding_box, inscribed_box, planar_coefficients

# Two points no search starts from, whose numbers all differ.
_SENTINELS = ((47.123456789, 1.987654321), (46.876543219, 2.345678912))
_SENTINEL_IDS = (10**12, 2 * 10**12)  # ids: sentinel + position in the list
_KEPT = 2000  # statements kept per process, at most (shapes: filters × radius × slice)
_statements = {}  # {(alias, key, ids): (sql, slots, columns, converters) or None}


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
    alias = using
    statement = _statements.get((alias, key, len(ids)), False)
    if statement is False:
        statement = _compile(build, len(ids), alias)
        if len(_statements) >= _KEPT:
            _statements.clear()
        _statements[(alias, key, len(ids))] = statement
    if statement is None:
        queryset = build(lat, lon, ids) if ids else build(lat, lon)
        return [tuple(row) for row in queryset]
    sql, slots, columns, converters = statement
    values = point_values(lat, lon, ids)
    params = [values[slot] if is_slot else slot for is_slot, slot in slots]
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = [list(row[:columns]) for row in cursor.fetchall()]
    # As `SQLCompiler.apply_converters()`, with this thread's connection.
    for row in fetched:
        for position, (functions, expression) in converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
    return [tuple(row) for row in fetched]


def _built(build, lat, lon, count, base=0):
    if count:
        return build(lat, lon, [base + position for position in range(count)])
    return build(lat, lon)


def _compile(build, count, alias):
    """(sql, slots, columns, converters) of the queryset `build` makes, or None when its
    parameters cannot all be told from the point's numbers."""
    compiled = []
    for (lat, lon), base in zip(_SENTINELS, _SENTINEL_IDS, strict=True):
        queryset = _built(build, lat, lon, count, base)
        query = queryset.query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        values = point_values(lat, lon, [base + position for position in range(count)])
        compiled.append((sql, list(params), compiler, values))
    (sql, first, compiler, first_values), (other_sql, second, _compiler, second_values) = compiled
    if sql != other_sql or len(first) != len(second) or not queryset._fields:
        return None
    slots = []
    for one, two in zip(first, second, strict=True):
        if one == two:
            slots.append((False, one))
            continue
        matching = [
            name
            for name in first_values
            if first_values[name] == one and second_values[name] == two
        ]
        if len(matching) != 1:
            return None
        slots.append((True, matching[0]))
    # As `compiler.results_iter()` reads the rows: the selected columns, converted.
    columns = compiler.col_count
    converters = compiler.get_converters([column for column, *_ in compiler.select[:columns]])
    return sql, slots, columns, list(converters.items())
