"""What the API shows of a structure, a kind, a bassin, a commune.

Public names are the national standard's (`nom`, `adresse`, `code_insee`,
`horaires`, `services`…), plus the region's own (`types`, `bassin_de_vie`,
`departement`). Lists are JSON arrays here; the standard's "|"-joined form is
in the CSV/JSON export.

Two paths give the same structure representation: `StructureSerializer`
(detail, and the OpenAPI schema) and `structure_rows()`, the list's fast path
(`values()` + one query for the kinds, no model instances), measured by
benchmarks/api_speed.py. Both take their fields from `mediation.standard`.
Nothing here reads a user account: only fields listed below are output.
"""

from django.db import connections
from django.db.models import BooleanField, F, Func, IntegerField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mediation import exporters, standard, statements
from mediation.models import (
    ServiceType,
    Stop,
    Structure,
    counted_page,
    deduced_sources,
    information_date,
)
from territories.models import POPULATION_YEAR, BassinDeVie, Commune

# Computed by both paths below rather than read from one attribute.
COMPUTED = {"commune", "date_maj"}
_MODEL_ORDER = {field.name: index for index, field in enumerate(Structure._meta.concrete_fields)}
# The columns of `mediation.standard` (the standard's, then the directory's own)
# that are read as they are stored, in the model's field order.
COLUMNS = sorted(
    (
        column
        for column in (*standard.COLUMNS, *standard.REGIONAL_COLUMNS)
        if column.attribute and column.name not in COMPUTED
    ),
    key=lambda column: _MODEL_ORDER[column.attribute],
)
# Public name → model attribute (for the fast path's values() and the write API).
STRUCTURE_FIELDS = {column.name: column.attribute for column in COLUMNS}
LIST_FIELDS = {column.name for column in COLUMNS if column.multiple}
DATETIME_FIELDS = {
    column.name for column in COLUMNS if column.field.get_internal_type() == "DateTimeField"
}
# Computed or joined fields, in the output order after `nom`.
EXTRA_VALUES = (
    "pk",
    "slug",
    "city",
    "verified_at",
    "information_updated_at",
    "created_at",
    "commune__name",
    "commune__department_id",
    "commune__bassin__slug",
    "deduced",
)
# Standard fields that may hold values an import deduced (see `Structure.deduced`).
DEDUCIBLE = {
    public: attribute
    for public, attribute in STRUCTURE_FIELDS.items()
    if attribute in Structure.DEDUCIBLE_FIELDS
}


def split_deduced(row, deduced):
    """Leave in `row`'s standard fields only what a source said or a person confirmed,
    and list the deduced values, with their provenance, in `valeurs_deduites`."""
    found = {}
    if not deduced:  # most places: nothing deduced
        row["valeurs_deduites"] = found
        return row
    for public, attribute in DEDUCIBLE.items():
        sources = deduced_sources(deduced, attribute, row[public])
        if sources:
            row[public] = [value for value in row[public] if value not in sources]
            found[public] = [{"valeur": v, "deduit_de": why} for v, why in sources.items()]
    row["valeurs_deduites"] = found
    return row


def structure_queryset(queryset):
    """`queryset` as both paths need it."""
    return exporters.export_queryset(queryset).order_by()


def structure_values(queryset, *, distance=False):
    """A values() queryset of what `structure_rows()` needs (ordering kept)."""
    columns = list(dict.fromkeys([*STRUCTURE_FIELDS.values(), *EXTRA_VALUES]))
    if distance:
        columns.append("distance_km")
    return queryset.values(*columns)


class _InPage(Func):
    """The condition "the row's key is one of the page's": the keys of `page`, the
    statement's WITH (see `_PageRowsStatement`)."""

    output_field = BooleanField()

    def __init__(self):
        super().__init__(F("pk"))

    def as_sql(self, compiler, connection, **extra_context):
        pk, params = compiler.compile(self.source_expressions[0])
        return f"{pk} IN (SELECT place FROM page)", params


