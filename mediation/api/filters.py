"""Filters of the structures list (django-filter), with French parameter names.

Several values of one parameter (`service=A&service=B`) mean "any of them".
Every parameter is checked before any query runs: a malformed, empty,
out-of-range, repeated (when single) or unknown parameter is answered with 400
and a French message per parameter, `{"parameter": ["message"]}`; only `q` may
be empty (no text searched). Text is bounded, so no anonymous request can cost
more than a bounded amount of database work.
"""

import copy
import re
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.fields import MultipleChoiceField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from mediation import choices, standard
from mediation.fields import SEARCH_MAX_CHARS, SearchTextField
from mediation.models import ServiceType, Structure
from territories.models import Commune

DEFAULT_RADIUS_KM = 10
MIN_RADIUS_KM = Decimal("0.1")  # a Decimal: the float 0.1 is a little more than 0.1
MAX_RADIUS_KM = 200
NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
MAX_VALUE_LENGTH = 100  # any single-valued parameter but q: a code, a point, a date…
EARLIEST_YEAR, LATEST_YEAR = 1970, 2099  # updated_since: any real date fits, none overflows
ECHO_LENGTH = 40  # how much of a refused value the message repeats


def _echo(value):
    """A refused value, shortened, for a message. Messages go through `message % params`
    (django-filter's translate_validation), so a "%" typed by the client is doubled."""
    value = str(value)
    value = value if len(value) <= ECHO_LENGTH else value[:ECHO_LENGTH] + "…"
    return value.replace("%", "%%")


class BoundedCharField(forms.CharField):
    """A single value of at most MAX_VALUE_LENGTH characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_VALUE_LENGTH)
        super().__init__(**kwargs)


class PointField(BoundedCharField):
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


class BBoxField(BoundedCharField):
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


class SinceField(BoundedCharField):
    """A date ("2024-01-31") or a date and time ("2024-01-31T08:00:00+01:00"),
    between 1970 and 2100: outside, converting it to UTC could overflow."""

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
            moment = timezone.datetime.combine(day, timezone.datetime.min.time())
        if moment is None:
            raise forms.ValidationError(
                "Indiquez une date (2024-01-31) ou une date et une heure (2024-01-31T08:00:00Z)."
            )
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise forms.ValidationError(
                f"Indiquez une date entre {EARLIEST_YEAR} et {LATEST_YEAR}."
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class ClosedListField(MultipleChoiceField):
    """Values taken from a closed list; the message of a wrong one lists the right ones.
    Repeated values count once, so no request multiplies the conditions."""

    def clean(self, value):
        return list(dict.fromkeys(super().clean(value)))

    def validate(self, value):
        for item in value:
            if not self.valid_value(item):
                accepted = " ; ".join(str(key) for key, _label in self.choices)
                wrong = f"« {_echo(item)} »" if item.strip() else "La valeur vide"
                raise forms.ValidationError(
                    f"{wrong} n’est pas une valeur acceptée. Valeurs acceptées : {accepted}.",
                    code="invalid_choice",
                )


class StrictBooleanField(forms.Field):
    """true/false (or 1/0): anything else is an error, never a silent « ignored »."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(
                f"« {_echo(value)} » n’est pas accepté : indiquez true ou false.", code="invalid"
            ) from None


ORDERINGS = {
    "nom": "name",
    "modifie_le": "updated_at",
    "commune": "city",
    "code_postal": "postal_code",
}


