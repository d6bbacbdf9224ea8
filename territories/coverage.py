"""Distance to help, for every commune, and the portrait of a territory built from it.

The region's study found that mediation places are badly known and sometimes far
away. For each of the 1,754 communes this module measures the straight-line
distance from the commune's point (a point inside its polygon) to the nearest
published place — overall, per kind, for "Aide aux démarches administratives" and
for free help — and to the nearest itinerant stop, with the same planar distance
as the search (`mediation.models.planar_distance`). The figures are stored in
`CommuneCoverage`, recomputed once after any committed change of places or
stops (a few hundred milliseconds at the region's scale), never per request.

From those rows, `portrait()` gives a territory's figures: population within 5,
10 and 20 km of help, the communes farthest from any place ("zones blanches"),
inhabitants per place, freshness.
"""

import bisect
import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import reverse
from django.utils import timezone

from mediation import choices
from mediation.after_commit import once_after_commit
from mediation.french import thousands
from mediation.models import KM_PER_DEGREE, ServiceType, Stop, Structure, planar_coefficients
from mediation.versioning import data_changed
from territories.models import POPULATION_YEAR, Commune, CommuneCoverage

logger = logging.getLogger(__name__)

THRESHOLDS_KM = (5, 10, 20)
# A commune farther than this from any place is a "zone blanche".
ZONE_BLANCHE_KM = 10
FRESH_DAYS = 365
FRANCE_SERVICES = "france-services"


class PointIndex:
    """Nearest point by a scan outward from the latitude, stopped once the latitude
    gap alone exceeds the best distance found (the points sorted once)."""

    def __init__(self, points):
        self.points = sorted(points, key=lambda point: point[0])
        self.latitudes = [point[0] for point in self.points]

    def nearest(self, lat, lon):
        """(distance in km, payload) of the nearest point, or (None, None) when empty.

        The distance is `planar_distance()`'s, computed inline: this runs some
        20,000 times per recomputation.
        """
        cos0, slope = planar_coefficients(lat)
        best, payload = math.inf, None
        latitudes, points = self.latitudes, self.points
        below = bisect.bisect_left(latitudes, lat) - 1
        above = below + 1
        count = len(points)
        while below >= 0 or above < count:
            gap_below = lat - latitudes[below] if below >= 0 else math.inf
            gap_above = latitudes[above] - lat if above < count else math.inf
            # The distance is never less than the latitude gap: nothing farther can win.
            gap = min(gap_below, gap_above)
            if gap * gap > best:
                break
            if gap_below <= gap_above:
                index, below = below, below - 1
            else:
                index, above = above, above + 1
            plat, plon, item = points[index]
            dy = plat - lat
            dx = (plon - lon) * (cos0 - slope * dy)
            squared = dx * dx + dy * dy
            if squared < best:
                best, payload = squared, item
        if payload is None and best == math.inf:
            return None, None
        return KM_PER_DEGREE * math.sqrt(best), payload


def _rounded(distance):
    return None if distance is None else round(distance, 2)


