"""The citizen's search: where the person is, what they need, the nearest places.

`run(form)` turns a bound `SearchForm` into a `SearchOutcome`: the starting
point found from what was typed (commune, postal code, full address, or the
browser's position), a message in plain French when it was not found, and the
published structures that pass the filters, nearest first.
"""

import hashlib
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q

from mediation import choices, french, geocoding, needs, opening_hours, statements
from mediation.forms import standard_value
from mediation.models import (
    NEAREST_RADII_KM,
    ServiceType,
    Stop,
    Structure,
    bounding_box,
    itinerant,
    planar_distance,
)
from mediation.versioning import has_uncommitted_changes, structures_version
from territories import suggestions
from territories.models import normalize_search

PAGE_SIZE = 20
LABEL_WITH_CODE = re.compile(r"^(?P<name>.+?)\s*\((?P<code>\d{5})\)\s*$")
# "Issoudun 36100", "Issoudun, 36100", "36100 Issoudun": a commune and its postal code.
NAME_THEN_CODE = re.compile(r"^(?P<name>[^\d]+?)[\s,;-]+(?P<code>\d{5})\s*$")
CODE_THEN_NAME = re.compile(r"^(?P<code>\d{5})[\s,;-]+(?P<name>[^\d]+?)\s*$")
AUTO_ACCEPT_SCORE = 85  # a misspelt commune is taken when this close and clearly first
POSITION_TEXT = "Ma position"  # what the field shows after "Autour de moi"
NATIONAL_MAP_URL = "https://cartographie.societenumerique.gouv.fr/cartographie"
REGION_NAME = "Centre-Val de Loire"
OUTSIDE_KM = 10  # a position farther than this from every commune of the region is outside it
LOCATED_CACHE_TTL = 600  # seconds; the key changes with the data anyway


@dataclass
class Origin:
    """Where distances are measured from."""

    latitude: float
    longitude: float
    label: str  # "Châteauroux (36000)", "votre position", "12 Rue … 36000 Châteauroux"
    kind: str  # "position", "commune" or "address"
    precise: bool = True  # False: an address we could only place at its commune
    understood_from: str = ""  # the text typed, when it was read as another spelling
    name: str = ""  # the commune's name alone, for the one-line summary
    code_insee: str = ""  # the commune searched, for its town-hall poster

    @property
    def summary(self):
        """ "près d’Issoudun": the search shrunk to one line once the place is known."""
        if self.kind == "position":
            return "près de votre position"
        return french.pres_de(self.name or self.label)

    @property
    def heading(self):
        """ "près d’Issoudun (36100)", "près de votre position"."""
        if self.kind == "position":
            return "près de votre position"
        return french.pres_de(self.label)


@dataclass
class Located:
    origin: Origin | None = None
    alternatives: list = field(default_factory=list)  # other communes that fit
    suggestions: list = field(default_factory=list)  # when nothing was found
    message: str = ""
    outside: str = ""  # the place asked for, when it lies outside the region
    empty: bool = False  # the search button pressed with nothing typed

    @property
    def national_map_url(self):
        return NATIONAL_MAP_URL


def locate(text, *, lat=None, lon=None, stamp=None):
    """Find the starting point of a search (see `Located`).

    With `stamp` (the data version), what was found from a text is kept in the cache
    for the next person who types the same: communes and departments are data of the
    directory, and the address geocoder (BAN) keeps its own answers. An answer that
    asked the geocoder is kept only when the geocoder is off (the commune table then
    answers): a fallback made while the BAN was unreachable is not kept."""
    text = (text or "").strip()
    if lat is not None and lon is not None and text in ("", POSITION_TEXT):
        if not _in_region(lat, lon):
            return _outside("votre position")
        return Located(Origin(lat, lon, "votre position", "position"))
    if not text or text == POSITION_TEXT:
        return Located()
    if stamp is None:
        return _locate_text(text, asked=[])
    digest = hashlib.sha1(f"{stamp}|{settings.GEOCODER}|{text}".encode()).hexdigest()[:20]
    key = f"mediation:search-located:{digest}"
    located = cache.get(key)
    if located is None:
        asked = []
        located = _locate_text(text, asked=asked)
        if not asked or settings.GEOCODER == "off":
            cache.set(key, located, LOCATED_CACHE_TTL)
    return located


