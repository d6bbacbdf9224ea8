"""What each source last said about a place, and where it disagrees with people.

A re-import never overwrites a person's work silently. For each record of a
source that describes a place (source, identifier in the source),
`SourceSnapshot` keeps the values that record brought last time. On the next
import, a field whose current value differs from that snapshot was changed by
a person since: their value is kept, and when the file says something else an
`ImportConflict` waits for a coordinator to choose (the report says "gardée :
modifiée par … le …"). `import_structures --overwrite` is for an
administrator who means to replace people's values.

A place merged from two records (`duplicates.merge()`) keeps both records'
snapshots (`carry_snapshots()`), and the person's choice at the merge is
recorded as a decision against the value set aside (`record_merge_choices()`):
a re-import of either source leaves the survivor as the person merged it, and
a field taken from a source keeps following that source.

A value the import deduced (`Structure.deduced`) and a person confirmed stays
confirmed at the next import of the same deduction (`still_deduced()`).

Places imported before snapshots existed get one from their last import in the
history (what the import wrote then was the source's value).
"""

import json
from itertools import pairwise

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

# History entries written by an import carry a change reason starting with this.
IMPORT_CHANGE_REASON = "Import"
KINDS = "kinds"  # the kinds, in snapshots and conflicts, as sorted slugs


class SourceSnapshot(models.Model):
    """The values (model attribute → value) one record of a source brought at its last import.

    A place has one per record that describes it: one, or more after a merge."""

    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="source_snapshots",
    )
    source = models.CharField("source", max_length=100, blank=True)
    source_id = models.CharField("identifiant dans la source", max_length=100, blank=True)
    values = models.JSONField("valeurs de la source", default=dict, encoder=DjangoJSONEncoder)
    imported_at = models.DateTimeField("dernier import", auto_now=True)
    # What lets the next import of the same record skip it (`ImportBatch.find_unchanged()`):
    # a digest of the record as the file gave it, one of the place as the import left it,
    # and the remarks of the import report. Empty when the record had conflicts.
    row_fingerprint = models.CharField(
        "empreinte de la ligne importée", max_length=32, blank=True, db_index=True
    )
    place_fingerprint = models.CharField(
        "empreinte du lieu après l’import", max_length=32, blank=True
    )
    remarks = models.JSONField("remarques de l’import", default=list, blank=True)

    class Meta:
        verbose_name = "valeurs de la source"
        verbose_name_plural = "valeurs des sources"
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "source", "source_id"], name="one_snapshot_per_source_record"
            )
        ]

    def __str__(self):
        return f"{self.source} {self.source_id} : {self.structure}"


