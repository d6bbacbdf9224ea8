"""Data quality of the published directory, per bassin de vie and for the region.

What a coordinator needs to know before trusting the directory: of the
published places, how many say what they offer (at least one service), when
they open in a form the site can read (OpenStreetMap hours), how to call them,
whether someone checked them in the last 12 months; how many probable
duplicates are left to decide (`mediation/duplicates.py`) and how many kinds
contradict the name (`mediation/kind_check.py`), and how many show a contact that
looks like a person's own (« contact personnel ? », `with_personal_contact()`).

`manage.py data_quality` prints these figures (text, or `--csv`).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from mediation.duplicates import probable_duplicates
from mediation.models import Structure
from territories.models import BassinDeVie

FRESH_DAYS = Structure.FRESH_DAYS
REGION = "Région Centre-Val de Loire"
NO_BASSIN = "Hors bassin (commune inconnue)"


@dataclass
class Figures:
    """Counts for one territory; shares are computed from them."""

    territory: str
    places: int = 0
    with_service: int = 0
    with_hours: int = 0
    with_phone: int = 0
    verified_recently: int = 0
    duplicates: int = 0
    kinds_to_check: int = 0
    personal_contacts: int = 0
    slug: str = ""

    COLUMNS = (
        ("with_service", "avec au moins un service"),
        ("with_hours", "avec horaires lisibles par une machine"),
        ("with_phone", "avec un téléphone"),
        ("verified_recently", "vérifiés depuis moins de 12 mois"),
    )

    def share(self, attribute):
        """Percentage of the published places (0 when there are none)."""
        return 100 * getattr(self, attribute) / self.places if self.places else 0.0


@dataclass
class Report:
    measured_at: object
    bassins: list = field(default_factory=list)
    region: Figures = None

    @property
    def rows(self):
        return [*self.bassins, self.region]


def measure(*, now=None):
    """The figures of every bassin (alphabetical, places outside any bassin last) and the region."""
    now = now or timezone.now()
    since = now - timedelta(days=FRESH_DAYS)
    published = Structure.objects.published()
    counts = published.values("commune__bassin").annotate(
        places=Count("pk"),
        with_service=Count("pk", filter=~Q(services="")),
        with_hours=Count("pk", filter=~Q(opening_hours="")),
        with_phone=Count("pk", filter=~Q(phone="")),
        verified_recently=Count("pk", filter=Q(verified_at__gte=since)),
    )
    by_bassin = {row.pop("commune__bassin"): row for row in counts}
    doubtful = published.kind_to_check().values("commune__bassin").annotate(n=Count("pk"))
    kinds_by_bassin = {row["commune__bassin"]: row["n"] for row in doubtful}
    personal = published.with_personal_contact().values("commune__bassin").annotate(n=Count("pk"))
    personal_by_bassin = {row["commune__bassin"]: row["n"] for row in personal}
    duplicates_by_bassin = {}
    for pair in probable_duplicates(published):
        bassin_id = pair.first.commune.bassin_id
        duplicates_by_bassin[bassin_id] = duplicates_by_bassin.get(bassin_id, 0) + 1

    report = Report(measured_at=now, region=Figures(REGION))
    territories = [(b.pk, b.name, b.slug) for b in BassinDeVie.objects.order_by("name")]
    if None in by_bassin:
        territories.append((None, NO_BASSIN, ""))
    for pk, name, slug in territories:
        figures = Figures(
            name,
            slug=slug,
            **by_bassin.get(pk, {}),
            duplicates=duplicates_by_bassin.get(pk, 0),
            kinds_to_check=kinds_by_bassin.get(pk, 0),
            personal_contacts=personal_by_bassin.get(pk, 0),
        )
        report.bassins.append(figures)
        for attribute in (
            "places",
            "with_service",
            "with_hours",
            "with_phone",
            "verified_recently",
            "duplicates",
            "kinds_to_check",
            "personal_contacts",
        ):
            setattr(
                report.region,
                attribute,
                getattr(report.region, attribute) + getattr(figures, attribute),
            )
    return report