def _locate_text(text, *, asked):
    """`locate()` for a text; `asked` gets an item each time the geocoder is asked."""
    code = None
    for pattern in (LABEL_WITH_CODE, NAME_THEN_CODE, CODE_THEN_NAME):
        if match := pattern.match(text):  # "Châteauroux (36000)", "Issoudun 36100"…
            text, code = match["name"].strip(" ,"), match["code"]
            break
    if code and not _region_postal_code(code):
        return _outside(f"{text} ({code})")
    needle = normalize_search(text)
    digits = needle.replace(" ", "")

    if digits.isdigit():
        return _by_postal_code(digits, text, asked=asked)

    found = suggestions.suggest(text, limit=8)
    if code:
        with_code = [s for s in found if code in s.entry.postal_codes]
        found = with_code + [s for s in found if s not in with_code]
        if with_code and not with_code[0].fuzzy:
            chosen = with_code[0]
            return Located(
                _commune_origin(chosen.entry),
                alternatives=[s.entry for s in with_code[1:6]],
            )
    exact = [s for s in found if s.exact]
    if exact or (found and not found[0].fuzzy and not _looks_like_address(text)):
        chosen = (exact or found)[0]
        return Located(
            _commune_origin(chosen.entry),
            alternatives=[s.entry for s in found if s is not chosen and not s.fuzzy][:5],
        )
    # "Bourges centre", "Tours nord", "Orléans la Source": a commune, then a district.
    if not _looks_like_address(text) and (origin := _leading_commune(text)):
        return Located(origin)
    if _looks_like_address(text) or not found or found[0].fuzzy:
        asked.append(text)
        place = geocoding.locate(text)
        if place is not None:
            if place.citycode and not _region_department(place.citycode[:2]):
                return _outside(text)
            if _looks_like_address(text) or not found:
                return Located(_place_origin(place))
    if found:
        best = found[0]
        second = found[1].score if len(found) > 1 else 0
        if best.score >= AUTO_ACCEPT_SCORE and best.score - second >= 3:
            origin = _commune_origin(best.entry)
            origin.understood_from = text
            return Located(origin, alternatives=[s.entry for s in found[1:4]])
        return Located(
            suggestions=[s.entry for s in found[:6]],
            message=f"Nous n’avons pas trouvé « {text} » en {REGION_NAME}. Vouliez-vous dire :",
        )
    return Located(
        message=(
            f"Nous n’avons pas trouvé « {text} » en {REGION_NAME}. Vérifiez l’orthographe, "
            "ou essayez le nom de votre commune ou son code postal (par exemple : Châteauroux "
            "ou 36000)."
        )
    )


def _outside(label):
    return Located(
        message=(
            f"{label[:1].upper()}{label[1:]} n’est pas en {REGION_NAME} : cet annuaire ne "
            "connaît que les lieux de la région. La cartographie nationale des lieux "
            "d’inclusion numérique couvre toute la France."
        ),
        outside=label,
    )


def _region_departments():
    from territories.models import Department

    return set(Department.objects.values_list("code", flat=True))


def _region_department(code):
    return code in _region_departments()


def _region_postal_code(code):
    # Postal codes start with the department's number (Corsica and overseas aside,
    # none of which is in the region).
    return code[:2] in _region_departments()


def _in_region(lat, lon):
    """True when a commune of the region lies within `OUTSIDE_KM` of the point."""
    from territories.models import Commune

    south, north, west, east = bounding_box(lat, lon, OUTSIDE_KM)
    nearby = Commune.objects.filter(
        latitude__range=(south, north), longitude__range=(west, east)
    ).values_list("latitude", "longitude")
    return any(planar_distance(lat, lon, la, lo) <= OUTSIDE_KM for la, lo in nearby)


def _leading_commune(text):
    """The commune named by the first words of `text`, the rest read as a district."""
    words = text.replace(",", " ").split()
    for size in range(len(words) - 1, 0, -1):
        exact = [s for s in suggestions.suggest(" ".join(words[:size]), limit=3) if s.exact]
        if exact:
            origin = _commune_origin(exact[0].entry)
            origin.understood_from = text
            return origin
    return None


