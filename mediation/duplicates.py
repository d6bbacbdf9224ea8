"""Places that probably appear twice: the same place from two sources, or twice in one.

The regional census and the national export describe many of the same places,
under names that differ ("MSAP LIGUEIL" and "France Services Ligueil") but at
the same address. Which of two records to keep, or whether they are in fact
two services sharing a building, is a person's decision: this module only
lists the pairs to look at (admin: Structures → Doublons probables;
`manage.py find_duplicates`).

Two published places are a probable pair when they are in the same commune and
- their addresses match (≥ 90 %) and their names are alike (≥ 70 %), or
- their names match (≥ 95 %) and they are less than 500 m apart.
Similarities are rapidfuzz's token-set ratios over the text as the commune
search normalises it (no accents, case or punctuation), so "BGE CHER" matches
"ANNA (BGE CHER)".
"""

import itertools
from dataclasses import dataclass

from rapidfuzz import fuzz

from mediation.models import Structure, planar_distance
from territories.models import normalize_search

SAME_ADDRESS = 90
ALIKE_NAMES = 70
SAME_NAME = 95
CLOSE_KM = 0.5


@dataclass(frozen=True)
class Pair:
    first: Structure
    second: Structure
    name_similarity: float
    address_similarity: float
    distance_km: float | None

    @property
    def reasons(self):
        """In French, why the two are listed together."""
        reasons = []
        if self.address_similarity >= SAME_ADDRESS:
            reasons.append(f"même adresse ({self.address_similarity:.0f} %)")
        reasons.append(f"noms semblables ({self.name_similarity:.0f} %)")
        if self.distance_km is not None and self.distance_km < 1:
            reasons.append(f"à {self.distance_km * 1000:.0f} m l’un de l’autre")
        elif self.distance_km is not None:
            reasons.append(
                f"à {self.distance_km:.0f} km l’un de l’autre (une position est fausse ?)"
            )
        return reasons

    @property
    def places(self):
        return self.first, self.second

    @property
    def same_source(self):
        return self.first.source == self.second.source


def probable_duplicates(queryset=None):
    """The probable pairs among `queryset` (published places by default), most alike first."""
    if queryset is None:
        queryset = Structure.objects.published()
    by_commune = {}
    for structure in queryset.exclude(commune=None).select_related("commune").order_by("pk"):
        by_commune.setdefault(structure.commune_id, []).append(structure)
    pairs = []
    for places in by_commune.values():
        texts = {p.pk: (normalize_search(p.name), normalize_search(p.address)) for p in places}
        for first, second in itertools.combinations(places, 2):
            names = fuzz.token_set_ratio(texts[first.pk][0], texts[second.pk][0])
            if names < ALIKE_NAMES:
                continue
            addresses = fuzz.token_set_ratio(texts[first.pk][1], texts[second.pk][1])
            distance = None
            if None not in (first.latitude, second.latitude):
                distance = planar_distance(
                    first.latitude, first.longitude, second.latitude, second.longitude
                )
            close = distance is not None and distance <= CLOSE_KM
            if addresses >= SAME_ADDRESS or (names >= SAME_NAME and close):
                pairs.append(Pair(first, second, names, addresses, distance))
    pairs.sort(key=lambda p: (-(p.name_similarity + p.address_similarity), p.first.pk))
    return pairs
