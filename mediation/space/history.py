"""A structure's history, readable: who changed which field, from what to what.

django-simple-history records every save of a structure, its stops and its
memberships, whatever the path (form, admin, API, import). This module turns
those records into lines a coordinator can read, gives the version token that
stops two people from overwriting each other, and restores an earlier version.
"""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone

from mediation.duplicates import merged_ids
from mediation.fields import MultiValueField, PhoneField
from mediation.models import Membership, ServiceType, Stop, Structure
from mediation.validators import display_phone

# Fields a restore leaves alone: identity, publication and bookkeeping.
NOT_RESTORED = {
    "id",
    "uid",
    "slug",
    "status",
    "created_at",
    "updated_at",
    "verified_at",
    "information_updated_at",
    "proposed_by",
    "moderation_message",
    "is_demo",
    "source",
    "source_id",
    "kind_ids",  # not in the history: the kinds restored below write it
}

ACTIONS = {"+": "Création", "~": "Modification", "-": "Suppression"}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One line of the history: a record and what it changed."""

    record: object
    subject: str
    action: str
    date: datetime
    user: object
    changes: list = field(default_factory=list)
    restorable: bool = False

    @property
    def history_id(self):
        return self.record.history_id


# Version token --------------------------------------------------------------


def version_token(structure):
    """Changes whenever the structure or one of its stops is saved, from any path."""
    structure_version = structure.history.aggregate(m=Max("history_id"))["m"] or 0
    stops_version = (
        Stop.history.filter(structure_id=structure.pk).aggregate(m=Max("history_id"))["m"] or 0
    )
    return f"{structure_version}-{stops_version}"


def parse_token(token):
    """(structure history id, stops history id) of a token or an ETag ("12-7", "12-7.api")."""
    token = str(token or "").strip().removeprefix("W/").strip('"').split(".")[0]
    try:
        structure_version, stops_version = (int(part) for part in token.split("-"))
    except ValueError:
        return None
    return structure_version, stops_version


@dataclass
class Version:
    """A place as it was when a page was loaded or an ETag read: the base of a merge."""

    token: str
    record: object  # the structure's history record
    kinds: set
    stops: dict  # stop id → history record of the stop as it was

    def value(self, name):
        """The stored value of field `name` at this version (kinds: a set of ids)."""
        if name == "kinds":
            return self.kinds
        model_field = Structure._meta.get_field(name)
        return getattr(self.record, model_field.attname)


def version_at(structure, token):
    """The `Version` of `structure` a token names, or None (unknown or foreign token)."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    structure_version, stops_version = parsed
    record = structure.history.filter(history_id=structure_version).first()
    if record is None:
        return None
    stops = {}
    for stop in (
        Stop.history.filter(structure_id=structure.pk, history_id__lte=stops_version)
        .order_by("history_id")
        .iterator()
    ):
        stops[stop.id] = stop
    stops = {pk: stop for pk, stop in stops.items() if stop.history_type != "-"}
    kinds = {row.servicetype_id for row in record.kinds.all()}
    return Version(token=token, record=record, kinds=kinds, stops=stops)


def last_author(structure, name):
    """Who made the current value of field `name` (a name for people to read)."""
    attname = Structure._meta.get_field(name).attname if name != "kinds" else None

    def value(record):
        if attname is None:
            return {row.servicetype_id for row in record.kinds.all()}
        return getattr(record, attname)

    records = list(structure.history.select_related("history_user").order_by("-history_id")[:50])
    for newer, older in pairwise(records):
        if value(newer) != value(older):
            return str(newer.history_user) if newer.history_user else "un traitement automatique"
    return "l’autre personne"


def merge(*, base, current, mine):
    """Three-way merge of one field: (value to store, both changed it differently?).

    What this person left as it was keeps the other person's value; what only
    this person changed takes theirs; a field both changed differently is a
    conflict for this person to settle (their value is returned meanwhile).
    """
    if mine == base:
        return current, False
    if current in (base, mine):
        return mine, False
    return mine, True


