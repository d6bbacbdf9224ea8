"""What each source last said about a place, and where it disagrees with people.

A re-import never overwrites a person's work silently. For each imported
place, `SourceSnapshot` keeps the values its source brought last time. On the
next import, a field whose current value differs from that snapshot was
changed by a person since: their value is kept, and when the file says
something else an `ImportConflict` waits for a coordinator to choose (the
report says "gardée : modifiée par … le …"). `import_structures --overwrite`
is for an administrator who means to replace people's values.

Places imported before snapshots existed get one from their last import in the
history (what the import wrote then was the source's value).
"""

from itertools import pairwise

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

# History entries written by an import carry a change reason starting with this.
IMPORT_CHANGE_REASON = "Import"
KINDS = "kinds"  # the kinds, in snapshots and conflicts, as sorted slugs


class SourceSnapshot(models.Model):
    """The values (model attribute → value) a place's source brought at its last import."""

    structure = models.OneToOneField(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="source_snapshot",
    )
    values = models.JSONField("valeurs de la source", default=dict, encoder=DjangoJSONEncoder)
    imported_at = models.DateTimeField("dernier import", auto_now=True)

    class Meta:
        verbose_name = "valeurs de la source"
        verbose_name_plural = "valeurs des sources"

    def __str__(self):
        return f"Source de {self.structure}"


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
            models.UniqueConstraint(
                fields=["structure", "field"],
                condition=models.Q(state="pending"),
                name="one_pending_conflict_per_field",
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


def snapshot_of(structure):
    """{attribute: value} the source brought last, or None (never imported)."""
    snapshot = SourceSnapshot.objects.filter(structure=structure).first()
    if snapshot is not None:
        return snapshot.values
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
