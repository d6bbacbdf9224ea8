"""The fast path of the partners' commonest question: `?near=lat,lon[&radius=km]`.

The general list path (django-filter's FilterSet and form, then ORM queries
built and compiled on every call) spends about 12 ms of Python per request,
whatever the data; the target is a p95 of 20 ms over 100,000 structures
(benchmarks/api_speed.py near). A request that asks nothing but a point, a
radius and a page takes this path instead: its parameters are read directly,
and one hand-written SQL statement, the same on SQLite and PostgreSQL, gives
the page's places with their distance, the total and their kinds.

Everything else goes the general way: any other parameter, a value this parser
does not accept as is (the general path then answers the French error), a
format other than JSON. Both paths give the same response byte for byte
(tests/api/test_nearby.py compares them on both databases), so what this
module computes is what `StructureQuerySet.near()`, `structure_queryset()` and
`kinds_by_structure()` compute:

- distance: `planar_coefficients()` (an equirectangular distance with no
  trigonometry per row), filtered and ordered by its square, then by id;
- kinds: in the order of the kinds, then by slug.
"""

import functools
import json
import math
import re
from datetime import UTC
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.dateparse import parse_datetime

from mediation import choices
from mediation.api.filters import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, MIN_RADIUS_KM, PointField
from mediation.api.serializers import STRUCTURE_FIELDS
from mediation.fields import MultiValueField
from mediation.models import (
    KM_PER_DEGREE,
    ServiceType,
    Stop,
    Structure,
    bounding_box,
    planar_coefficients,
)
from territories.models import BassinDeVie, Commune

PARAMETERS = {"near", "radius", "page", "page_size"}
RADIUS = re.compile(r"\d+(?:\.\d+)?")


def parse(query_params):
    """(lat, lon, radius_km) when the request is a plain `near=` search, else None."""
    if "near" not in query_params or not set(query_params) <= PARAMETERS:
        return None
    if any(len(query_params.getlist(name)) > 1 for name in query_params):
        return None
    try:
        lat, lon = PointField().clean(query_params["near"])
    except ValidationError:
        return None
    radius = query_params.get("radius", "")
    if radius == "":
        return lat, lon, float(DEFAULT_RADIUS_KM)
    if not RADIUS.fullmatch(radius) or not (MIN_RADIUS_KM <= Decimal(radius) <= MAX_RADIUS_KM):
        return None
    return lat, lon, float(radius)


def page(query, *, offset, limit):
    """(rows, total, kinds): the page's `structure_values()` dicts, nearest first,
    each with `distance_km`; the number of places in the disc; {id: kind slugs}."""
    lat, lon, radius_km = query
    south, north, west, east = bounding_box(lat, lon, radius_km)
    cos0, slope = planar_coefficients(lat)
    box = [lon, cos0, slope, lat, lat, choices.Status.PUBLISHED, south, north, west, east]
    disc = [*box, *box, (radius_km / KM_PER_DEGREE) ** 2]  # the places, then their stops
    connection = connections[router.db_for_read(Structure)]
    statements = _statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(statements.page, [*disc, limit, offset])
        names = [column[0] for column in cursor.description]
        fetched = cursor.fetchall()
        if not fetched and offset:  # past the end: the total, for the 404's message
            cursor.execute(statements.count, disc)
            return [], cursor.fetchone()[0], {}
    # One line per (place, kind), in the page's order then the kinds' order.
    rows, kinds, total = {}, {}, 0
    for values in fetched:
        row = dict(zip(names, values, strict=True))
        total, kind = row.pop("total"), row.pop("kind")
        if row["pk"] not in rows:
            row["distance_km"] = KM_PER_DEGREE * math.sqrt(row.pop("squared"))
            rows[row["pk"]] = _convert(row)
            kinds[row["pk"]] = []
        if kind is not None:
            kinds[row["pk"]].append(kind)
    return list(rows.values()), total, kinds


