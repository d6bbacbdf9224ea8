"""Turn an address into a point: the Base Adresse Nationale, else the commune table.

`geocode()` is the only place the site reaches the geocoder. Tests replace
`ban_lookup` with a fake (see tests/conftest.py): no test touches the network.
"""

import logging
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str
    citycode: str = ""
    precise: bool = True  # False when only the commune's point is known


def ban_lookup(query, *, citycode=None):
    """Ask the BAN through geopy; None when it does not know or does not answer."""
    from geopy.exc import GeopyError
    from geopy.geocoders import BANFrance

    geocoder = BANFrance(timeout=settings.GEOCODER_TIMEOUT, user_agent=settings.SITE_NAME)
    try:
        location = geocoder.geocode(query, exactly_one=True)
    except (GeopyError, OSError) as error:
        logger.warning("Géocodeur BAN indisponible : %s", error)
        return None
    if location is None:
        return None
    properties = location.raw.get("properties", {})
    found_citycode = properties.get("citycode", "")
    if citycode and found_citycode and found_citycode != citycode:
        return None
    return Place(location.latitude, location.longitude, location.address, found_citycode)


def commune_lookup(query, *, citycode=None):
    """The point of the commune named (or whose postal code is) in `query`."""
    from territories.models import Commune

    if citycode:
        commune = Commune.objects.filter(pk=citycode).first()
    else:
        commune = None
        for candidate in _candidates(query):
            commune = Commune.objects.matching(candidate).first()
            if commune:
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