class _PageRowsStatement:
    """A page of the list and its places' rows in one statement: `page`, the list's
    own statement (its keys in its order, each with the list's total), cut to the
    page, then the rows of its places with their kinds, one line per place and
    kind, in the list's order.

    Near a point, the list ranks its places (place, rank, total): the rows are
    joined to the page, in the rank's order. Otherwise (`order`, the list's
    ORDER BY: field names ending with the key), the page is (place, total) and
    the rows come in that same order, the ORM's: ranking every row of the list
    by a window would sort them all, where its LIMIT sorts only the page's.

    The rows' part is the ORM's query (some fifty columns, four joins), built and
    compiled once per database and order: building it took more Python time
    than reading its rows. One statement rather than the keys, then their rows:
    one round trip less, and no place deleted between the two."""

    def __init__(self, connection, order=None):
        queryset = structure_values(structure_queryset(Structure.objects.filter(_InPage())))
        queryset = queryset.annotate(kind=F("kinds__slug"))
        if order is None:
            queryset = queryset.annotate(kind_order=F("kinds__order"))
        else:
            queryset = queryset.annotate(
                total=RawSQL("(SELECT MAX(total) FROM page)", (), output_field=IntegerField())
            ).order_by(*order, "kinds__order", "kinds__slug")
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        shown, self.params = compiler.as_sql()
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.ranked = order is None
        columns, converters = statements.reader(compiler)
        if not self.ranked:
            # The total, selected last, is taken off the rows by `counted_page()`.
            columns, self.names = columns - 1, self.names[:-1]
            converters = [(at, found) for at, found in converters if at < columns]
        self.reading = columns, converters
        if self.ranked:
            self.columns = "place, rank, total"
            self.outer = (
                f"SELECT shown.*, page.rank, page.total FROM page "
                f"JOIN ({shown}) shown ON shown.pk = page.place "
                f"ORDER BY page.rank, page.place, shown.kind_order, shown.kind"
            )
        else:
            self.columns, self.outer = "place, total", shown

    def lines(self, connection, page, params, *, offset, limit):
        """([(row, kinds, rank)], total) of the page `offset`, `offset + limit` of the
        statement `page` (with `params`): each place's `structure_values()` row, its
        kind slugs in their order, its rank (None without one). A second statement,
        the count, only for a page past the end."""

        def around(paged, paged_params):
            return (
                f"WITH page ({self.columns}) AS ({paged}) {self.outer}",
                [*paged_params, *self.params],
            )

        fetched, total = counted_page(
            connection.alias, page, params, offset=offset, limit=limit, around=around
        )
        lines, by_pk = [], {}
        converted = statements.converted(fetched, self.reading, connection)
        for values, raw in zip(converted, fetched, strict=True):
            row = dict(zip(self.names, values, strict=True))
            kind = row.pop("kind")
            row.pop("kind_order", None)
            line = by_pk.get(row["pk"])
            if line is None:
                line = by_pk[row["pk"]] = (row, [], raw[-1] if self.ranked else None)
                lines.append(line)
            if kind is not None:
                line[1].append(kind)
        return lines, total


# Per database and order: the list's orders are a few (`ordering`'s choices).
_PAGE_ROWS_STATEMENTS = statements.Kept(64)


def page_rows(using, page, params, *, offset, limit, order=None):
    """([(row, kinds, rank)], total): the places of the page `offset` to `offset +
    limit` of the statement `page` (with `params`) with their rows, in one
    statement (see `_PageRowsStatement`): `page` gives (place, rank, total) in
    the rank's order, or, with `order` (its ORDER BY), (place, total)."""
    connection = connections[using]
    key = (connection.alias, order)
    statement = _PAGE_ROWS_STATEMENTS.get(key)
    if statement is statements.MISSING:
        statement = _PageRowsStatement(connection, order)
        _PAGE_ROWS_STATEMENTS.put(key, statement)
    return statement.lines(connection, page, params, offset=offset, limit=limit)


def kinds_by_structure(pks):
    """{structure pk: [kind slugs]} in one query."""
    kinds = {}
    through = Structure.kinds.through.objects.filter(structure_id__in=pks)
    for structure_id, slug in through.order_by(
        "servicetype__order", "servicetype__slug"
    ).values_list("structure_id", "servicetype__slug"):
        kinds.setdefault(structure_id, []).append(slug)
    return kinds


def page_url_prefix(request):
    """Absolute URL of a structure page without its slug ("https://…/lieux/")."""
    path = reverse("mediation:structure", args=["x"])[:-2]
    return request.build_absolute_uri(path) if request is not None else path