def _looks_like_address(text):
    """A house number, a comma or a street word: worth asking the address geocoder."""
    has_digit = any(c.isdigit() for c in text)
    has_letter = any(c.isalpha() for c in text)
    words = normalize_search(text).split()
    street = {"rue", "avenue", "av", "bd", "boulevard", "place", "chemin", "route", "allee"}
    return (has_digit and has_letter) or "," in text or bool(street & set(words))


def _by_postal_code(digits, text, *, asked):
    if len(digits) == 5 and not _region_postal_code(digits):
        return _outside(f"le code postal {digits}")
    if len(digits) != 5:
        found = suggestions.suggest(digits, limit=6)
        return Located(
            suggestions=[s.entry for s in found],
            message="Un code postal compte 5 chiffres (exemple : 36000)."
            + (" Vouliez-vous dire :" if found else ""),
        )
    found = [s for s in suggestions.suggest(digits, limit=10) if s.exact]
    if found:
        return Located(_commune_origin(found[0].entry), alternatives=[s.entry for s in found[1:6]])
    asked.append(digits)
    place = geocoding.locate(digits)
    if place is not None:
        return Located(_place_origin(place))
    return Located(
        message=(
            f"Aucune commune de la région n’a le code postal {digits}. "
            "Vérifiez-le, ou tapez le nom de votre commune."
        )
    )


def _commune_origin(entry):
    from territories.models import Commune

    commune = Commune.objects.only("latitude", "longitude").get(pk=entry.code_insee)
    return Origin(
        commune.latitude,
        commune.longitude,
        entry.label,
        "commune",
        name=entry.name,
        code_insee=entry.code_insee,
    )


def _place_origin(place):
    if place.precise:
        return Origin(place.latitude, place.longitude, place.label, "address")
    return Origin(place.latitude, place.longitude, place.label, "address", precise=False)


# --- Filters ------------------------------------------------------------------


def filtered(form):
    """Published structures passing the SQL-expressible filters of `form`."""
    services = [standard_value(choices.Service, short) for short in form.value("service", [])]
    publics = [standard_value(choices.Public, short) for short in form.value("public", [])]
    supports = [standard_value(choices.PriseEnCharge, short) for short in form.value("support", [])]
    queryset = (
        Structure.objects.published()
        .offering(needs.services_for(form.value("besoin", [])))
        .of_kinds(form.value("type", []))
        .offering(services, every=True)
        .for_publics(publics)
        .with_support(supports, every=True)
    )
    if form.value("free"):
        queryset = queryset.free()
    if form.value("wheelchair"):
        queryset = queryset.wheelchair_accessible()
    return queryset


def hours_test(form, now=None):
    """The hours filters asked ("open now", "open on Saturday") as one test of an
    opening-hours expression, or None when neither is asked."""
    open_now, saturday = form.value("open_now"), form.value("saturday")
    if not (open_now or saturday):
        return None

    def test(expression):
        return (not open_now or opening_hours.is_open(expression, now)) and (
            not saturday or opening_hours.opens_on_saturday(expression, now)
        )

    return test


def hours_filters(rows, form, now):
    """Rows whose last item (an hours expression) passes the hours filters of `form`."""
    test = hours_test(form, now)
    return rows if test is None else [row for row in rows if test(row[-1])]


def hours_key(form, now=None):
    """When the hours filters' answer may change: each minute for "open now",
    each day for "on Saturday" ("" without them)."""
    moment = opening_hours.local_now(now)
    if form.value("open_now"):
        return moment.strftime("%Y-%m-%dT%H:%M")
    return moment.date().isoformat() if form.value("saturday") else ""


def passing_hours(queryset, test, key, *, stamp=None):
    """The distinct opening-hours expressions, of the places in `queryset` and of
    their stops, that pass `test`. Each expression is evaluated once, however many
    places share it (the directory holds a few hundred distinct ones for thousands
    of places); the distinct expressions are kept per data version and filters
    (`key`), so a search reads no hours at all."""

    def distinct():
        own = queryset.order_by().values_list("opening_hours", flat=True).distinct()
        at_stops = (
            Stop.objects.filter(structure__in=queryset.values("pk"))
            .order_by()
            .values_list("opening_hours", flat=True)
            .distinct()
        )
        return sorted({*own, *at_stops} - {""})

    return [
        expression
        for expression in cached_value("hours", key, distinct, stamp=stamp)
        if test(expression)
    ]


