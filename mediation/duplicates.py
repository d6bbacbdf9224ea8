"""Places that probably appear twice: the same place from two sources, or twice in one.

The regional census and the national export describe many of the same places,
under names that differ ("MSAP LIGUEIL" and "France Services Ligueil") but at
the same address. Which of two records to keep, or whether they are in fact
two services sharing a building, is a person's decision: this module lists
the pairs to look at (admin: Structures → Doublons probables; coordinators:
Mon espace → Doublons; `manage.py find_duplicates`), merges a pair the way a
person chose field by field (`merge()`), or records that it is not one
(`mark_distinct()`). What a merge leaves behind is described in `merges.py`.

Two published places are a probable pair when they are in the same commune and
- their addresses match (≥ 90 %) and their names are alike (≥ 70 %), or
- their names match (≥ 95 %) and they are less than 500 m apart.
Similarities are rapidfuzz's token-set ratios over the text as the commune
search normalises it (no accents, case or punctuation), so "BGE CHER" matches
"ANNA (BGE CHER)".
"""

import itertools
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from rapidfuzz import fuzz, process

from mediation import choices, provenance
from mediation.models import (
    DistinctPair,
    ErrorReport,
    Invitation,
    JoinRequest,
    Membership,
    Merge,
    SourceIdentifier,
    Stop,
    Structure,
    deduced_sources,
    planar_distance,
)
from mediation.provenance import KINDS
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
    """The probable pairs among `queryset` (published places by default), most alike first.

    Pairs a person marked "pas un doublon" are left out. Places are compared
    only within their commune (blocking), from plain values read in one pass;
    rapidfuzz compares one name with all the commune's next ones at a time, so
    100,000 places take seconds. Only the places of the pairs are loaded whole.
    """
    if queryset is None:
        queryset = Structure.objects.published()
    distinct = set(DistinctPair.objects.values_list("first_id", "second_id"))
    rows = (
        queryset.exclude(commune=None)
        .order_by("commune_id", "pk")
        .values_list("commune_id", "pk", "name", "address", "latitude", "longitude")
    )
    found = []
    for _commune, group in itertools.groupby(rows.iterator(chunk_size=5000), key=lambda r: r[0]):
        places = list(group)
        if len(places) < 2:
            continue
        names = [normalize_search(p[2]) for p in places]
        addresses = [normalize_search(p[3]) for p in places]
        for i, first in enumerate(places[:-1]):
            alike = process.extract(
                names[i],
                names[i + 1 :],
                scorer=fuzz.token_set_ratio,
                processor=None,
                score_cutoff=ALIKE_NAMES,
                limit=None,
            )
            for _name, names_score, offset in alike:
                j = i + 1 + offset
                second = places[j]
                if (first[1], second[1]) in distinct:
                    continue
                address_score = fuzz.token_set_ratio(addresses[i], addresses[j])
                if address_score < SAME_ADDRESS and names_score < SAME_NAME:
                    continue  # the distance could not make them a pair: not computed
                distance = None
                if None not in (first[4], second[4]):
                    distance = planar_distance(first[4], first[5], second[4], second[5])
                close = distance is not None and distance <= CLOSE_KM
                if address_score >= SAME_ADDRESS or close:
                    found.append((first[1], second[1], names_score, address_score, distance))
    structures = Structure.objects.select_related("commune").in_bulk(
        {pk for row in found for pk in row[:2]}
    )
    pairs = [
        Pair(structures[first], structures[second], names, addresses, distance)
        for first, second, names, addresses, distance in found
    ]
    pairs.sort(key=lambda p: (-(p.name_similarity + p.address_similarity), p.first.pk))
    return pairs


def find_pair(first_pk, second_pk):
    """The probable pair of these two places, or None when they are not (or no longer) one."""
    queryset = Structure.objects.published().filter(pk__in=[first_pk, second_pk])
    return next(iter(probable_duplicates(queryset)), None)


# Merging ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldGroup:
    """Fields a person takes together from one record or the other ("both": multi-valued)."""

    key: str
    label: str
    fields: tuple
    combinable: bool = False