class OrderingField(BoundedCharField):
    """ "nom,-modifie_le" → ["name", "-updated_at"]; every key known, none empty, none twice."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return []
        accepted = ", ".join(ORDERINGS)
        keys, seen = [], set()
        for key in value.split(","):
            name = key.strip().removeprefix("-")
            if not name:
                raise forms.ValidationError(
                    f"Clé de tri vide dans « {_echo(value)} » : séparez par une virgule "
                    f"des clés parmi {accepted} (préfixe « - » : ordre inverse)."
                )
            if name not in ORDERINGS:
                raise forms.ValidationError(
                    f"« {_echo(name)} » n’est pas une clé de tri. Clés acceptées : {accepted} "
                    "(préfixe « - » : ordre inverse)."
                )
            if name in seen:
                raise forms.ValidationError(f"La clé de tri « {name} » est donnée deux fois.")
            seen.add(name)
            keys.append(("-" if key.strip().startswith("-") else "") + ORDERINGS[name])
        return keys


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


class ClosedListFilter(django_filters.MultipleChoiceFilter):
    field_class = ClosedListField


@extend_schema_field(OpenApiTypes.STR)
class KindFilter(ClosedListFilter):
    """Kinds come from the database: their slugs are listed by /api/v1/types/."""


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


@extend_schema_field(OpenApiTypes.STR)
class BoundedCharFilter(django_filters.CharFilter):
    field_class = BoundedCharField


@extend_schema_field(OpenApiTypes.STR)
class StableOrderingFilter(django_filters.Filter):
    """`ordering`; the primary key always ends the order, so pages never overlap."""

    field_class = OrderingField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.order_by(*value, "pk")


class _ShallowCopied(dict):
    """A FilterSet's `base_filters`, which django-filter deep-copies for every request:
    a shallow copy of each filter is enough (the FilterSet then sets the copy's
    `model` and `parent`, its only state, and its method is bound to it here),
    where the deep copy took a millisecond."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            copies[name] = copy.copy(filter_)
            copies[name].method = filter_.method  # bound to the copy, not to this filter
        return copies


class _ShallowCopiedFields(dict):
    """A form's `base_fields`, which Django deep-copies for every form (widgets,
    choices, messages): the API's forms only validate, never change a field or
    render one, so a shallow copy of each is enough (a millisecond a request)."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(field) for name, field in self.items()}


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses what it would otherwise ignore: unknown parameters
    (a partner would believe they filtered), empty values, a single-valued
    parameter given twice. `extra_parameters` are the view's own (page…).

    Its form class is built once: django-filter builds one (its fields, their
    labels from the model's metadata) for every request."""

    extra_parameters = ("format",)
    may_be_empty = ("q",)
    _form_classes = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._form_classes = {}

    def get_form_class(self):
        form_class = self._form_classes.get(type(self))
        if form_class is None:
            form_class = self._form_classes[type(self)] = super().get_form_class()
            form_class.base_fields = _ShallowCopiedFields(form_class.base_fields)
        return form_class

    def is_valid(self):
        valid = super().is_valid()
        errors = self.parameter_errors()
        for name, message in errors.items():
            self.form.errors[name] = self.form.error_class([message])
        return valid and not errors

    def parameter_errors(self):
        multiple = [
            name
            for name, filter_ in self.filters.items()
            if isinstance(filter_, django_filters.MultipleChoiceFilter)
        ]
        hints = {name: filter_.extra.get("help_text", "") for name, filter_ in self.filters.items()}
        return parameter_errors(
            self.data,
            accepted=(*self.filters, *self.extra_parameters),
            multiple=multiple,
            may_be_empty=self.may_be_empty,
            hints=hints,
        )


def parameter_errors(data, *, accepted, multiple=(), may_be_empty=(), hints=None):
    """{parameter: message} for what a request must not carry: a parameter not in
    `accepted` (or "format"), an empty value (unless `may_be_empty`), a parameter
    given twice (unless `multiple`)."""
    accepted = [*accepted, *(["format"] if "format" not in accepted else [])]
    hints = hints or {}
    errors = {}
    for name in data:
        values = data.getlist(name)
        if name not in accepted:
            errors[name] = (
                f"Paramètre inconnu « {_echo(name)} ». Paramètres acceptés : {', '.join(accepted)}."
            )
        elif name not in may_be_empty and any(not value.strip() for value in values):
            hint = hints.get(name, "")
            errors[name] = (
                f"Valeur vide pour « {name} » : indiquez une valeur ou retirez le paramètre."
                + (f" Attendu : {hint}" if hint else "")
            )
        elif len(values) > 1 and name not in multiple:
            errors[name] = f"« {name} » ne peut être donné qu’une fois."
    return errors


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, telling the FilterSet the view's own parameters."""

    def valid_filterset(self, request, queryset, view):
        """The view's FilterSet over `queryset`, checked (400 with French messages)."""
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            paginator = getattr(view, "paginator", None)
            own = (paginator.page_query_param, paginator.page_size_query_param) if paginator else ()
            filterset.extra_parameters = (*own, "format")
        return filterset