@dataclass
class HoursMatch:
    """The places whose hours pass the hours filters (`with_hours()`): `places`, and,
    when the answer depended on the origin (itinerant places, each placed at its
    nearest location), `settled`, the places that pass wherever the origin (the
    others), and `located`, the itinerant places that pass from there, each at
    its nearest location (`{pk: (distance_km, hours, stop)}`)."""

    places: object
    settled: object = None
    located: dict = None

    @property
    def placed(self):
        return self.settled is not None

    @property
    def found(self):
        """The ids of the itinerant places that pass from the origin."""
        return list(self.located or ())

    def found_rows(self):
        """The itinerant places that pass, as `NearestFirst`'s rows."""
        located = (self.located or {}).items()
        return [(pk, distance, stop, hours) for pk, (distance, hours, stop) in located]

    def count(self, key, *, stamp=None):
        """How many of `places` the map and the nearest-first list can place: the
        settled ones counted once per data version and filters (`key`, without the
        origin), then the itinerant places found from the origin, a few."""
        if not self.placed:
            return cached_count(self.places.located(), key, stamp=stamp)
        return cached_count(self.settled.located(), key, stamp=stamp) + len(self.located)


def with_hours(queryset, origin, test, key, *, stamp=None):
    """`HoursMatch` of the places of `queryset` whose hours pass `test`, at the
    nearest of their locations when there is an `origin` (a place found at one of
    its stops keeps that stop's hours), at their own address otherwise. In SQL, by
    the list of expressions that pass (`passing_hours()`, `key` naming
    `queryset`'s filters); only the itinerant places, a few, are placed in Python."""
    passing = passing_hours(queryset, test, key, stamp=stamp)
    if not passing:
        return HoursMatch(queryset.none())
    if origin is None:
        return HoursMatch(queryset.filter(opening_hours__in=passing))
    roaming = itinerant_ids(queryset, key, stamp=stamp)
    if not roaming:
        return HoursMatch(queryset.filter(opening_hours__in=passing))
    located = {
        pk: row
        for pk, row in _nearest_locations(
            itinerant_locations(queryset, key, stamp=stamp), origin
        ).items()
        if row[1] in passing
    }
    settled = queryset.filter(opening_hours__in=passing).exclude(itinerant())
    places = queryset.filter((Q(opening_hours__in=passing) & ~itinerant()) | Q(pk__in=located))
    return HoursMatch(places, settled, located)


def itinerant_locations(queryset, key, *, stamp=None):
    """[(pk, stop id or None, latitude, longitude, hours)] of the itinerant places of
    `queryset` (a few): their own position, when they have one, then their stops
    in the order of their ids. Kept per data version and filters (`key`): where
    each is nearest an origin is then plain arithmetic (`_nearest_locations()`),
    not a query over every stop of the directory."""

    def read():
        roaming = itinerant_ids(queryset, key, stamp=stamp)
        own = Structure.objects.filter(
            pk__in=roaming, latitude__isnull=False, longitude__isnull=False
        ).values_list("pk", "latitude", "longitude", "opening_hours")
        stops = (
            Stop.objects.filter(structure__in=roaming)
            .order_by("pk")
            .values_list("structure_id", "pk", "latitude", "longitude", "opening_hours")
        )
        return [(pk, None, lat, lon, hours) for pk, lat, lon, hours in own] + list(stops)

    return cached_value("itinerant-locations", key, read, stamp=stamp)


def _nearest_locations(locations, origin, radius_km=None):
    """`{pk: (distance_km, hours, stop)}` of `itinerant_locations()`, each place at its
    nearest location from `origin` (within `radius_km` when given): its own
    address or one of its stops (`stop`, its id), a stop preferred at the same
    distance. The distance is the one `StructureQuerySet.near()` computes in SQL
    (`planar_distance()`)."""
    lat, lon = origin.latitude, origin.longitude
    rows = {}
    for pk, stop, other_lat, other_lon, hours in locations:
        distance = planar_distance(lat, lon, other_lat, other_lon)
        if radius_km is not None and distance > radius_km:
            continue
        if stop is None or pk not in rows or distance <= rows[pk][0]:
            rows[pk] = (distance, hours, stop)
    return rows