def structure_rows(values, request=None, kinds=None):
    """The API representation of each row of `structure_values()` (list of dicts).
    `kinds` ({pk: slugs}) is read from the database when not given."""
    values = list(values)
    if kinds is None:
        kinds = kinds_by_structure([v["pk"] for v in values])
    prefix = page_url_prefix(request)
    field_field = Structure._meta.get_field
    # (public name, attribute, the list's parser or None, whether a date and time),
    # and the time zone the dates are shown in, looked up once rather than per value.
    columns = [
        (
            public,
            attribute,
            field_field(attribute).to_python if public in LIST_FIELDS else None,
            public in DATETIME_FIELDS,
        )
        for public, attribute in STRUCTURE_FIELDS.items()
    ]
    shown_in = serializers.DateTimeField().default_timezone()
    to_datetime = serializers.DateTimeField(default_timezone=shown_in).to_representation
    rows = []
    for v in values:
        row = {}
        for public, attribute, to_list, is_datetime in columns:
            value = v[attribute]
            if to_list is not None:
                if not isinstance(value, list):
                    value = to_list(value)
            elif is_datetime and value is not None:
                value = to_datetime(value)
            row[public] = value
        row["commune"] = v["commune__name"] or v["city"]
        row["departement"] = v["commune__department_id"]
        row["bassin_de_vie"] = v["commune__bassin__slug"]
        row["types"] = kinds.get(v["pk"], [])
        row["url"] = f"{prefix}{v['slug']}/"
        row["date_maj"] = _date_maj(v, shown_in)
        split_deduced(row, v["deduced"])
        if "distance_km" in v:
            row["distance_km"] = round(v["distance_km"], 3)
        rows.append(exporters.add_kind_codes(row))
    return rows


class _DateMajSource:
    __slots__ = ("created_at", "date_maj")

    def __init__(self, values, zone):
        self.created_at = values["created_at"]
        self.date_maj = information_date(
            values["information_updated_at"], values["verified_at"], zone=zone
        )


def _date_maj(values, zone):
    return exporters.date_maj(_DateMajSource(values, zone), zone=zone)


class StopSerializer(serializers.ModelSerializer):
    lieu = serializers.CharField(source="place")
    adresse = serializers.CharField(source="address")
    commune = serializers.CharField(source="commune.name")
    code_insee = serializers.CharField(source="commune_id")
    horaires = serializers.CharField(source="opening_hours")
    precisions = serializers.CharField(source="note")

    class Meta:
        model = Stop
        fields = [
            "lieu",
            "adresse",
            "commune",
            "code_insee",
            "latitude",
            "longitude",
            "horaires",
            "precisions",
        ]


def _read_field(column):
    """The read-only field of one column of `mediation.standard`, typed by the model."""
    options = {"help_text": column.help} if column.help else {}
    if column.attribute != column.name:
        options["source"] = column.attribute
    if column.multiple:
        return serializers.ListField(child=serializers.CharField(), **options)
    field_class = {
        "FloatField": serializers.FloatField,
        "BooleanField": serializers.BooleanField,
        "DateTimeField": serializers.DateTimeField,
    }.get(column.field.get_internal_type(), serializers.CharField)
    if column.field.null:
        options["allow_null"] = True
    return field_class(**options)


class StructureSerializer(serializers.Serializer):
    """A place of digital mediation, with the standard's field names."""

    # (Not in the docstring, which is the OpenAPI description.) The stored
    # columns come from `mediation.standard`; the computed ones declared below
    # follow them.
    def get_fields(self):
        return {column.name: _read_field(column) for column in COLUMNS} | super().get_fields()

    commune = serializers.SerializerMethodField()
    departement = serializers.CharField(
        source="commune.department_id", allow_null=True, default=None
    )
    bassin_de_vie = serializers.CharField(
        source="commune.bassin.slug", allow_null=True, default=None
    )
    types = serializers.SerializerMethodField(help_text="Types de lieu (identifiants de /types/).")
    url = serializers.SerializerMethodField(help_text="Page du lieu sur le site.")
    date_maj = serializers.SerializerMethodField(help_text="Date de mise à jour de l’information.")
    valeurs_deduites = serializers.SerializerMethodField(
        help_text="Valeurs déduites par l’import (du type de lieu, d’un texte), pas encore "
        "confirmées : absentes des champs du standard ci-dessus, mais prises en compte par "
        "les filtres. Champ du standard → liste de {valeur, deduit_de}."
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_valeurs_deduites(self, obj):
        return {}  # filled by to_representation(), with the standard fields

    def to_representation(self, instance):
        row = split_deduced(super().to_representation(instance), instance.deduced)
        return exporters.add_kind_codes(row)

    @extend_schema_field(OpenApiTypes.STR)
    def get_commune(self, obj):
        return obj.commune.name if obj.commune_id else obj.city

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_types(self, obj):
        return [kind.slug for kind in sorted(obj.kinds.all(), key=lambda k: (k.order, k.slug))]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj):
        return page_url_prefix(self.context.get("request")) + f"{obj.slug}/"

    @extend_schema_field(OpenApiTypes.DATE)
    def get_date_maj(self, obj):
        return exporters.date_maj(obj)