class ImportConflict(models.Model):
    """A field a person changed and a later import wanted to change again."""

    class State(models.TextChoices):
        PENDING = "pending", "À trancher"
        KEPT = "kept", "Valeur de la personne gardée"
        TAKEN = "taken", "Valeur de la source appliquée"

    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="import_conflicts",
    )
    field = models.CharField("champ", max_length=100)
    source = models.CharField("source", max_length=100, blank=True)
    source_value = models.JSONField("valeur du fichier", encoder=DjangoJSONEncoder, null=True)
    kept_value = models.JSONField("valeur gardée", encoder=DjangoJSONEncoder, null=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifiée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField("modifiée le", null=True, blank=True)
    detected_at = models.DateTimeField("détecté le", default=timezone.now)
    state = models.CharField(
        "état", max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="tranché par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("tranché le", null=True, blank=True)

    class Meta:
        verbose_name = "conflit d’import"
        verbose_name_plural = "conflits d’import"
        ordering = ["state", "-detected_at"]
        constraints = [
            # Per source: after a merge two sources may each disagree with a person.
            models.UniqueConstraint(
                fields=["structure", "field", "source"],
                condition=models.Q(state="pending"),
                name="one_pending_conflict_per_field_and_source",
            )
        ]

    def __str__(self):
        return f"{self.structure} — {self.field_label}"

    @property
    def field_label(self):
        from mediation.models import Structure

        if self.field == KINDS:
            return "types de structure"
        return str(Structure._meta.get_field(self.field).verbose_name)

    @transaction.atomic
    def decide(self, *, take_source, user):
        """The coordinator's choice: the file's value, or the person's (kept as is)."""
        from mediation.models import ServiceType

        if self.state != self.State.PENDING:
            return
        structure = self.structure
        if take_source:
            if self.field == KINDS:
                structure.kinds.set(ServiceType.objects.filter(slug__in=self.source_value))
            else:
                setattr(structure, self.field, self.source_value)
                structure._history_user = user
                structure._change_reason = "Conflit d’import tranché : valeur de la source"
                structure.full_clean(exclude=["slug"])
                structure.save()
        self.state = self.State.TAKEN if take_source else self.State.KEPT
        self.decided_by, self.decided_at = user, timezone.now()
        self.save(update_fields=["state", "decided_by", "decided_at"])


def snapshot_of(structure, *, source, source_id):
    """{attribute: value} the record (`source`, `source_id`) brought last, or None (never)."""
    snapshots = list(SourceSnapshot.objects.filter(structure=structure))
    for snapshot in snapshots:
        if (snapshot.source, snapshot.source_id) == (source, source_id):
            return snapshot.values
    if snapshots:
        return None  # the place has other records' snapshots: this one never brought anything
    return _last_import(structure)


def remember(structure, *, source, source_id, values):
    """Keep what the record (`source`, `source_id`) brought at this import."""
    SourceSnapshot.objects.update_or_create(
        structure=structure, source=source, source_id=source_id, defaults={"values": values}
    )


def _last_import(structure):
    """What the last import wrote, from the history (places imported before snapshots)."""
    record = (
        structure.history.filter(history_change_reason__startswith=IMPORT_CHANGE_REASON)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is None:
        return None
    return {
        f.attname: getattr(record, f.attname)
        for f in structure._meta.concrete_fields
        if hasattr(record, f.attname)
    }


def last_change_by_person(structure, field):
    """(user, date) of the newest change of `field` not made by an import, or (None, None)."""
    records = list(structure.history.order_by("-history_date", "-history_id")[:200])
    for newer, older in pairwise(records):
        if (newer.history_change_reason or "").startswith(IMPORT_CHANGE_REASON):
            continue
        # The kinds' history is in another table: their newest change by a person.
        if field == KINDS or getattr(newer, field, None) != getattr(older, field, None):
            return newer.history_user, newer.history_date
    return None, None


def who(user, structure):
    """ "un médiateur", "un coordinateur"… as an import report names a person."""
    if user is None:
        return "une personne"
    if user.memberships.filter(structure=structure).exists():
        return "un médiateur"
    if (
        structure.commune_id
        and user.coordinations.filter(bassin_id=structure.commune.bassin_id).exists()
    ):
        return "un coordinateur"
    if user.is_staff:
        return "un administrateur"
    return "une personne"


def jsonable(value):
    """`value` as a snapshot holds it (JSON: dates as text, tuples as lists)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _marked(deduced):
    return {
        (name, entry["value"]) for name, entries in (deduced or {}).items() for entry in entries
    }


def still_deduced(file_deduced, *, current, snapshot):
    """`Structure.deduced` after an import: what the file deduces, but for the values a
    person confirmed since the last import (deduced by it then, no longer marked now)."""
    confirmed = _marked((snapshot or {}).get("deduced")) - _marked(current)
    kept = {
        name: [entry for entry in entries if (name, entry["value"]) not in confirmed]
        for name, entries in (file_deduced or {}).items()
    }
    return {name: entries for name, entries in kept.items() if entries}


# --- Merges ---------------------------------------------------------------------


def carry_snapshots(*, survivor, other, fields):
    """Before a merge: each record's snapshot, on the survivor.

    A record imported before snapshots existed gets one from its last import;
    one never imported (typed with a source identifier) from its values now.
    """
    for structure in (survivor, other):
        if not structure.source_id:
            continue
        if SourceSnapshot.objects.filter(
            structure=structure, source=structure.source, source_id=structure.source_id
        ).exists():
            continue
        values = _last_import(structure) if not structure.source_snapshots.exists() else None
        if values is None:
            values = {name: jsonable(getattr(structure, name)) for name in fields}
            values[KINDS] = sorted(structure.kinds.values_list("slug", flat=True))
        remember(structure, source=structure.source, source_id=structure.source_id, values=values)
    SourceSnapshot.objects.filter(structure=other).update(structure=survivor)


@transaction.atomic
def record_merge_choices(*, survivor, chosen, user):
    """After a merge: the person's value of each field they chose (`chosen`: the attributes,
    `KINDS` for the kinds, where the two records differed) is kept against every source
    whose record said otherwise, as a coordinator would decide an import conflict; the
    next import of that same value reports it kept, not a new conflict."""
    current = {name: jsonable(getattr(survivor, name)) for name in chosen if name != KINDS}
    current[KINDS] = sorted(survivor.kinds.values_list("slug", flat=True))
    now = timezone.now()
    for snapshot in SourceSnapshot.objects.filter(structure=survivor):
        for name in chosen:
            if name not in snapshot.values or same_value(snapshot.values[name], current[name]):
                continue
            pending = ImportConflict.objects.filter(
                structure=survivor,
                field=name,
                source=snapshot.source,
                state=ImportConflict.State.PENDING,
            )
            if pending.exists():
                continue  # a file's value nobody has seen on the merge screen: still to decide
            ImportConflict.objects.create(
                structure=survivor,
                field=name,
                source=snapshot.source,
                source_value=snapshot.values[name],
                kept_value=current[name],
                changed_by=user,
                changed_at=now,
                state=ImportConflict.State.KEPT,
                decided_by=user,
                decided_at=now,
            )


def same_value(value, other):
    """Equal, an empty text, list and None being the same nothing."""
    empty = (None, "", [])
    return value == other or (value in empty and other in empty)
