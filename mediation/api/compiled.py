"""The list's statements, compiled once per shape of filters: near a point, and
without one (in a box, by commune…).

Building and compiling `StructureQuerySet.located_near()` (two filtered branches
of a UNION ALL) took about a third of a `near` request's time, for a statement
whose text depends only on which filters are given, not on the point, the radius
or a place's commune. So the first request of each shape compiles it twice, with
its own values and with stand-ins (`STAND_INS`) for those that vary, and keeps it
by the one rule of `mediation/statements.py` (`template()`: every parameter that
differs is one named value, and filling either set back in gives the ORM's own);
later requests of that shape only fill their values in.

The list without `near` (`bbox`, `commune`…, ordered by name or `ordering`) is kept
by the same rule (`listed_page()`): the ORM built and compiled its statement for
every request, which took longer than running it.

The filters stay those of the FilterSet and the QuerySet's named queries: this
module only says which values vary, and keeps what they compile to.
"""

from django.db.models import Count, Window
from django_filters.constants import EMPTY_VALUES

from mediation import statements
from mediation.models import located_page, near_parameters

# Parameters whose value goes into the statement as one parameter, as it is:
# each gets a stand-in. Every other parameter's value is part of the shape.
STRING_STAND_INS = {
    "bassin": "\x1estand-in bassin\x1e",
    "departement": "\x1estand-in departement\x1e",
    "commune": "\x1estand-in commune\x1e",
}
POINT_STAND_IN = (47.000012345, 1.000067891, 10.000023456)  # lat, lon, radius (km)
BBOX_STAND_IN = (-1.000034567, 45.000045678, 1.000056789, 46.000078912)  # GeoJSON order
BBOX_NAMES = ("bbox_west", "bbox_south", "bbox_east", "bbox_north")
POINT_PARAMETERS = ("near", "radius")  # taken as the filterset's `point`
# Free values (any text, any date) would each be a shape of their own, compiled
# twice and pushing the others out: these requests take the ORM, as before.
NOT_KEPT = ("q", "updated_since")

_statements = statements.Kept(256)  # shapes kept per process; partners use a handful


def _shape(filterset, using, kind="near"):
    """The key of the request's statement, or None when a value cannot be a key."""
    items = []
    for name, value in filterset.form.cleaned_data.items():
        if name in POINT_PARAMETERS or value in EMPTY_VALUES:
            continue
        if name in NOT_KEPT:
            return None
        if name in STRING_STAND_INS or name == "bbox":
            items.append((name, None))
        else:
            items.append((name, tuple(value) if isinstance(value, list) else value))
    key = (using, kind, tuple(items))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _values(filterset, point):
    """The request's varying values, by name: those the stand-ins take the place of."""
    data = filterset.form.cleaned_data
    values = near_parameters(*point) if point else {}
    values.update({name: data.get(name) for name in STRING_STAND_INS})
    values.update(zip(BBOX_NAMES, data.get("bbox") or (None,) * 4, strict=True))
    return values


def _stand_in_data(filterset):
    data = dict(filterset.form.cleaned_data)
    for name, stand_in in STRING_STAND_INS.items():
        if data.get(name) not in EMPTY_VALUES:
            data[name] = stand_in
    if data.get("bbox") not in EMPTY_VALUES:
        data["bbox"] = BBOX_STAND_IN
    return data


def _statement(key, values, compiled, stand_in):
    """(sql, params) of a request: its values filled into the statement kept for its
    shape (`key`), or `compiled()`, the ORM's own. The first request of a shape also
    compiles `stand_in()` — ((sql, params), the stand-in values) — and keeps the
    statement by the rule of `mediation/statements.py`."""
    kept = _statements.get(key) if key is not None else None
    if kept not in (None, statements.MISSING):
        sql, slots = kept
        return sql, statements.fill(slots, values)
    sql, params = compiled()
    if kept is statements.MISSING:
        _statements.put(key, statements.template((sql, params), values, *stand_in()))
    return sql, params


def near_page(filterset, queryset):
    """(sql, params) of the places of `filterset.filter_except_point(queryset)` in the
    disc of `filterset.point`, nearest first, as (place, rank, total) — `rank` the
    squared distance (`located_page()`) — from the statement kept for the request's
    shape of filters when there is one."""
    point = filterset.point

    def stand_in():
        stand_ins = near_parameters(*POINT_STAND_IN)
        stand_ins.update(STRING_STAND_INS)
        stand_ins.update(zip(BBOX_NAMES, BBOX_STAND_IN, strict=True))
        stand_in_queryset = filterset.filter_except_point(queryset, _stand_in_data(filterset))
        return stand_in_queryset.located_near(*POINT_STAND_IN), stand_ins

    sql, params = _statement(
        _shape(filterset, queryset.db),
        _values(filterset, point),
        lambda: filterset.filter_except_point(queryset).located_near(*point),
        stand_in,
    )
    return located_page(sql), params


def listed(queryset):
    """(sql, params) of the keys of `queryset` in its order as (place, total): `total`
    how many rows (`COUNT(*) OVER ()`), before its page: `serializers.page_rows()`
    adds LIMIT and OFFSET."""
    counted = queryset.values_list("pk").annotate(total=Window(Count("pk")))
    return counted.query.get_compiler(using=queryset.db).as_sql()


def list_order(filterset, queryset):
    """The ORDER BY of the list without a point (field names, the key last): the
    `ordering` filter's, else the queryset's own."""
    ordered = filterset.filters["ordering"].filter(
        queryset, filterset.form.cleaned_data.get("ordering")
    )
    return tuple(ordered.query.order_by)


def listed_page(filterset, queryset):
    """(sql, params) of `filterset.filter_except_point(queryset)` without a point, as
    (place, total) (`listed()`), from the statement kept for the request's shape
    of filters (and ordering) when there is one."""

    def stand_in():
        stand_ins = dict(STRING_STAND_INS)
        stand_ins.update(zip(BBOX_NAMES, BBOX_STAND_IN, strict=True))
        return listed(filterset.filter_except_point(queryset, _stand_in_data(filterset))), stand_ins

    return _statement(
        _shape(filterset, queryset.db, kind="listed"),
        _values(filterset, None),
        lambda: listed(filterset.filter_except_point(queryset)),
        stand_in,
    )