def itinerant_ids(queryset, key, *, stamp=None):
    """The ids of the itinerant places (with stops) of `queryset`, a few: kept per
    data version and filters (`key`)."""
    return cached_value(
        "itinerant",
        key,
        lambda: list(queryset.filter(itinerant()).order_by("pk").values_list("pk", flat=True)),
        stamp=stamp,
    )


# --- The search ---------------------------------------------------------------


FAR_KM = 15  # beyond this, the list opens by saying that help is far
# What a result card shows (templates/mediation/_results.html, `display_name`,
# `is_stale`, the map's first points): a place's other fields are not read.
CARD_FIELDS = (
    *("slug", "name", "address", "postal_code", "city", "phone", "itinerance"),
    *("opening_hours", "opening_hours_note", "verified_at", "created_at"),
    *("latitude", "longitude", "commune__name"),
)
COUNT_CACHE_TTL = 600  # seconds; the key changes with the data anyway


@dataclass
class SearchOutcome:
    form: object
    located: Located
    page: object = None  # a Paginator page of Structure objects (with `distance_km`)
    count: int = 0  # how many places match, in the whole directory
    searched: bool = False  # something was asked: show the results section
    nearest_km: float | None = None  # distance to the nearest matching place
    remote: list = field(default_factory=list)  # places that also help at a distance
    closed_near: bool = False  # every place within FAR_KM has known hours and is closed now
    nearest_open_km: float | None = None  # then: how far the nearest place open now is

    @property
    def origin(self):
        return self.located.origin

    @property
    def far(self):
        """Help is far: the nearest matching place is more than `FAR_KM` away."""
        return self.nearest_km is not None and self.nearest_km > FAR_KM

    @property
    def help_is_far(self):
        """Say it first: nothing within `FAR_KM`, or nothing open there now."""
        return self.far or self.closed_near

    @property
    def far_km(self):
        return FAR_KM


class NearestFirst:
    """The matching places nearest the origin, for a `Paginator`: the count is the
    database's (cached per data version and filters: it does not depend on the
    origin), and a page reads only the disc that holds it
    (`StructureQuerySet.nearest()`); around a commune, a page's rows are kept per
    data version too (`stamp`). Rows are `(pk, distance_km, stop_id, hours)`
    as in `_nearest_locations()`: a place found at one of its stops carries that stop's
    hours."""

    def __init__(
        self, queryset, origin, *, cache_key, stamp=None, shape=None, counted=None, placed=()
    ):
        self.queryset = queryset
        self.counted = counted  # how to count them, when not `count()`'s way
        # Rows placed already (itinerant places, in Python): merged by distance.
        self.placed = placed
        # `shape`: the filters naming `queryset`'s SQL whatever the data version
        # (None: it depends on more), for its statements compiled once (`statements`).
        self.shape = shape
        self.origin = origin
        self.cache_key = cache_key
        self.stamp = stamp

    def count(self):
        if self.counted is not None:
            return self.counted()
        return cached_count(self.queryset.located(), self.cache_key, stamp=self.stamp)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        origin = self.origin
        if self.stamp is None or (origin.kind != "commune" and origin.precise):
            return self._rows(index)
        # Around a commune (a point of the commune table; an address placed at its
        # commune too), a page is the same for everybody until the data changes:
        # kept per version, filters and slice. A precise point is each its own.
        where = f"{origin.code_insee}|{origin.latitude}|{origin.longitude}"
        return cached_value(
            "rows",
            f"{self.cache_key}|{where}|{index.start}|{index.stop}",
            lambda: self._rows(index),
            stamp=self.stamp,
        )

    def _rows(self, index):
        lat, lon = self.origin.latitude, self.origin.longitude
        top = index.stop if index.stop is not None else self.count()
        if top <= 0:
            return []
        start = index.start or 0
        # With rows placed already, the page is among the `top` nearest of both.
        first = 0 if self.placed else start
        if self.shape is None:
            nearest = self.queryset.nearest(lat, lon, top)
            found = nearest.values_list("pk", "distance_km", "opening_hours")[first:top]
            found_stops = self._stops(lat, lon, [pk for pk, _distance, _hours in found])
        else:
            found, found_stops = self._compiled_rows(lat, lon, first, top)
        rows = {pk: (distance, hours, None) for pk, distance, hours in found}
        # Which location is the nearest: the place's own address, or one of its stops.
        for structure_id, stop_id, distance, hours in found_stops:
            best = rows[structure_id]
            if best[2] is None and distance <= best[0]:
                rows[structure_id] = (best[0], hours, stop_id)
        page = [(pk, distance, stop, hours) for pk, (distance, hours, stop) in rows.items()]
        if self.placed:
            # Nearest first, then by id, as the database orders them.
            page = sorted([*page, *self.placed], key=lambda row: (row[1], row[0]))[start:top]
        return page

    @staticmethod
    def _stops(lat, lon, ids):
        return (
            Stop.objects.filter(structure__in=ids)
            .near(lat, lon)
            .values_list("structure_id", "pk", "distance_km", "opening_hours")
        )

    def _compiled_rows(self, lat, lon, start, top):
        """The rows of `_rows()`'s three queries (`nearest()`'s probes, the page, its
        places' stops), each compiled once per filters and shape (`statements`)."""
        queryset, using = self.queryset, self.queryset.db
        radius = None
        for radius_km in NEAREST_RADII_KM:
            probe = statements.rows(
                lambda la, lo, r=radius_km: queryset.nearest_probe(la, lo, r, top).values_list(
                    "pk"
                ),
                ("probe", self.shape, radius_km, top),
                lat,
                lon,
                using=using,
            )
            if probe:
                radius = radius_km
                break
        found = statements.rows(
            lambda la, lo: queryset.near(la, lo, radius).values_list(
                "pk", "distance_km", "opening_hours"
            )[start:top],
            ("near", self.shape, radius, start, top),
            lat,
            lon,
            using=using,
        )
        ids = [pk for pk, _distance, _hours in found]
        if not ids:
            return found, []
        found_stops = statements.rows(
            lambda la, lo, pks: self._stops(la, lo, pks), ("stops",), lat, lon, ids, using=using
        )
        return found, found_stops


