"""The list's statement near a point, compiled once per shape of filters.

Building and compiling `StructureQuerySet.located_near()` (two filtered branches
of a UNION ALL) took about a third of a `near` request's time, for a statement
whose text depends only on which filters are given, not on the point, the radius
or a place's commune. So the first request of each shape compiles it twice: with
its own values and with stand-ins (`STAND_INS`) for those that vary; the
parameters where a stand-in shows are noted by name, and the statement kept if
putting the request's own values in gives back exactly what the ORM wrote
(otherwise that shape always takes the ORM: slower, never wrong). Later requests
of that shape only fill the parameters in.

The filters stay those of the FilterSet and the QuerySet's named queries: this
module only keeps what they compile to. `mediation/statements.py` does the same
for the search page (querysets near a point, two stand-in points, no filter
value filled in); the two were written the same morning and should become one.
"""

import threading
from collections import OrderedDict

from django_filters.constants import EMPTY_VALUES

from mediation.models import near_parameters, page_of_located

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

CAPACITY = 256  # shapes kept per process; partners use a handful
_statements = OrderedDict()  # shape → (sql, template) or None (not kept: use the ORM)
_lock = threading.Lock()


def _shape(filterset, using):
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
    key = (using, "near", tuple(items))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _values(filterset, point):
    """The request's varying values, by name: those the stand-ins take the place of."""
    data = filterset.form.cleaned_data
    values = near_parameters(*point)
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


def _template(params, stand_ins):
    """For each parameter, the name of the stand-in it is (or None: a constant)."""
    by_value = {}
    for name, value in stand_ins.items():
        if value is not None:
            by_value.setdefault((type(value), value), []).append(name)
    if any(len(names) > 1 for names in by_value.values()):
        return None  # two stand-ins alike: which is which could not be told
    return [(by_value.get((type(param), param), [None])[0], param) for param in params]


def _filled(template, values):
    return [param if name is None else values[name] for name, param in template]


def page_near(filterset, queryset, *, offset, limit):
    """`filterset.filter_except_point(queryset).page_near(*filterset.point, …)`, from
    the statement kept for the request's shape of filters when there is one."""
    point = filterset.point
    using = queryset.db
    key = _shape(filterset, using)
    with _lock:
        kept = _statements.get(key, False) if key is not None else None
        if kept:
            _statements.move_to_end(key)
    values = _values(filterset, point)
    if kept:
        sql, template = kept
        return page_of_located(using, sql, _filled(template, values), offset=offset, limit=limit)
    sql, params = filterset.filter_except_point(queryset).located_near(*point)
    if kept is False:  # first request of this shape: compile it with the stand-ins too
        stand_ins = near_parameters(*POINT_STAND_IN)
        stand_ins.update(STRING_STAND_INS)
        stand_ins.update(zip(BBOX_NAMES, BBOX_STAND_IN, strict=True))
        stand_in_queryset = filterset.filter_except_point(queryset, _stand_in_data(filterset))
        stand_in_sql, stand_in_params = stand_in_queryset.located_near(*POINT_STAND_IN)
        template = _template(stand_in_params, stand_ins)
        same = template is not None and stand_in_sql == sql and _filled(template, values) == params
        with _lock:
            _statements[key] = (sql, template) if same else None
            while len(_statements) > CAPACITY:
                _statements.popitem(last=False)
    return page_of_located(using, sql, params, offset=offset, limit=limit)