@transaction.atomic
def compute(*, now=None):
    """Recompute and store every commune's distances to help; returns the number of communes."""
    now = now or timezone.now()
    published = Structure.objects.published().filter(
        latitude__isnull=False, longitude__isnull=False
    )
    rows = list(published.values_list("pk", "latitude", "longitude"))
    everything = PointIndex([(lat, lon, pk) for pk, lat, lon in rows])
    positions = {pk: (lat, lon) for pk, lat, lon in rows}

    def index_of(queryset):
        return PointIndex(
            [
                (*positions[pk], pk)
                for pk in queryset.values_list("pk", flat=True)
                if pk in positions
            ]
        )

    demarches = index_of(published.offering([choices.Service.DEMARCHES]))
    free = index_of(published.free())
    kinds = {
        kind.slug: index_of(published.of_kinds([kind.slug])) for kind in ServiceType.objects.all()
    }
    stops = PointIndex(
        [
            (lat, lon, pk)
            for pk, lat, lon in Stop.objects.of_published().values_list(
                "pk", "latitude", "longitude"
            )
        ]
    )
    coverages = []
    for code, lat, lon in Commune.objects.values_list("pk", "latitude", "longitude"):
        nearest_km, nearest_pk = everything.nearest(lat, lon)
        coverages.append(
            CommuneCoverage(
                commune_id=code,
                nearest_km=_rounded(nearest_km),
                nearest_structure_id=nearest_pk,
                stop_km=_rounded(stops.nearest(lat, lon)[0]),
                demarches_km=_rounded(demarches.nearest(lat, lon)[0]),
                free_km=_rounded(free.nearest(lat, lon)[0]),
                by_kind_km={
                    slug: _rounded(index.nearest(lat, lon)[0]) for slug, index in kinds.items()
                },
                computed_at=now,
            )
        )
    CommuneCoverage.objects.all().delete()
    CommuneCoverage.objects.bulk_create(coverages, batch_size=500)
    # bulk_create sends no signal: the version moves once these rows are committed,
    # after the change of places that caused them (responses kept per version show them).
    # The map's places are not among them.
    data_changed(map_unchanged=True)
    return len(coverages)


def _recompute_after_commit():
    try:
        compute()
    except Exception:  # a failed computation keeps the previous figures, never the edit
        logger.exception("Le calcul de la couverture des communes a échoué.")


def places_changed(**kwargs):
    """Recompute once the current transaction commits (at once outside a transaction)."""
    if kwargs.get("raw") or not settings.COVERAGE_ON_COMMIT:
        return  # fixtures: load_initial_data recomputes at its end
    once_after_commit("coverage", _recompute_after_commit)