def current_value(structure, name):
    """The stored value of field `name` now, comparable with `Version.value()`."""
    if name == "kinds":
        return set(structure.kinds.values_list("pk", flat=True))
    return getattr(structure, Structure._meta.get_field(name).attname)


def author_of_change(structure, version, name):
    """Who last changed field `name` after `version` (a name for people to read)."""
    records = structure.history.filter(history_id__gt=version.record.history_id).select_related(
        "history_user"
    )
    attname = Structure._meta.get_field(name).attname if name != "kinds" else None
    before = version.value(name)
    author = None
    for record in records.order_by("history_id"):
        value = (
            {row.servicetype_id for row in record.kinds.all()}
            if attname is None
            else getattr(record, attname)
        )
        if value != before:
            author = record.history_user
            before = value
    return str(author) if author else "un traitement automatique"


# Display of values ------------------------------------------------------------


def display_value(model, name, value):
    """A stored value as the person reading the history knows it."""
    model_field = model._meta.get_field(name)
    if value in (None, "", []):
        return "(vide)"
    if isinstance(model_field, MultiValueField):
        values = model_field.to_python(value)
        return " ; ".join(values) if values else "(vide)"
    if isinstance(model_field, PhoneField):
        return display_phone(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if model_field.is_relation and model_field.many_to_one:
        related = model_field.related_model.objects.filter(pk=value).first()
        return str(related) if related else f"(supprimé : {value})"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return str(value)


def field_label(model, name):
    label = str(model._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def kinds_names(rows):
    ids = [row["servicetype"] for row in rows]
    names = dict(ServiceType.objects.filter(pk__in=ids).values_list("pk", "name"))
    return " ; ".join(names.get(pk, f"(supprimé : {pk})") for pk in ids) or "(vide)"


def diff(new_record, old_record):
    """The `Change`s from `old_record` to `new_record` (same object), in field order."""
    model = new_record.instance_type
    delta = new_record.diff_against(old_record)
    by_name = {change.field: change for change in delta.changes}
    changes = []
    for model_field in model._meta.get_fields():
        change = by_name.get(model_field.name)
        if change is None:
            continue
        if model_field.many_to_many:
            old, new = kinds_names(change.old), kinds_names(change.new)
            if old == new:
                continue
        else:
            old = display_value(model, model_field.name, change.old)
            new = display_value(model, model_field.name, change.new)
        changes.append(Change(field_label(model, model_field.name), old, new))
    return changes


def initial_values(record):
    """What a creation record holds, as `Change`s from nothing."""
    model = record.instance_type
    changes = []
    for model_field in model._meta.concrete_fields:
        if not model_field.editable or model_field.name in {"id", "uid", "slug", "structure"}:
            continue
        value = getattr(record, model_field.attname)
        if value in (None, "", [], False) or (
            isinstance(model_field, MultiValueField) and not model_field.to_python(value)
        ):
            continue
        changes.append(
            Change(
                field_label(model, model_field.name),
                "(vide)",
                display_value(model, model_field.name, value),
            )
        )
    return changes


# Timeline ---------------------------------------------------------------------


def _entries(records, subject_of, restorable=False):
    entries = []
    previous = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        key = getattr(record, record.instance_type._meta.pk.attname)
        before = previous.get(key)
        if record.history_type == "+" or before is None:
            changes = initial_values(record)
        elif record.history_type == "-":
            changes = []
        else:
            changes = diff(record, before)
        previous[key] = record
        if record.history_type == "~" and not changes:
            continue  # a save that changed nothing
        entries.append(
            Entry(
                record=record,
                subject=subject_of(record),
                action=ACTIONS.get(record.history_type, record.history_type),
                date=record.history_date,
                user=record.history_user,
                changes=changes,
                restorable=restorable and record.history_type != "-",
            )
        )
    return entries


def timeline(structure):
    """Every change to the structure, its stops, its mediators and the records merged into it."""
    structure_records = structure.history.select_related("history_user")
    stop_records = Stop.history.filter(structure_id=structure.pk).select_related("history_user")
    membership_records = Membership.history.filter(structure_id=structure.pk).select_related(
        "history_user", "user"
    )
    entries = [
        *_entries(structure_records, lambda r: "La fiche", restorable=True),
        *_entries(stop_records, lambda r: f"Étape « {r.place} »"),
        *_entries(membership_records, lambda r: f"Médiateur : {r.user}"),
        # Records merged into this one: their past is part of its past.
        *_entries(
            Structure.history.filter(id__in=merged_ids(structure)).select_related("history_user"),
            lambda r: f"Fiche fusionnée « {r.name} »",
        ),
    ]
    latest = max((e.history_id for e in entries if e.subject == "La fiche"), default=None)
    for entry in entries:
        if entry.subject == "La fiche" and entry.history_id == latest:
            entry.restorable = False  # restoring the current version changes nothing
    entries.sort(key=lambda e: (e.date, e.history_id), reverse=True)
    return entries


def changed_since(structure, token):
    """What others changed since the page holding `token` was loaded (for a conflict)."""
    parsed = parse_token(token)
    if parsed is None:
        return [], []
    structure_version, stops_version = parsed
    newer = list(
        structure.history.filter(history_id__gt=structure_version)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    changes, authors = [], []
    base = structure.history.filter(history_id=structure_version).first()
    if newer and base is not None:
        changes.extend(diff(newer[-1], base))
    stops_changed = Stop.history.filter(
        structure_id=structure.pk, history_id__gt=stops_version
    ).select_related("history_user")
    for record in stops_changed:
        changes.append(
            Change(
                f"Étape « {record.place} »",
                "",
                ACTIONS.get(record.history_type, "").lower(),
            )
        )
    for record in [*newer, *stops_changed]:
        author = str(record.history_user) if record.history_user else "un traitement automatique"
        stamp = formats.date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT")
        if (author, stamp) not in authors:
            authors.append((author, stamp))
    return changes, authors


# Restore ----------------------------------------------------------------------


@transaction.atomic
def restore(*, structure, history_id, user):
    """Bring back the fiche as it was right after the change `history_id`, stops included.

    Raises `ValidationError` (with the model's messages) when that version
    breaks a rule the place must follow today; nothing is changed then.

    The publication status stays as it is (publishing and archiving are their own
    actions). The restore itself is a new change in the history: it can be undone.
    """
    record = structure.history.get(history_id=history_id)
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    for model_field in Structure._meta.concrete_fields:
        if model_field.name in NOT_RESTORED:
            continue
        setattr(structure, model_field.attname, getattr(record, model_field.attname))
    # The old version meets today's rules, or nothing is restored (ValidationError).
    structure.full_clean(exclude=["slug", "uid"], validate_unique=False)
    structure._history_user = user
    moment = timezone.localtime(record.history_date)  # as the history page shows it
    structure._change_reason = f"Restauration de la version du {moment:%d/%m/%Y %H:%M}"
    structure.save()
    structure.kinds.set([row.servicetype_id for row in record.kinds.all()])

    # Stops: the state they had then. The edit page saves stops before the
    # fiche, so a version's record comes after its own stops' records.
    wanted = {
        stop.pk: stop
        for stop in Stop.history.as_of(record.history_date).filter(structure_id=structure.pk)
    }
    for stop in structure.stops.all():
        if stop.pk not in wanted:
            stop._history_user = user
            stop.delete()
    for pk, old in wanted.items():
        current = Stop.objects.filter(pk=pk).first() or Stop(pk=pk, structure=structure)
        for model_field in Stop._meta.concrete_fields:
            if model_field.name != "id":
                setattr(current, model_field.attname, getattr(old, model_field.attname))
        current._history_user = user
        current.save()
    return structure