def cached_count(queryset, key, *, stamp=None):
    """`queryset.count()`, kept until the data changes (`key` names the filters)."""
    return cached_value("count", key, queryset.count, stamp=stamp)


def cached_value(kind, key, compute, *, stamp=None):
    """`compute()`, kept in the shared cache until the data changes (`key` names
    the filters it was computed for; `stamp`: the data version when the request
    already read it). While this connection's changes are not committed, the
    version has not moved: what is computed then is not kept (a rollback would
    leave it to the others under the current version)."""
    if stamp is None:
        if has_uncommitted_changes():
            return compute()
        stamp, _ = structures_version()
    digest = hashlib.sha1(f"{stamp}|{kind}|{key}".encode()).hexdigest()[:20]
    return cache.get_or_set(f"mediation:search-{kind}:{digest}", compute, COUNT_CACHE_TTL)


def origin_key(origin):
    """The starting point, in a cache key."""
    return "" if origin is None else f"{origin.latitude:.6f},{origin.longitude:.6f}"


def filters_key(form, names=None):
    """The search's filters (those of `names` only, when given) as a stable text (a
    cache key), whatever their order."""
    names = form.FILTERS if names is None else names
    return repr([(name, sorted(map(str, _as_list(form.value(name))))) for name in names])


def _as_list(value):
    if value in (None, False, ""):
        return []
    if isinstance(value, list | tuple) or hasattr(value, "model"):
        return [getattr(item, "slug", item) for item in value]
    return [value]