class StructureListItemSerializer(StructureSerializer):
    """A structure in a list; `distance_km` only with `near`."""

    distance_km = serializers.FloatField(
        required=False, help_text="Distance au point `near`, en km (seulement avec `near`)."
    )


class StructureDetailSerializer(StructureSerializer):
    etapes = StopSerializer(source="stops", many=True, help_text="Étapes d’un service itinérant.")


class ServiceTypeSerializer(serializers.ModelSerializer):
    id = serializers.SlugField(source="slug")
    nom = serializers.CharField(source="name")
    nom_court = serializers.CharField(source="short_name")
    nombre_lieux = serializers.IntegerField(help_text="Lieux publiés de ce type.")

    class Meta:
        model = ServiceType
        fields = ["id", "nom", "nom_court", "description", "nombre_lieux"]


class BassinSerializer(serializers.ModelSerializer):
    id = serializers.SlugField(source="slug")
    nom = serializers.CharField(source="name")
    departement = serializers.CharField(source="department_id", help_text="Département du pôle.")
    type_pole = serializers.CharField(source="pole_type")
    poles = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code_insee", help_text="Codes INSEE des pôles."
    )
    nombre_lieux = serializers.IntegerField(help_text="Lieux publiés du bassin.")
    contour = serializers.JSONField(
        source="outline", help_text="Contour simplifié (géométrie GeoJSON, WGS 84), approximatif."
    )
    couverture = serializers.SerializerMethodField(
        help_text="Population à moins de 5, 10 et 20 km (à vol d’oiseau) d’un lieu, d’une "
        "France Services, d’une aide aux démarches, d’une aide gratuite et d’une étape "
        "itinérante ; communes à plus de 10 km du lieu le plus proche (« zones blanches ») ; "
        "part des lieux vérifiés depuis moins de 12 mois."
    )

    class Meta:
        model = BassinDeVie
        fields = [
            "id",
            "nom",
            "departement",
            "type_pole",
            "poles",
            "nombre_lieux",
            "contour",
            "couverture",
        ]

    @extend_schema_field({"type": "object", "nullable": True})
    def get_couverture(self, bassin):
        """None while the communes' distances have not been computed yet."""
        # The viewset computes every bassin's portrait in one pass (see its get_serializer_context).
        return (self.context.get("couverture") or {}).get(bassin.pk)


class CommuneDistancesSerializer(serializers.Serializer):
    """A commune's straight-line distances to help (territories/coverage.py)."""

    lieu_km = serializers.FloatField(source="nearest_km", allow_null=True)
    lieu_le_plus_proche = serializers.CharField(
        source="nearest_structure.uid", allow_null=True, default=None
    )
    etape_itinerante_km = serializers.FloatField(source="stop_km", allow_null=True)
    aide_demarches_km = serializers.FloatField(source="demarches_km", allow_null=True)
    aide_gratuite_km = serializers.FloatField(source="free_km", allow_null=True)
    par_type_km = serializers.DictField(
        source="by_kind_km", child=serializers.FloatField(allow_null=True)
    )


class CommuneSerializer(serializers.ModelSerializer):
    nom = serializers.CharField(source="name")
    codes_postaux = serializers.ListField(source="postal_codes", child=serializers.CharField())
    departement = serializers.CharField(source="department_id")
    bassin_de_vie = serializers.CharField(source="bassin.slug")
    epci = serializers.CharField(source="epci_id", allow_null=True)
    population_annee = serializers.SerializerMethodField(
        help_text="Millésime de la population municipale (Insee)."
    )
    distances = CommuneDistancesSerializer(
        source="coverage",
        read_only=True,
        allow_null=True,
        help_text="Distances à vol d’oiseau depuis un point de la commune, en km ; "
        "null quand aucun lieu de ce genre n’existe.",
    )

    class Meta:
        model = Commune
        fields = [
            "code_insee",
            "nom",
            "codes_postaux",
            "departement",
            "epci",
            "bassin_de_vie",
            "latitude",
            "longitude",
            "population",
            "population_annee",
            "distances",
        ]

    def get_population_annee(self, commune) -> int:
        return POPULATION_YEAR
