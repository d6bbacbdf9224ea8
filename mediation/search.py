"""The citizen's search: where the person is, what they need, the nearest places.

`run(form)` turns a bound `SearchForm` into a `SearchOutcome`: the starting
point found from what was typed (commune, postal code, full address, or the
browser's position), a message in plain French when it was not found, and the
published structures that pass the filters, nearest first.
"""

import re
from dataclasses import dataclass, field

from django.core.paginator import Paginator

from mediation import choices, geocoding, opening_hours
from mediation.forms import standard_value
from mediation.models import Structure
from territories import suggestions
from territories.models import normalize_search

PAGE_SIZE = 20
LABEL_WITH_CODE = re.compile(r"^(?P<name>.+?)\s*\((?P<code>\d{5})\)\s*$")
AUTO_ACCEPT_SCORE = 85  # a misspelt commune is taken when this close and clearly first


@dataclass
class Origin:
    """Where distances are measured from."""

    latitude: float
    longitude: float
    label: str  # "Châteauroux (36000)", "votre position", "12 Rue … 36000 Châteauroux"
    kind: str  # "position", "commune" or "address"
    precise: bool = True  # False: an address we could only place at its commune
    understood_from: str = ""  # the text typed, when it was read as another spelling

    @property
    def heading(self):
        if self.kind == "position":
            return "près de votre position"
        return f"près de {self.label}"


@dataclass
class Located:
    origin: Origin | None = None
    alternatives: list = field(default_factory=list)  # other communes that fit
    suggestions: list = field(default_factory=list)  # when nothing was found
    message: str = ""


def locate(text, *, lat=None, lon=None):
    """Find the starting point of a search (see `Located`)."""
    if lat is not None and lon is not None:
        return Located(Origin(lat, lon, "votre position", "position"))
    text = (text or "").strip()
    if not text:
        return Located()

    code = None
    if match := LABEL_WITH_CODE.match(text):  # a suggestion picked: "Châteauroux (36000)"
        text, code = match["name"], match["code"]
    needle = normalize_search(text)
    digits = needle.replace(" ", "")

    if digits.isdigit():
        return _by_postal_code(digits, text)

    found = suggestions.suggest(text, limit=8)
    if code:
        with_code = [s for s in found if code in s.entry.postal_codes]
        found = with_code + [s for s in found if s not in with_code]
    exact = [s for s in found if s.exact]
    if exact or (found and not found[0].fuzzy and not _looks_like_address(text)):
        chosen = (exact or found)[0]
        return Located(
            _commune_origin(chosen.entry),
            alternatives=[s.entry for s in found if s is not chosen and not s.fuzzy][:5],
        )
    if _looks_like_address(text) or not found:
        place = geocoding.locate(text)
        if place is not None:
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
            message=f"Nous n’avons pas trouvé « {text} ». Vouliez-vous dire :",
        )
    return Located(
        message=(
            f"Nous n’avons pas trouvé « {text} ». Vérifiez l’orthographe, ou essayez le nom "
            "de votre commune ou son code postal (par exemple : Châteauroux ou 36000)."
        )
    )


def _looks_like_address(text):
    """A house number, a comma or a street word: worth asking the address geocoder."""
    has_digit = any(c.isdigit() for c in text)
    has_letter = any(c.isalpha() for c in text)
    words = normalize_search(text).split()
    street = {"rue", "avenue", "av", "bd", "boulevard", "place", "chemin", "route", "allee"}
    return (has_digit and has_letter) or "," in text or bool(street & set(words))


def _by_postal_code(digits, text):
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
    return Origin(commune.latitude, commune.longitude, entry.label, "commune")


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


def _hours_filters(rows, form, now):
    """Open now / on Saturday: evaluated in Python over the candidates' expressions."""
    if form.value("open_now"):
        rows = [row for row in rows if opening_hours.is_open(row[-1], now)]
    if form.value("saturday"):
        rows = [row for row in rows if opening_hours.opens_on_saturday(row[-1], now)]
    return rows


# --- The search ---------------------------------------------------------------


@dataclass
class SearchOutcome:
    form: object
    located: Located
    page: object = None  # a Paginator page of Structure objects (with `distance_km`)
    ids: list = field(default_factory=list)  # every matching structure, for the map
    searched: bool = False  # something was asked: show the results section

    @property
    def origin(self):
        return self.located.origin

    @property
    def count(self):
        return len(self.ids)


def run(form, *, now=None):
    """The search described by a bound `SearchForm` (invalid values are ignored)."""
    form.is_valid()
    if form.errors.get("q"):  # too long to be a place: say so rather than search nothing
        return SearchOutcome(form, Located(message=form.errors["q"][0]), searched=True)
    located = locate(form.value("q", ""), lat=form.value("lat"), lon=form.value("lon"))
    searched = bool(form.value("q") or located.origin or form.active_filters())
    outcome = SearchOutcome(form, located, searched=searched)
    if not searched or located.message:
        return outcome

    queryset = filtered(form)
    origin = located.origin
    if origin:
        queryset = queryset.near(origin.latitude, origin.longitude)
        rows = list(queryset.values_list("pk", "distance_km", "opening_hours"))
    else:
        queryset = queryset.order_by("city", "name", "pk")
        rows = list(queryset.values_list("pk", "opening_hours"))
    rows = _hours_filters(rows, form, now)
    outcome.ids = [row[0] for row in rows]

    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(form.value("page", 1))
    wanted = {row[0]: row for row in page.object_list}
    structures = (
        Structure.objects.filter(pk__in=wanted).select_related("commune").prefetch_related("kinds")
    )
    by_pk = {structure.pk: structure for structure in structures}
    items = []
    for pk, row in wanted.items():
        structure = by_pk[pk]
        structure.distance_km = row[1] if origin else None
        structure.opening_status = opening_hours.status(
            structure.opening_hours, now, note=structure.opening_hours_note
        )
        items.append(structure)
    page.object_list = items
    outcome.page = page
    return outcome


def format_distance(km):
    """ "à 650 m", "à 2,3 km", "à 18 km"."""
    if km is None:
        return ""
    if km < 1:
        return f"à {max(50, round(km * 1000 / 50) * 50)} m"
    if km < 10:
        return f"à {km:.1f} km".replace(".", ",")
    return f"à {round(km)} km"
