"""Filters of the structures list (django-filter), with French parameter names.

Several values of one parameter (`service=A&service=B`) mean "any of them".
A malformed value is answered with 400 and a message per parameter.
"""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from mediation import choices
from mediation.fields import SearchTextField
from mediation.models import ServiceType, Structure
from territories.models import Commune

DEFAULT_RADIUS_KM = 10
MIN_RADIUS_KM = Decimal("0.1")  # a Decimal: the float 0.1 is a little more than 0.1
MAX_RADIUS_KM = 200
NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"


class PointField(forms.CharField):
    """ "47.39,0.69" → (47.39, 0.69)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = re.fullmatch(f"{NUMBER},{NUMBER}", value)
        if not match:
            raise forms.ValidationError(
                "Indiquez « latitude,longitude » en degrés décimaux, par exemple 47.39,0.69."
            )
        lat, lon = float(match[1]), float(match[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise forms.ValidationError("Latitude entre -90 et 90, longitude entre -180 et 180.")
        return lat, lon


class BBoxField(forms.CharField):
    """ "min_lon,min_lat,max_lon,max_lat" (the GeoJSON order) → a 4-tuple."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = re.fullmatch(",".join([NUMBER] * 4), value)
        if not match:
            raise forms.ValidationError(
                "Indiquez « lon_min,lat_min,lon_max,lat_max », par exemple 0.6,47.3,0.8,47.5."
            )
        west, south, east, north = (float(match[i]) for i in range(1, 5))
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise forms.ValidationError(
                "Le rectangle doit aller du sud-ouest au nord-est, en degrés valides."
            )
        return west, south, east, north