def run(form, *, now=None, stamp=None):
    """The search described by a bound `SearchForm` (invalid values are ignored).
    `stamp`: the data version (`structures_version()`), when the caller read it."""
    form.is_valid()
    if form.errors.get("q"):  # too long to be a place: say so rather than search nothing
        return SearchOutcome(form, Located(message=form.errors["q"][0]), searched=True)
    typed = form.value("q", "")
    located = locate(typed, lat=form.value("lat"), lon=form.value("lon"), stamp=stamp)
    if form.is_bound and "q" in form.data and not typed and not located.origin:
        located.empty = not form.active_filters()
    searched = bool(typed or located.origin or form.active_filters() or located.empty)
    outcome = SearchOutcome(form, located, searched=searched)
    if not searched or located.message or located.empty:
        return outcome

    base = filtered(form)
    origin = located.origin
    test = hours_test(form, now)
    queryset, cache_key = base, filters_key(form)
    hours = None
    if test is not None:
        # Open now / on Saturday: the places whose hours pass, in SQL (see with_hours).
        hours = with_hours(base, origin, test, cache_key, stamp=stamp)
        queryset = hours.places
        cache_key = f"{cache_key}|{hours_key(form, now)}"
    if origin:
        placed = hours is not None and hours.placed
        paginator = Paginator(
            NearestFirst(
                # The itinerant places that pass are placed already (`with_hours`):
                # the database orders the others.
                hours.settled if placed else queryset,
                origin,
                # The rows depend on the origin when itinerant places were placed from it.
                cache_key=f"{cache_key}|{origin_key(origin)}" if placed else cache_key,
                stamp=stamp,
                # The SQL of an hours filter holds the expressions that pass: those of
                # this data version and minute (or day).
                shape=cache_key if test is None else (f"{cache_key}|{stamp}" if stamp else None),
                counted=(lambda: hours.count(cache_key, stamp=stamp)) if hours else None,
                placed=hours.found_rows() if placed else (),
            ),
            PAGE_SIZE,
        )
    else:
        ordered = queryset.order_by("city", "name", "pk").values_list("pk", "opening_hours")
        paginator = Paginator(_Unlocated(ordered, cache_key, stamp=stamp), PAGE_SIZE)
    outcome.count = paginator.count
    page = paginator.get_page(form.value("page", 1))
    wanted = {row[0]: row for row in page.object_list}
    if origin and outcome.count:
        first = page.object_list[0] if page.number == 1 else paginator.object_list[0:1][0]
        outcome.nearest_km = first[1]
        seen = page.object_list if page.number == 1 else []
        if not form.value("open_now"):
            # (With "open now", the nearest place found is open now: nothing to check.)
            _closed_near(
                outcome, base, hours, test, now, seen=seen, key=filters_key(form), stamp=stamp
            )
        if outcome.far or outcome.closed_near:
            outcome.remote = _remote(base, origin, filters_key(form), stamp=stamp)

    structures = (
        Structure.objects.filter(pk__in=wanted).select_related("commune").only(*CARD_FIELDS)
    )
    stops = Stop.objects.select_related("commune").in_bulk(
        [row[2] for row in wanted.values() if row[2]]
    )
    by_pk = {structure.pk: structure for structure in structures}
    kinds = kinds_of(list(wanted), stamp=stamp)
    items = []
    for pk, row in wanted.items():
        structure = by_pk.get(pk)
        if structure is None:  # deleted (by another server) since the version was read
            continue
        structure.kind_list = kinds.get(pk, [])
        structure.distance_km = row[1]
        structure.nearest_stop = stops.get(row[2])
        if structure.nearest_stop:
            structure.nearest_stop.when = opening_hours.describe(
                structure.nearest_stop.opening_hours
            )
        structure.opening_status = opening_hours.status(
            structure.opening_hours, now, note=structure.opening_hours_note
        )
        items.append(structure)
    page.object_list = items
    outcome.page = page
    return outcome


def kinds_of(pks, *, stamp=None):
    """{structure pk: [ServiceType…]} of the places `pks`, each list in the kinds' order.

    The kinds (a handful of rows) are read once per data version (`stamp`) and shared;
    the pairs in one query, cheaper than a prefetch (a manager and a queryset per place)."""
    every = _every_kind(stamp)
    pairs = list(
        Structure.kinds.through.objects.filter(structure_id__in=pks).values_list(
            "structure_id", "servicetype_id"
        )
    )
    if any(kind_id not in every for _pk, kind_id in pairs):
        # A kind added (by another server) after this request read the version.
        every = _every_kind(None)
    found = {}
    for structure_id, kind_id in pairs:
        found.setdefault(structure_id, []).append(every[kind_id])
    for kinds in found.values():
        kinds.sort(key=lambda kind: (kind.order, kind.name))
    return found


_kinds = (None, {})  # (data version, {pk: ServiceType}) of this process


def _every_kind(stamp):
    global _kinds
    if stamp is None:  # changes not yet committed: read them
        return {kind.pk: kind for kind in ServiceType.objects.all()}
    kept_stamp, kept = _kinds  # one read: another thread may replace it meanwhile
    if kept_stamp != stamp:
        kept = {kind.pk: kind for kind in ServiceType.objects.all()}
        _kinds = (stamp, kept)
    return kept