class _Statements:
    """The SQL of one database vendor, written once."""

    def __init__(self, quote):
        structure = Structure._meta
        commune, bassin = Commune._meta, BassinDeVie._meta
        through, kind = Structure.kinds.through._meta, ServiceType._meta
        s, c, b = quote(structure.db_table), quote(commune.db_table), quote(bassin.db_table)
        k, t = quote(through.db_table), quote(kind.db_table)

        def column(meta, name):
            return quote(meta.get_field(name).column)

        latitude, longitude = column(structure, "latitude"), column(structure, "longitude")
        structure_id = column(structure, "id")
        stop = Stop._meta
        p = quote(stop.db_table)
        stop_latitude, stop_longitude = column(stop, "latitude"), column(stop, "longitude")
        # Squared distance in degrees of a meridian (see planar_coefficients()), each
        # place at the nearest of its locations: its address or one of its stops.
        disc = f"""
            SELECT id, MIN(dx * dx + dy * dy) AS squared FROM (
                SELECT {structure_id} AS id,
                       ({longitude} - %s) * (%s - %s * ({latitude} - %s)) AS dx,
                       {latitude} - %s AS dy
                FROM {s}
                WHERE {column(structure, "status")} = %s
                  AND {latitude} BETWEEN %s AND %s AND {longitude} BETWEEN %s AND %s
                UNION ALL
                SELECT {p}.{column(stop, "structure")} AS id,
                       ({p}.{stop_longitude} - %s) * (%s - %s * ({p}.{stop_latitude} - %s)) AS dx,
                       {p}.{stop_latitude} - %s AS dy
                FROM {p} JOIN {s} ON {s}.{structure_id} = {p}.{column(stop, "structure")}
                WHERE {s}.{column(structure, "status")} = %s
                  AND {p}.{stop_latitude} BETWEEN %s AND %s
                  AND {p}.{stop_longitude} BETWEEN %s AND %s
            ) located GROUP BY id
        """
        self.count = f"SELECT COUNT(*) FROM ({disc}) disc WHERE squared <= %s"
        own = [
            *STRUCTURE_FIELDS.values(),
            "pk",
            "slug",
            "city",
            "verified_at",
            "deduced",
            "information_updated_at",
            "created_at",
        ]
        selected = [
            f"{s}.{column(structure, 'id' if name == 'pk' else name)} AS {quote(name)}"
            for name in own
        ]
        selected += [
            f"{c}.{column(commune, 'name')} AS {quote('commune__name')}",
            f"{c}.{column(commune, 'department')} AS {quote('commune__department_id')}",
            f"{b}.{column(bassin, 'slug')} AS {quote('commune__bassin__slug')}",
            f"{t}.{column(kind, 'slug')} AS kind",
            "page.squared AS squared",
            "page.total AS total",
        ]
        # The page (with the total before LIMIT), then its places' rows and kinds.
        self.page = f"""
            WITH page AS (
                SELECT id, squared, COUNT(*) OVER () AS total FROM ({disc}) disc
                WHERE squared <= %s ORDER BY squared, id LIMIT %s OFFSET %s
            )
            SELECT {", ".join(selected)}
            FROM page
            JOIN {s} ON {s}.{structure_id} = page.id
            LEFT JOIN {c} ON {s}.{column(structure, "commune")} = {c}.{column(commune, "code_insee")}
            LEFT JOIN {b} ON {c}.{column(commune, "bassin")} = {b}.{column(bassin, "id")}
            LEFT JOIN {k} ON {k}.{column(through, "structure")} = {s}.{structure_id}
            LEFT JOIN {t} ON {t}.{column(kind, "id")} = {k}.{column(through, "servicetype")}
            ORDER BY page.squared, page.id, {t}.{column(kind, "order")}, {t}.{column(kind, "slug")}
        """


@functools.cache
def _statements(vendor):
    return _Statements(connections[router.db_for_read(Structure)].ops.quote_name)


MULTI_VALUED = {
    field.attname: field.to_python
    for field in Structure._meta.concrete_fields
    if isinstance(field, MultiValueField)
}
DATETIMES = ["updated_at", "verified_at", "information_updated_at", "created_at"]


def _convert(row):
    """What the ORM's converters do for these columns (SQLite gives text and 0/1)."""
    for name, to_python in MULTI_VALUED.items():
        row[name] = to_python(row[name])
    for name in DATETIMES:
        value = row[name]
        if isinstance(value, str):
            value = parse_datetime(value)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        row[name] = value
    if isinstance(row["deduced"], str | bytes):  # JSON as text (SQLite, Django's jsonb loader)
        row["deduced"] = json.loads(row["deduced"] or "{}")
    accessible = row["wheelchair_accessible"]
    row["wheelchair_accessible"] = None if accessible is None else bool(accessible)
    return row