KIND_CHOICES_KEY = "mediation:api:kind-choices"
KIND_CHOICES_TTL = 60  # seconds: the 7 kinds hardly ever change; not one query a request


def _kind_choices():
    return list(ServiceType.objects.values_list("slug", "name"))


class StructureFilter(StrictFilterSet):
    type = KindFilter(
        choices=lambda: cache.get_or_set(KIND_CHOICES_KEY, _kind_choices, KIND_CHOICES_TTL),
        method="filter_type",
        help_text="Type de lieu (identifiant de /api/v1/types/), par exemple mediatheque.",
    )
    service = ClosedListFilter(
        choices=choices.Service.choices,
        method="filter_service",
        help_text="Service proposé (valeur exacte du standard).",
    )
    public = ClosedListFilter(
        choices=choices.Public.choices,
        method="filter_public",
        help_text="Public spécifiquement adressé (valeur du standard).",
    )
    prise_en_charge = ClosedListFilter(
        choices=choices.PriseEnCharge.choices,
        method="filter_support",
        help_text="Prise en charge spécifique (valeur du standard).",
    )
    frais = ClosedListFilter(
        choices=choices.Frais.choices,
        method="filter_fees",
        help_text="Frais à charge (valeur du standard).",
    )
    gratuit = StrictBooleanFilter(
        method="filter_gratuit", help_text="true : lieux gratuits ; false : les autres."
    )
    accessible = StrictBooleanFilter(
        method="filter_accessible",
        help_text="true : accessibles en fauteuil roulant ; false : déclarés non accessibles.",
    )
    bassin = BoundedCharFilter(
        method="filter_bassin", help_text="Bassin de vie (identifiant de /bassins/)."
    )
    departement = BoundedCharFilter(
        field_name="commune__department_id", help_text="Code du département, par exemple 37."
    )
    commune = BoundedCharFilter(
        field_name="commune_id", help_text="Code INSEE de la commune, par exemple 37261."
    )
    q = SearchTextFilter(
        method="filter_q",
        help_text="Mots cherchés dans le nom, l’adresse, la commune, la présentation courte, "
        "accents et majuscules indifférents (200 caractères et 20 mots au plus).",
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
        return queryset.matching(value)

    def filter_bassin(self, queryset, name, value):
        return queryset.in_bassin(value)

    def filter_bbox(self, queryset, name, value):
        return queryset.in_bbox(*value)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=value)

    def filter_queryset(self, queryset):
        queryset = self.filter_except_point(queryset)
        if self.point:
            lat, lon, radius_km = self.point
            queryset = queryset.near(lat, lon, radius_km=radius_km)
        return queryset

    def filter_except_point(self, queryset, data=None):
        """`queryset` filtered by every parameter but `near` and `radius` (the list
        reads its page near the point from `StructureQuerySet.located_near()`).

        `data`: other values for the form's parameters (`mediation/api/compiled.py`
        compiles the filters with stand-ins), applied as django-filter does."""
        if data is None:
            return super().filter_queryset(queryset)
        for name, value in data.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def point(self):
        """(lat, lon, radius_km) of `near` and `radius`, or None without `near`."""
        point = self.form.cleaned_data.get("near")
        if not point:
            return None
        radius = self.form.cleaned_data.get("radius") or DEFAULT_RADIUS_KM
        return point[0], point[1], float(radius)

    @property
    def has_point(self):
        return self.point is not None


