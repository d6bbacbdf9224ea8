"""Turn an address into a point: the Base Adresse Nationale, else the commune table.

`locate()` is the only place the site reaches the geocoder, and the BAN can't
hold the site:

- answers are kept 30 days in the shared cache, per normalised query (accents,
  case and spacing ignored), "not found" a day;
- a circuit breaker stops calling the BAN for a minute after 3 failures or
  timeouts in a row (per process);
- each look-up has a hard budget (`GEOCODER_BUDGET`, 2 s): the call runs in a
  small pool of threads and the search stops waiting when the budget is spent;
- a visitor may cause `GEOCODER_VISITOR_LIMIT` BAN calls a minute (answers from
  the cache are free), counted per IP address through `for_visitor()`.

Whenever the BAN is not asked or does not answer in time, the commune table
answers: the point of the commune named in the text, marked `precise=False`,
which the results page explains in a plain note.

Tests replace `ban_lookup` with a fake (see tests/conftest.py), or `ban_search`
to exercise the guards: no test touches the network.
"""

import contextvars
import hashlib
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from mediation import abuse

logger = logging.getLogger(__name__)

CACHE_TTL = 30 * 24 * 3600  # an address does not move
NOT_FOUND_TTL = 24 * 3600
NOT_FOUND = "not-found"
BREAKER_FAILURES = 3  # in a row
BREAKER_PAUSE = 60  # seconds without calling the BAN
VISITOR_WINDOW = 60  # seconds

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="geocoder")
_visitor = contextvars.ContextVar("geocoding_visitor", default=None)


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str
    citycode: str = ""
    precise: bool = True  # False when only the commune's point is known


class GeocoderError(Exception):
    """The BAN did not answer (network, HTTP error, timeout)."""


def ban_search(query, *, citycode=None):
    """One request to the BAN through geopy: a `Place`, None when it does not know.

    Raises `GeocoderError` when it does not answer."""
    from geopy.exc import GeopyError
    from geopy.geocoders import BANFrance

    geocoder = BANFrance(timeout=settings.GEOCODER_TIMEOUT, user_agent=settings.SITE_NAME)
    try:
        location = geocoder.geocode(query, exactly_one=True)
    except (GeopyError, OSError) as error:
        raise GeocoderError(str(error)) from error
    if location is None:
        return None
    properties = location.raw.get("properties", {})
    found_citycode = properties.get("citycode", "")
    if citycode and found_citycode and found_citycode != citycode:
        return None
    return Place(location.latitude, location.longitude, location.address, found_citycode)


class CircuitBreaker:
    """Stops calling a failing service for `pause` seconds after `limit` failures in a row."""

    def __init__(self, *, limit=BREAKER_FAILURES, pause=BREAKER_PAUSE):
        self.limit, self.pause = limit, pause
        self.failures, self.open_until = 0, 0.0
        self._lock = threading.Lock()

    def allows(self):
        return time.monotonic() >= self.open_until

    def succeeded(self):
        with self._lock:
            self.failures = 0

    def failed(self):
        with self._lock:
            self.failures += 1
            if self.failures >= self.limit:
                self.open_until = time.monotonic() + self.pause
                self.failures = 0
                logger.warning(
                    "Géocodeur BAN : %s échecs de suite, plus d’appel pendant %s s.",
                    self.limit,
                    self.pause,
                )


breaker = CircuitBreaker()


def cache_key(query, citycode=None):
    from territories.models import normalize_search

    normalised = " ".join(normalize_search(query).split())
    return "geocoder:" + hashlib.sha1(f"{normalised}|{citycode or ''}".encode()).hexdigest()


@contextmanager
def for_visitor(key):
    """Count the BAN calls made inside the block against visitor `key` (an IP address)."""
    token = _visitor.set(key)
    try:
        yield
    finally:
        _visitor.reset(token)


def _visitor_allowed():
    visitor = _visitor.get()
    if visitor is None:
        return True
    count = abuse.count(abuse.key("geocoder_visitor", visitor), VISITOR_WINDOW)
    return count <= settings.GEOCODER_VISITOR_LIMIT


def guarded_ban_lookup(query, *, citycode=None):
    """`ban_search` behind the cache, the circuit breaker, the budget and the visitor's limit.

    None when the BAN does not know the address, or was not asked, or did not
    answer in time."""
    key = cache_key(query, citycode)
    cached = cache.get(key)
    if cached is not None:
        return None if cached == NOT_FOUND else cached
    if not breaker.allows() or not _visitor_allowed():
        return None
    future = _pool.submit(ban_search, query, citycode=citycode)
    try:
        place = future.result(timeout=settings.GEOCODER_BUDGET)
    except FutureTimeout:
        future.cancel()
        breaker.failed()
        logger.warning("Géocodeur BAN : pas de réponse en %s s.", settings.GEOCODER_BUDGET)
        return None
    except GeocoderError as error:
        breaker.failed()
        logger.warning("Géocodeur BAN indisponible : %s", error)
        return None
    breaker.succeeded()
    if place is None:
        cache.set(key, NOT_FOUND, NOT_FOUND_TTL)
    else:
        cache.set(key, place, CACHE_TTL)
    return place


# The name every caller uses (the site's search, the importer); tests fake it.
ban_lookup = guarded_ban_lookup


def commune_lookup(query, *, citycode=None):
    """The point of the commune named (or whose postal code is) in `query`."""
    from territories.models import Commune, normalize_search

    if citycode:
        commune = Commune.objects.filter(pk=citycode).first()
    else:
        commune = None
        postal_code = re.search(r"\b(\d{5})\b", query)
        for candidate in _candidates(query):
            matches = list(Commune.objects.matching(candidate)[:100])
            if postal_code:
                matches = [c for c in matches if postal_code[1] in c.postal_codes] or matches
            if matches:
                # "Tours" is Tours, not Chambray-lès-Tours which also matches.
                wanted = normalize_search(candidate)
                commune = next((c for c in matches if normalize_search(c.name) == wanted), None)
                commune = commune or matches[0]
                break
    if commune is None:
        return None
    return Place(
        commune.latitude, commune.longitude, commune.name, commune.code_insee, precise=False
    )


def _candidates(query):
    """Pieces of an address that may name the commune: the end first."""
    parts = [p.strip() for p in query.replace(",", " , ").split(",") if p.strip()]
    words = query.split()
    yield from reversed(parts)
    for size in range(min(4, len(words)), 0, -1):
        yield " ".join(words[-size:])


def geocode(address, *, citycode=None):
    """(latitude, longitude) of `address`, or None. Offline, the commune's point."""
    place = locate(address, citycode=citycode)
    return (place.latitude, place.longitude) if place else None


def locate(address, *, citycode=None):
    """A `Place` for `address`: BAN when enabled and reachable, else the commune table."""
    if not address or not address.strip():
        return None
    place = None
    if settings.GEOCODER != "off":
        place = ban_lookup(address, citycode=citycode)
    return place or commune_lookup(address, citycode=citycode)