REMOTE_COUNT = 3  # places that help at a distance, offered when help is far
REMOTE_KEPT = 500  # at most this many such places kept by id; beyond, SQL finds the nearest


def _remote(base, origin, key, *, stamp=None):
    """The `REMOTE_COUNT` nearest places of `base` that help at a distance, by phone.
    They are few: their ids are kept per data version and filters (`key`), so the
    distances are computed for them alone rather than over the whole directory."""
    helping = base.filter(support_modes__has=choices.ModaliteAccompagnement.DISTANCE).exclude(
        phone=""
    )

    def ids():
        found = list(helping.order_by("pk").values_list("pk", flat=True)[: REMOTE_KEPT + 1])
        return None if len(found) > REMOTE_KEPT else found

    kept = cached_value("remote", key, ids, stamp=stamp)
    lat, lon = origin.latitude, origin.longitude
    if kept is None:
        return list(helping.nearest(lat, lon, REMOTE_COUNT)[:REMOTE_COUNT])
    if not kept:
        return []
    return list(Structure.objects.filter(pk__in=kept).near(lat, lon)[:REMOTE_COUNT])


class _Unlocated:
    """Matching places by commune then name (no origin): counted and sliced in SQL."""

    def __init__(self, queryset, cache_key, *, stamp=None):
        self.queryset = queryset
        self.cache_key = cache_key
        self.stamp = stamp

    def count(self):
        return cached_count(self.queryset, self.cache_key, stamp=self.stamp)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        return [(pk, None, None, hours) for pk, hours in self.queryset[index]]


def _closed_near(outcome, base, match, test, now, *, seen=(), key="", stamp=None):
    """Set `closed_near` (and then `nearest_open_km`): every matching place within
    `FAR_KM` has known hours and none is open now. The matching places: those of
    `base` (named by `key`) whose hours pass `test` (`match`, their `HoursMatch`;
    None without hours filters: all of them); `seen`: the nearest rows already
    read (the first page)."""
    origin = outcome.origin
    if outcome.nearest_km is None or outcome.nearest_km > FAR_KM:
        return
    if any(row[1] <= FAR_KM and not row[-1] for row in seen):
        return  # a near place with unknown hours: nothing can be claimed
    lat, lon = origin.latitude, origin.longitude

    def open_now(expression):
        return opening_hours.is_open(expression, now) and (test is None or test(expression))

    if any(row[1] <= FAR_KM and open_now(row[-1]) for row in seen):
        return  # one of the nearest places read is open now
    # (In `base`: the places that pass `open_now` pass `test` too.)
    settled = base.near(lat, lon, FAR_KM).exclude(itinerant())
    # A place found only at its own address, with no hours: nothing can be claimed.
    # (With an hours filter every matching place has hours: the question would make
    # the database read every place of the disc to find none.)
    if test is None and settled.filter(opening_hours="").exists():
        return
    if settled.filter(opening_hours__in=passing_hours(base, open_now, key, stamp=stamp)).exists():
        return
    # The itinerant places within reach, each at its nearest location (a few).
    # (The matching ones: every one without an hours filter, else those found
    # passing it where they are nearest.)
    candidates = itinerant_ids(base, key, stamp=stamp) if match is None else match.found or []
    reach = _nearest_locations(itinerant_locations(base, key, stamp=stamp), origin, FAR_KM)
    roaming = [reach[pk] for pk in candidates if pk in reach]
    if any(not hours or open_now(hours) for _distance, hours, _stop in roaming):
        return
    outcome.closed_near = True
    # Rare: everything near is closed; the nearest open place may be far.
    open_places = with_hours(base, origin, open_now, key, stamp=stamp).places
    nearest = open_places.nearest(lat, lon, 1).values_list("distance_km", flat=True)[:1]
    outcome.nearest_open_km = next(iter(nearest), None)


def format_distance(km):
    """ "à 650 m", "à 2,3 km", "à 18 km"."""
    if km is None:
        return ""
    if km < 1:
        return f"à {max(50, round(km * 1000 / 50) * 50)} m"
    if km < 10:
        return f"à {km:.1f} km".replace(".", ",")
    return f"à {round(km)} km"