class CommuneFilter(StrictFilterSet):
    q = SearchTextFilter(
        method="filter_q",
        help_text="Début du nom ou code postal, par exemple « tours » ou 37000 "
        "(200 caractères au plus).",
    )
    departement = BoundedCharFilter(field_name="department_id", help_text="Code du département.")
    bassin = BoundedCharFilter(field_name="bassin__slug", help_text="Bassin de vie.")
    distance_min = django_filters.NumberFilter(
        method="filter_distance_min",
        min_value=0,
        max_value=1000,
        help_text="Communes à plus de N km (à vol d’oiseau) du lieu publié le plus proche, "
        "par exemple 20 : les « zones blanches ».",
    )
    distance_max = django_filters.NumberFilter(
        field_name="coverage__nearest_km",
        lookup_expr="lte",
        min_value=0,
        max_value=1000,
        help_text="Communes à N km au plus du lieu publié le plus proche.",
    )

    class Meta:
        model = Commune
        fields = []

    def filter_distance_min(self, queryset, name, value):
        # A commune with no place at all is the farthest of all.
        return queryset.filter(
            Q(coverage__nearest_km__gt=value)
            | Q(coverage__isnull=False, coverage__nearest_km__isnull=True)
        )

    def filter_q(self, queryset, name, value):
        return queryset.filter(pk__in=Commune.objects.matching(value).values("pk"))


# --- The parameters in the OpenAPI schema ----------------------------------------
# drf-spectacular drops a filter's help_text once its type is overridden, and
# cannot know the bounds checked above: each filter gets its whole schema here.

POINT_PATTERN = r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$"
BBOX_PATTERN = r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$"
ORDERING_KEY = f"-?({'|'.join(ORDERINGS)})"


def _schema_of(filter_):
    """The JSON schema of one filter's value, with the bounds its field checks."""
    if isinstance(filter_, StrictBooleanFilter):
        return {"type": "boolean"}
    if isinstance(filter_, ClosedListFilter):
        choices_ = filter_.extra.get("choices")
        item = {"type": "string"}
        if isinstance(choices_, list | tuple):
            item["enum"] = [value for value, _label in choices_]
        return item  # spectacular wraps it in an array (several values: "any of")
    if isinstance(filter_, django_filters.NumberFilter):
        return {
            "type": "number",
            "minimum": float(filter_.extra["min_value"]),
            "maximum": float(filter_.extra["max_value"]),
        }
    if isinstance(filter_, SearchTextFilter):
        return {"type": "string", "maxLength": SEARCH_MAX_CHARS}
    if isinstance(filter_, PointFilter):
        return {"type": "string", "pattern": POINT_PATTERN, "example": "47.39,0.69"}
    if isinstance(filter_, BBoxFilter):
        return {"type": "string", "pattern": BBOX_PATTERN, "example": "0.6,47.3,0.8,47.5"}
    if isinstance(filter_, SinceFilter):
        return {"type": "string", "maxLength": MAX_VALUE_LENGTH, "example": "2024-01-31"}
    if isinstance(filter_, StableOrderingFilter):
        return {
            "type": "string",
            "pattern": f"^{ORDERING_KEY}(,{ORDERING_KEY})*$",
            "example": "-modifie_le,nom",
        }
    return {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH}


def _describe(filterset_class):
    for filter_ in filterset_class.base_filters.values():
        schema = _schema_of(filter_)
        schema["description"] = filter_.extra.get("help_text", "")
        set_override(filter_, "field", schema)
    filterset_class.base_filters = _ShallowCopied(filterset_class.base_filters)


_describe(StructureFilter)
_describe(CommuneFilter)


class StandardExportFilter(StructureFilter):
    """The export's filters (those of /structures/), and which columns it writes."""

    STANDARD, REGIONAL = "standard", "regionales"
    colonnes = django_filters.ChoiceFilter(
        choices=[
            (STANDARD, "les 32 colonnes du standard, strictement à son schéma"),
            (REGIONAL, "les 32 colonnes du standard, puis celles de l’annuaire"),
        ],
        method="keep_all",
        help_text="Colonnes écrites : standard (par défaut, le fichier valide au schéma "
        "national) ou regionales (ajoute après les 32 colonnes celles de l’annuaire : "
        + ", ".join(standard.REGIONAL_NAMES)
        + ").",
    )

    def keep_all(self, queryset, name, value):
        return queryset  # which columns, not which places: read by the view

    @property
    def regional(self):
        return self.form.cleaned_data.get("colonnes") == self.REGIONAL
