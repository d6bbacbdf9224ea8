"""Every published structure as map markers, in one compact JSON document.

`{"fields": ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"],
  "kinds": {"1": "EPN", …}, "rows": [[12, 46.81, 1.69, "…", "…", "…", [1, 7], null], …]}`

An itinerant place has one more row per stop, with its id and the stop's place
and commune (`stop`: "Place de l’église", `city`: the stop's commune): it is
found on the map where it stops.

Built from `values_list()` and encoded with orjson, cached both plain and
gzipped under a key that changes with the data (mediation/versioning.py), and
served with an ETag and Last-Modified so that a returning visitor downloads
nothing. The map fetches it once and filters it in the browser.
"""

import gzip
import hashlib

import orjson
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from mediation import choices
from mediation.models import ServiceType, Stop, Structure
from mediation.versioning import structures_version

FIELDS = ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"]
CACHE_TTL = 600  # seconds; the key already changes when the data does
BROWSER_MAX_AGE = 60  # seconds before the browser revalidates with its ETag


def payload():
    """The document as a dict (not cached)."""
    structures = Structure.objects.published().filter(
        latitude__isnull=False, longitude__isnull=False
    )
    kinds = {}
    for structure_id, kind_id in Structure.kinds.through.objects.filter(
        structure__status=choices.Status.PUBLISHED
    ).values_list("structure_id", "servicetype_id"):
        kinds.setdefault(structure_id, []).append(kind_id)
    rows = [
        [pk, round(lat, 5), round(lon, 5), name, slug, city, sorted(kinds.get(pk, [])), None]
        for pk, lat, lon, name, slug, city in structures.order_by("pk").values_list(
            "pk", "latitude", "longitude", "name", "slug", "city"
        )
    ]
    stops = Stop.objects.of_published().order_by("structure_id", "pk")
    for pk, lat, lon, name, slug, city, place in stops.values_list(
        "structure_id",
        "latitude",
        "longitude",
        "structure__name",
        "structure__slug",
        "commune__name",
        "place",
    ):
        rows.append(
            [pk, round(lat, 5), round(lon, 5), name, slug, city, sorted(kinds.get(pk, [])), place]
        )
    kind_names = {
        str(pk): short for pk, short in ServiceType.objects.values_list("pk", "short_name")
    }
    return {"fields": FIELDS, "kinds": kind_names, "rows": rows}


# The last document built by this process: a hit costs no unpickling.
_current = None


def encoded():
    """(etag, last_modified, plain bytes, gzipped bytes) of the current data."""
    global _current
    stamp, latest = structures_version()
    etag = f'"{hashlib.sha1(stamp.encode()).hexdigest()[:16]}"'
    if _current is not None and _current[0] == etag:
        return _current
    key = f"mediation:markers:{etag}"
    cached = cache.get(key)
    if cached is None:
        body = orjson.dumps(payload())
        cached = (body, gzip.compress(body, compresslevel=9, mtime=0))
        cache.set(key, cached, CACHE_TTL)
    _current = (etag, latest, *cached)
    return _current


@require_GET
def markers(request):
    etag, latest, body, gzipped = encoded()
    last_modified = int(latest.timestamp()) if latest else None  # HTTP dates have no fraction
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        response = not_modified
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        # Already compressed once for everybody: GZipMiddleware leaves it alone.
        response = HttpResponse(gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    if latest:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE}"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
