"""What merging two records of the same place leaves behind.

- a `Merge`: the archived record, the one it was merged into, who decided and
  which side each field came from; its old address redirects (301) to the
  survivor's page;
- a `SourceIdentifier`: another source's identifier of a place, so that a
  later import of either source updates the survivor instead of recreating
  the double (`importers.batch.ImportBatch.find_existing` consults them);
- a `DistinctPair`: two places a person said are not duplicates (two services
  sharing a building): `duplicates.probable_duplicates()` stops listing them.

The merge itself is `duplicates.merge()`; who may merge is in `permissions`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Merge(models.Model):
    """A structure merged into another, archived, its address redirecting to the survivor."""

    survivor = models.ForeignKey(
        "mediation.Structure",
        verbose_name="fiche conservée",
        on_delete=models.CASCADE,
        related_name="merges_received",
    )
    merged = models.OneToOneField(
        "mediation.Structure",
        verbose_name="fiche fusionnée",
        on_delete=models.CASCADE,
        related_name="merged_into",
    )
    merged_slug = models.SlugField("ancienne adresse", max_length=120, unique=True)
    picks = models.JSONField(
        "origine de chaque champ",
        default=dict,
        help_text="Pour chaque groupe de champs : « keep » (fiche conservée), « other », « both ».",
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="fusionnée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    merged_at = models.DateTimeField("fusionnée le", default=timezone.now)

    class Meta:
        verbose_name = "fusion de doublons"
        verbose_name_plural = "fusions de doublons"
        ordering = ["-merged_at"]

    def __str__(self):
        return f"{self.merged_slug} → {self.survivor}"


class SourceIdentifier(models.Model):
    """An identifier of the place in a source, besides the structure's own (`source`, `source_id`)."""

    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="other_source_ids",
    )
    source = models.CharField("source", max_length=100)
    source_id = models.CharField("identifiant dans la source", max_length=100)

    class Meta:
        verbose_name = "autre identifiant de source"
        verbose_name_plural = "autres identifiants de source"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"], name="unique_other_source_identifier"
            )
        ]

    def __str__(self):
        return f"{self.source} : {self.source_id}"


class DistinctPair(models.Model):
    """Two places a person said are distinct ("pas un doublon"); `first` has the smaller id."""

    first = models.ForeignKey(
        "mediation.Structure", on_delete=models.CASCADE, related_name="+", verbose_name="lieu"
    )
    second = models.ForeignKey(
        "mediation.Structure", on_delete=models.CASCADE, related_name="+", verbose_name="autre lieu"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("décidé le", default=timezone.now)

    class Meta:
        verbose_name = "paire qui n’est pas un doublon"
        verbose_name_plural = "paires qui ne sont pas des doublons"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="unique_distinct_pair"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="distinct_pair_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.first} ≠ {self.second}"