FIELD_GROUPS = (
    FieldGroup("name", "Nom", ("name",)),
    FieldGroup(
        "address",
        "Adresse et position",
        (
            "address",
            "address_complement",
            "postal_code",
            "city",
            "code_insee",
            "commune",
            "latitude",
            "longitude",
        ),
    ),
    FieldGroup("kinds", "Types de lieu", ("kinds",), combinable=True),
    FieldGroup("phone", "Téléphone", ("phone",)),
    FieldGroup("emails", "Courriels", ("emails",), combinable=True),
    FieldGroup("websites", "Sites web", ("websites",), combinable=True),
    FieldGroup("appointment_url", "Prise de rendez-vous en ligne", ("appointment_url",)),
    FieldGroup("opening_hours", "Horaires", ("opening_hours", "opening_hours_note")),
    FieldGroup("summary", "Présentation courte", ("summary",)),
    FieldGroup("description", "Présentation détaillée", ("description",)),
    FieldGroup("services", "Services", ("services",), combinable=True),
    FieldGroup("publics", "Publics", ("publics",), combinable=True),
    FieldGroup("specific_support", "Prise en charge spécifique", ("specific_support",), True),
    FieldGroup("fees", "Frais à charge", ("fees",), combinable=True),
    FieldGroup("support_modes", "Modalités d’accompagnement", ("support_modes",), True),
    FieldGroup("access_modes", "Modalités d’accès", ("access_modes",), combinable=True),
    FieldGroup("national_programmes", "Dispositifs nationaux", ("national_programmes",), True),
    FieldGroup("labels", "Formations et labels", ("labels", "other_labels"), combinable=True),
    FieldGroup("itinerance", "Itinérance", ("itinerance",), combinable=True),
    FieldGroup(
        "accessibility",
        "Accessibilité",
        ("wheelchair_accessible", "accessibility_note", "acceslibre_url"),
    ),
    FieldGroup("equipment", "Équipements", ("equipment", "equipment_note")),
    FieldGroup("pivot", "SIRET ou RNA", ("pivot",)),
    FieldGroup("parent_structure", "Structure parente", ("parent_structure",)),
    FieldGroup("typologie", "Typologie", ("typologie",), combinable=True),
    FieldGroup("verified_at", "Vérifiée le", ("verified_at",)),
)
KEEP, OTHER, BOTH = "keep", "other", "both"


def group_value(structure, group):
    """The values of `group` on `structure`, comparable between two records."""
    if group.key == "kinds":
        return (tuple(sorted(structure.kinds.values_list("slug", flat=True))),)
    return tuple(getattr(structure, name) for name in group.fields)


def default_picks(survivor, other):
    """For each group: the survivor's values, unless it has none and the other has some."""
    picks = {}
    for group in FIELD_GROUPS:
        mine, theirs = group_value(survivor, group), group_value(other, group)
        empty = all(value in (None, "", [], ()) for value in mine)
        has_other = any(value not in (None, "", [], ()) for value in theirs)
        picks[group.key] = OTHER if empty and has_other else KEEP
    # The latest verification is the one that still holds.
    if other.verified_at and (not survivor.verified_at or other.verified_at > survivor.verified_at):
        picks["verified_at"] = OTHER
    return picks


def _union(first, second):
    return first + [value for value in second if value not in first]