class SinceField(forms.CharField):
    """A date ("2024-01-31") or a date and time ("2024-01-31T08:00:00+01:00")."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            moment = parse_datetime(value)
            day = None if moment else parse_date(value)
        except ValueError:
            moment = day = None
        if day is not None:
            moment = timezone.make_aware(
                timezone.datetime.combine(day, timezone.datetime.min.time())
            )
        if moment is None:
            raise forms.ValidationError(
                "Indiquez une date (2024-01-31) ou une date et une heure (2024-01-31T08:00:00Z)."
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


@extend_schema_field(OpenApiTypes.STR)
class PointFilter(django_filters.Filter):
    field_class = PointField


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(django_filters.Filter):
    field_class = BBoxField


@extend_schema_field(OpenApiTypes.STR)
class SinceFilter(django_filters.Filter):
    field_class = SinceField


@extend_schema_field(OpenApiTypes.STR)
class SearchTextFilter(django_filters.CharFilter):
    field_class = SearchTextField


@extend_schema_field(OpenApiTypes.STR)
class KindFilter(django_filters.MultipleChoiceFilter):
    """Kinds come from the database: their slugs are listed by /api/v1/types/."""


class StableOrderingFilter(django_filters.OrderingFilter):
    """`ordering`; the primary key always ends the order, so pages never overlap."""

    def filter(self, qs, value):
        if not value:
            return qs
        fields = [self.get_ordering_value(param) for param in value]
        return qs.order_by(*fields, "pk")


KIND_CHOICES_KEY = "mediation:api:kind-choices"
KIND_CHOICES_TTL = 60  # seconds: the 7 kinds hardly ever change; not one query a request


def _kind_choices():
    return list(ServiceType.objects.values_list("slug", "name"))


class StructureFilter(django_filters.FilterSet):
    type = KindFilter(
        choices=lambda: cache.get_or_set(KIND_CHOICES_KEY, _kind_choices, KIND_CHOICES_TTL),
        method="filter_type",
        help_text="Type de lieu (identifiant de /api/v1/types/), par exemple mediatheque.",
    )
    service = django_filters.MultipleChoiceFilter(
        choices=choices.Service.choices,
        method="filter_service",
        help_text="Service proposé (valeur exacte du standard).",
    )
    public = django_filters.MultipleChoiceFilter(
        choices=choices.Public.choices,
        method="filter_public",
        help_text="Public spécifiquement adressé (valeur du standard).",
    )
    prise_en_charge = django_filters.MultipleChoiceFilter(
        choices=choices.PriseEnCharge.choices,
        method="filter_support",
        help_text="Prise en charge spécifique (valeur du standard).",
    )
    frais = django_filters.MultipleChoiceFilter(
        choices=choices.Frais.choices,
        method="filter_fees",
        help_text="Frais à charge (valeur du standard).",
    )
    gratuit = django_filters.BooleanFilter(
        method="filter_gratuit", help_text="true : lieux gratuits ; false : les autres."
    )
    accessible = django_filters.BooleanFilter(
        method="filter_accessible",
        help_text="true : accessibles en fauteuil roulant ; false : déclarés non accessibles.",
    )
    bassin = django_filters.CharFilter(
        field_name="commune__bassin__slug", help_text="Bassin de vie (identifiant de /bassins/)."
    )
    departement = django_filters.CharFilter(
        field_name="commune__department_id", help_text="Code du département, par exemple 37."
    )
    commune = django_filters.CharFilter(
        field_name="commune_id", help_text="Code INSEE de la commune, par exemple 37261."
    )
    q = SearchTextFilter(
        method="filter_q",
        help_text="Texte cherché dans le nom, l’adresse, la commune, la présentation "
        "(200 caractères et 20 mots au plus).",
    )
    near = PointFilter(
        method="filter_noop",
        help_text="Point « latitude,longitude » : lieux les plus proches d’abord, avec distance_km.",
    )
    radius = django_filters.NumberFilter(
        method="filter_noop",
        min_value=MIN_RADIUS_KM,
        max_value=MAX_RADIUS_KM,
        help_text=f"Rayon autour de near, en km ({DEFAULT_RADIUS_KM} par défaut, {MAX_RADIUS_KM} au plus).",
    )
    bbox = BBoxFilter(
        method="filter_bbox",
        help_text="Rectangle « lon_min,lat_min,lon_max,lat_max » (ordre GeoJSON).",
    )
    updated_since = SinceFilter(
        method="filter_updated_since",
        help_text="Lieux modifiés depuis cette date (ou date et heure ISO 8601).",
    )
    ordering = StableOrderingFilter(
        fields=(
            ("name", "nom"),
            ("updated_at", "modifie_le"),
            ("city", "commune"),
            ("postal_code", "code_postal"),
        ),
        help_text="Tri : nom, modifie_le, commune, code_postal (préfixe « - » : ordre inverse). "
        "Avec near, le tri par distance s’applique.",
    )

    class Meta:
        model = Structure
        fields = []

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in filter_queryset()

    def filter_type(self, queryset, name, values):
        return queryset.of_kinds(values)

    def filter_service(self, queryset, name, values):
        return queryset.offering(values)

    def filter_public(self, queryset, name, values):
        return queryset.for_publics(values)

    def filter_support(self, queryset, name, values):
        return queryset.with_support(values)

    def filter_fees(self, queryset, name, values):
        return queryset.with_fees(values)

    def filter_accessible(self, queryset, name, value):
        return queryset if value is None else queryset.wheelchair_accessible(value)

    def filter_gratuit(self, queryset, name, value):
        return queryset if value is None else queryset.free(value)

    def filter_q(self, queryset, name, value):
        query = Q()
        for word in value.split():
            query &= (
                Q(name__icontains=word)
                | Q(address__icontains=word)
                | Q(city__icontains=word)
                | Q(postal_code__startswith=word)
                | Q(summary__icontains=word)
                | Q(commune__name__icontains=word)
            )
        return queryset.filter(query)

    def filter_bbox(self, queryset, name, value):
        return queryset.in_bbox(*value)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        point = self.form.cleaned_data.get("near")
        if point:
            radius = self.form.cleaned_data.get("radius") or DEFAULT_RADIUS_KM
            queryset = queryset.near(point[0], point[1], radius_km=float(radius))
        return queryset

    @property
    def has_point(self):
        return bool(self.form.cleaned_data.get("near"))


class CommuneFilter(django_filters.FilterSet):
    q = SearchTextFilter(
        method="filter_q",
        help_text="Début du nom ou code postal, par exemple « tours » ou 37000 "
        "(200 caractères au plus).",
    )
    departement = django_filters.CharFilter(
        field_name="department_id", help_text="Code du département."
    )
    bassin = django_filters.CharFilter(field_name="bassin__slug", help_text="Bassin de vie.")

    class Meta:
        model = Commune
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(pk__in=Commune.objects.matching(value).values("pk"))