def _kinds_changed(action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        places_changed()


for _model in (Structure, Stop):
    post_save.connect(places_changed, sender=_model, dispatch_uid=f"coverage-save-{_model}")
    post_delete.connect(places_changed, sender=_model, dispatch_uid=f"coverage-delete-{_model}")
m2m_changed.connect(
    _kinds_changed, sender=Structure.kinds.through, dispatch_uid="coverage-structure-kinds"
)


# --- Portraits -------------------------------------------------------------------------------


@dataclass
class Share:
    """Population within each threshold of one kind of help."""

    label: str
    within: dict = field(default_factory=dict)  # km -> inhabitants
    population: int = 0

    def percent(self, km):
        return round(100 * self.within[km] / self.population) if self.population else 0

    @property
    def rows(self):
        return [(km, self.within[km], self.percent(km)) for km in THRESHOLDS_KM]

    def as_dict(self):
        return {
            f"{km}_km": {"habitants": self.within[km], "part": self.percent(km)}
            for km in THRESHOLDS_KM
        }


def _share(label, coverages, attribute):
    share = Share(label=label, within=dict.fromkeys(THRESHOLDS_KM, 0))
    for coverage in coverages:
        population = coverage.commune.population or 0
        share.population += population
        distance = attribute(coverage)
        for km in THRESHOLDS_KM:
            if distance is not None and distance <= km:
                share.within[km] += population
    return share


@dataclass
class Portrait:
    """The figures of a territory (a bassin, or the region when `bassin` is None)."""

    population: int
    commune_count: int
    place_count: int
    shares: dict
    farthest: list
    zones_blanches: list
    fresh_percent: int | None
    distance_classes: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # every commune's CoverageRow

    @property
    def inhabitants_per_place(self):
        return round(self.population / self.place_count) if self.place_count else None

    @property
    def zones_blanches_population(self):
        return sum(c.commune.population or 0 for c in self.zones_blanches)

    def as_dict(self):
        """The figures as the API publishes them (`couverture`)."""
        return {
            "population": self.population,
            "population_annee": POPULATION_YEAR,
            "nombre_communes": self.commune_count,
            "nombre_lieux": self.place_count,
            "habitants_par_lieu": self.inhabitants_per_place,
            "population_a_moins_de": {key: share.as_dict() for key, share in self.shares.items()},
            "zones_blanches": [
                {
                    "code_insee": c.commune_id,
                    "nom": c.commune.name,
                    "population": c.commune.population,
                    "distance_km": c.nearest_km,
                }
                for c in self.zones_blanches
            ],
            "part_lieux_verifies_12_mois": self.fresh_percent,
        }


DISTANCE_CLASSES = (
    ("moins-5", "moins de 5 km", 0, 5),
    ("5-10", "de 5 à 10 km", 5, 10),
    ("10-20", "de 10 à 20 km", 10, 20),
    ("plus-20", "plus de 20 km", 20, None),
)


def distance_class(distance):
    """The slug of the class a distance falls in (no place at all: the farthest class)."""
    for slug, _label, low, high in DISTANCE_CLASSES:
        if distance is not None and distance >= low and (high is None or distance < high):
            return slug
    return DISTANCE_CLASSES[-1][0]


@dataclass(slots=True)
class CommuneFacts:
    name: str
    population: int | None
    bassin_id: int
    latitude: float
    longitude: float


@dataclass(slots=True)
class NearestPlace:
    name: str
    slug: str

    def get_absolute_url(self):
        return reverse("mediation:structure", args=[self.slug])


@dataclass(slots=True)
class CoverageRow:
    """One commune's stored distances, read as plain values (no model instances: a
    portrait reads up to 1,754 of them per request)."""

    commune_id: str
    commune: CommuneFacts
    nearest_km: float | None
    stop_km: float | None
    demarches_km: float | None
    free_km: float | None
    by_kind_km: dict
    nearest_structure: NearestPlace | None


def _coverages(**filters):
    rows = CommuneCoverage.objects.filter(**filters).values_list(
        "commune_id",
        "commune__name",
        "commune__population",
        "commune__bassin_id",
        "commune__latitude",
        "commune__longitude",
        "nearest_km",
        "stop_km",
        "demarches_km",
        "free_km",
        "by_kind_km",
        "nearest_structure__name",
        "nearest_structure__slug",
    )
    return [
        CoverageRow(
            code,
            CommuneFacts(name, population, bassin_id, lat, lon),
            nearest,
            stop,
            demarches,
            free,
            by_kind or {},
            NearestPlace(place_name, place_slug) if place_slug else None,
        )
        for (
            code,
            name,
            population,
            bassin_id,
            lat,
            lon,
            nearest,
            stop,
            demarches,
            free,
            by_kind,
            place_name,
            place_slug,
        ) in rows
    ]


def _build(coverages, *, place_count, fresh, farthest):
    shares = {
        "lieu": _share("Un lieu, quel qu’il soit", coverages, lambda c: c.nearest_km),
        "france_services": _share(
            "Une France Services", coverages, lambda c: c.by_kind_km.get(FRANCE_SERVICES)
        ),
        "demarches": _share(
            "Une aide aux démarches administratives", coverages, lambda c: c.demarches_km
        ),
        "gratuit": _share("Une aide gratuite", coverages, lambda c: c.free_km),
        "etape_itinerante": _share("Une étape itinérante", coverages, lambda c: c.stop_km),
    }
    far_first = sorted(
        coverages,
        key=lambda c: (c.nearest_km is not None, -(c.nearest_km or 0), c.commune.name),
    )
    zones = [c for c in far_first if c.nearest_km is None or c.nearest_km > ZONE_BLANCHE_KM]
    classes = []
    for slug, label, _low, _high in DISTANCE_CLASSES:
        members = [c for c in coverages if distance_class(c.nearest_km) == slug]
        classes.append(
            {
                "slug": slug,
                "label": label,
                "communes": len(members),
                "population": sum(c.commune.population or 0 for c in members),
            }
        )
    return Portrait(
        population=sum(c.commune.population or 0 for c in coverages),
        commune_count=len(coverages),
        place_count=place_count,
        shares=shares,
        farthest=far_first[:farthest],
        zones_blanches=zones,
        fresh_percent=round(100 * fresh / place_count) if place_count else None,
        distance_classes=classes,
        rows=coverages,
    )


def portrait(bassin=None, *, now=None, farthest=10):
    """The portrait of `bassin` (a BassinDeVie), or of the whole region."""
    now = now or timezone.now()
    places = Structure.objects.published()
    if bassin is not None:
        coverages = _coverages(commune__bassin=bassin)
        places = places.in_bassin(bassin)
    else:
        coverages = _coverages()
    counts = places.aggregate(
        total=Count("pk"),
        fresh=Count("pk", filter=Q(verified_at__gte=now - timedelta(days=FRESH_DAYS))),
    )
    return _build(coverages, place_count=counts["total"], fresh=counts["fresh"], farthest=farthest)


def portraits_by_bassin(*, now=None, farthest=0):
    """{bassin id: Portrait} of the 23 bassins, in three queries."""
    now = now or timezone.now()
    by_bassin = {}
    for coverage in _coverages():
        by_bassin.setdefault(coverage.commune.bassin_id, []).append(coverage)
    counts = {
        row["commune__bassin"]: row
        for row in Structure.objects.published()
        .values("commune__bassin")
        .annotate(
            total=Count("pk"),
            fresh=Count("pk", filter=Q(verified_at__gte=now - timedelta(days=FRESH_DAYS))),
        )
    }
    return {
        bassin_id: _build(
            coverages,
            place_count=counts.get(bassin_id, {}).get("total", 0),
            fresh=counts.get(bassin_id, {}).get("fresh", 0),
            farthest=farthest,
        )
        for bassin_id, coverages in by_bassin.items()
    }


def in_words(number):
    """ "9 habitants sur 10" from a percentage, as people say it."""
    tenths = round(number / 10)
    if tenths >= 10:
        return "Tous les habitants" if number == 100 else "Presque tous les habitants"
    if tenths <= 0:
        return "Presque aucun habitant" if number else "Aucun habitant"
    return f"{tenths} habitant{'s' if tenths > 1 else ''} sur 10"


def lead_sentence(portrait):
    """The plain-French sentence that opens a portrait."""
    share = portrait.shares["lieu"]
    sentence = f"{in_words(share.percent(10))} ont un lieu à moins de 10 km"
    far = [c for c in portrait.zones_blanches if c.nearest_km is None or c.nearest_km > 20]
    if far:
        people = sum(c.commune.population or 0 for c in far)
        plural = "s" if len(far) > 1 else ""
        sentence += (
            f" ; {len(far)} commune{plural}, {thousands(people)} habitants, "
            f"{'sont' if far[1:] else 'est'} à plus de 20 km"
        )
    return sentence + "."


PORTRAITS_TTL = 3600  # the 12-month freshness window moves with time, not only with data


def cached(name, build):
    """`build()`, computed once per data version and kept in the shared cache.

    The key holds the directory's version and the date of the last recomputation of
    the distances, so an edit shows at once; an unreachable cache only costs time.
    Keep what is cached small: it is unpickled on every request.
    """
    from mediation.versioning import structures_version

    stamp, _modified = structures_version()
    computed = CommuneCoverage.objects.values_list("computed_at", flat=True).first()
    key = f"territories:{name}:{stamp}:{computed.isoformat() if computed else '-'}"
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, PORTRAITS_TTL)
    return found


def comparison_summary():
    """The figures of the comparison page: one small dict per bassin, and the region's
    sentence."""
    rows = {
        bassin_id: {
            "population": p.population,
            "place_count": p.place_count,
            "inhabitants_per_place": p.inhabitants_per_place,
            "percent_10": p.shares["lieu"].percent(10),
            "percents": {km: p.shares["lieu"].percent(km) for km in THRESHOLDS_KM},
            "france_services_10": p.shares["france_services"].percent(10),
            "free_10": p.shares["gratuit"].percent(10),
            "stop_10": p.shares["etape_itinerante"].percent(10),
            "zones_blanches_population": p.zones_blanches_population,
            "fresh_percent": p.fresh_percent,
            "commune_count": p.commune_count,
        }
        for bassin_id, p in portraits_by_bassin().items()
    }
    return rows, lead_sentence(portrait(farthest=0))