@transaction.atomic
def merge(*, survivor, other, picks, user=None):
    """Merge `other` into `survivor`, taking each group of fields as `picks` says.

    The survivor keeps its identity (address of its page, `uid`, history) and
    gains: the chosen fields, the other's mediators (and pending invitations
    and requests), stops and reports, both
    records' import notes, and the other's source identifiers (so that an
    import of either source updates it). The other is archived; its page
    redirects to the survivor's, and its history is shown with the survivor's.
    Returns the survivor.
    """
    if survivor.pk == other.pk:
        raise ValueError("A place cannot be merged into itself.")
    locked = {
        s.pk: s
        for s in Structure.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk])
    }
    survivor, other = locked[survivor.pk], locked[other.pk]
    # What each record's source said, kept on the survivor for later imports of either.
    provenance.carry_snapshots(survivor=survivor, other=other, fields=MERGED_ATTRIBUTES)
    # The fields a person chose between two different values.
    chosen = {
        _attname(name)
        for group in FIELD_GROUPS
        if group.key != "verified_at" and group_value(survivor, group) != group_value(other, group)
        for name in group.fields
    }
    kinds = None
    deduced = dict(survivor.deduced or {})
    for group in FIELD_GROUPS:
        pick = picks.get(group.key, KEEP)
        if pick not in (KEEP, OTHER, BOTH) or (pick == BOTH and not group.combinable):
            raise ValueError(f"{group.key}: {pick}")
        if pick == KEEP:
            continue
        _carry_deduced(deduced, survivor, other, group, pick)
        if group.key == "kinds":
            theirs = list(other.kinds.all())
            kinds = _union(list(survivor.kinds.all()), theirs) if pick == BOTH else theirs
            continue
        for name in group.fields:
            value = getattr(other, name)
            if pick == BOTH and isinstance(value, list):
                value = _union(getattr(survivor, name), value)
            elif pick == BOTH and not getattr(survivor, name):
                pass  # a text beside a list ("other_labels"…): keep the one that says something
            elif pick == BOTH:
                continue
            setattr(survivor, name, value)
    notes = survivor.import_note.splitlines()
    survivor.import_note = "\n".join(
        notes + [line for line in other.import_note.splitlines() if line not in notes]
    )
    if other.status == choices.Status.PUBLISHED:
        survivor.status = choices.Status.PUBLISHED

    survivor.deduced = deduced
    _keep_identifiers(survivor, other)
    survivor._history_user = user
    survivor._change_reason = f"Fusion avec « {other.name} »"[:100]
    survivor.save()
    if kinds is not None:
        survivor.kinds.set(kinds)
    provenance.record_merge_choices(survivor=survivor, chosen=chosen, user=user)

    # People and what they sent follow the place.
    for membership in Membership.objects.filter(structure=other):
        if Membership.objects.filter(structure=survivor, user_id=membership.user_id).exists():
            membership.delete()
        else:
            membership.structure = survivor
            membership.save()
    for stop in Stop.objects.filter(structure=other):
        stop.structure = survivor
        stop.save()
    ErrorReport.objects.filter(structure=other).update(structure=survivor)
    Invitation.objects.filter(structure=other).update(structure=survivor)
    JoinRequest.objects.filter(structure=other).update(structure=survivor)

    other.status = choices.Status.ARCHIVED
    other._history_user = user
    other._change_reason = f"Fusionnée dans « {survivor.name} »"[:100]
    other.save()

    # Earlier merges into the other now lead to the survivor.
    Merge.objects.filter(survivor=other).update(survivor=survivor)
    Merge.objects.create(
        survivor=survivor, merged=other, merged_slug=other.slug, picks=picks, merged_by=user
    )
    DistinctPair.objects.filter(Q(first=other) | Q(second=other)).delete()
    return survivor


def _attname(name):
    return KINDS if name == "kinds" else Structure._meta.get_field(name).attname


MERGED_ATTRIBUTES = [
    _attname(name) for group in FIELD_GROUPS if group.key != "kinds" for name in group.fields
]


def _carry_deduced(deduced, survivor, other, group, pick):
    """A value still deduced on the record it comes from stays deduced on the survivor:
    choosing between two records is not confirming what a source only implied. A value
    one record states and the other deduces is stated."""
    for name in group.fields:
        if name not in Structure.DEDUCIBLE_FIELDS:
            continue
        theirs = deduced_sources(other.deduced, name, getattr(other, name))
        if pick == BOTH:
            mine = deduced_sources(deduced, name, getattr(survivor, name))
            stated = (set(getattr(survivor, name)) - set(mine)) | (
                set(getattr(other, name)) - set(theirs)
            )
            theirs = {v: why for v, why in (mine | theirs).items() if v not in stated}
        if theirs:
            deduced[name] = [{"value": v, "source": why} for v, why in theirs.items()]
        else:
            deduced.pop(name, None)


def _keep_identifiers(survivor, other):
    """Both records' source identifiers end up on the survivor, and only there."""
    SourceIdentifier.objects.filter(structure=other).update(structure=survivor)
    for structure in (survivor, other):
        if structure.source_id:
            SourceIdentifier.objects.get_or_create(
                source=structure.source,
                source_id=structure.source_id,
                defaults={"structure": survivor},
            )
    # The archived record no longer answers to its identifier: a new import
    # of its source would otherwise update it rather than the survivor.
    other.source_id = ""


@transaction.atomic
def mark_distinct(*, first, second, user=None):
    """Record that two places are not duplicates (e.g. two services sharing a building)."""
    low, high = sorted([first.pk, second.pk])
    pair, _created = DistinctPair.objects.get_or_create(
        first_id=low, second_id=high, defaults={"decided_by": user}
    )
    return pair


def merged_ids(structure):
    """Ids of the records merged into `structure` (whose history it carries)."""
    return list(Merge.objects.filter(survivor=structure).values_list("merged_id", flat=True))


def redirect_target(slug):
    """The published survivor a merged record's old address leads to, or None."""
    merge = Merge.objects.filter(merged_slug=slug).select_related("survivor").first()
    if merge is None or not merge.survivor.is_published:
        return None
    return merge.survivor
