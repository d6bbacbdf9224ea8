"""Read-only viewsets of the partners' API, and the export in the national standard.

Anonymous clients read published data; partners send their token for a higher
rate (see throttling.py). Responses carry an ETag and Last-Modified computed
before any work, so a partner polling an unchanged directory gets a 304.
Errors are JSON whatever the format asked for (`{"detail": …}` or, for bad
parameters, `{"parameter": ["message"]}`), in French.
"""

import hashlib
import itertools

from csp.constants import UNSAFE_INLINE
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q
from django.forms.utils import ErrorDict, ErrorList
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.http import http_date, quote_etag
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation import choices, exporters, permissions, response_cache, tombstones
from mediation.api import compiled
from mediation.api.filters import (
    CommuneFilter,
    SinceField,
    StandardExportFilter,
    StrictFilterBackend,
    StructureFilter,
    parameter_errors,
)
from mediation.api.pagination import StructurePagination
from mediation.api.renderers import (
    GeoJSONAsJSONRenderer,
    GeoJSONRenderer,
    OrjsonRenderer,
    StandardCSVRenderer,
    StandardJSONRenderer,
    dumps,
)
from mediation.api.serializers import (
    BassinSerializer,
    CommuneSerializer,
    ServiceTypeSerializer,
    StructureDetailSerializer,
    StructureListItemSerializer,
    page_rows,
    structure_queryset,
    structure_rows,
    structure_values,
)
from mediation.api.write import StructureWriteMixin, etag  # PATCH, for the mediators
from mediation.models import ServiceType, Stop, Structure, km_of_squared_degrees
from mediation.versioning import structures_version
from territories import coverage
from territories.models import BassinDeVie, Commune

BROWSER_MAX_AGE = 60  # seconds before a client revalidates with its ETag
# Rows read and encoded at a time by the exports, which stream: memory stays the
# same at 600 places and at 100,000.
EXPORT_CHUNK = 1000


def streamed(request, chunks, *, headers=None):
    """A response streaming `chunks` (bytes), typed as the negotiated renderer says."""
    renderer = request.accepted_renderer
    content_type = request.accepted_media_type or renderer.media_type
    if renderer.charset:
        content_type = f"{content_type}; charset={renderer.charset}"
    return StreamingHttpResponse(chunks, content_type=content_type, headers=headers)


class APIViewMixin:
    """JSON errors whatever the format, cache validators, Vary."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            # A CSV or GeoJSON client still gets a structured (JSON) error.
            request.accepted_renderer = OrjsonRenderer()
            request.accepted_media_type = OrjsonRenderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
            response._csp_update = {"style-src": [UNSAFE_INLINE]}  # DRF's own templates
        patch_vary_headers(response, ["Accept"])
        if response.status_code in (200, 304):
            patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
        return response


class FrenchNotFoundMixin:
    """A 404 that says, in French, what was not found."""

    not_found_message = "Rien ne porte l’identifiant « {id} » ici."

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            lookup = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
            raise NotFound(self.not_found_message.format(id=lookup[:80])) from None


class Gone(APIException):
    """410: the place was deleted or archived; the answer is its tombstone."""

    status_code = status.HTTP_410_GONE

    def __init__(self, withdrawal):
        when = withdrawal.date.astimezone(timezone.get_current_timezone())
        what = "supprimé" if withdrawal.status == tombstones.DELETED else "archivé"
        super().__init__(
            {
                "detail": f"Ce lieu a été {what} de l’annuaire le {when:%d/%m/%Y à %H:%M}.",
                **withdrawal.as_json(),
            }
        )


def unknown_address(request, *args, **kwargs):
    """Any other address under /api/v1/: a JSON 404 in French, like the rest of the API."""
    return JsonResponse(
        {"detail": "Adresse inconnue de l’API : voir /api/v1/documentation/."}, status=404
    )


class StructuresConditionalMixin(APIViewMixin):
    """304 Not Modified before doing any work, for anything built from structures."""

    def dispatch(self, request, *args, **kwargs):
        self._validators = None
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, throttling, negotiation
        stamp, latest = structures_version()
        self._stamp = stamp  # the response cache's key reuses it
        format_ = getattr(request.accepted_renderer, "format", "")
        digest = hashlib.sha1(f"{stamp}|{request.get_full_path()}|{format_}".encode()).hexdigest()
        self._validators = (quote_etag(digest[:24]), latest)

    def get_conditional(self, request):
        etag, latest = self._validators
        last_modified = int(latest.timestamp()) if latest else None  # HTTP dates have no fraction
        return get_conditional_response(request, etag=etag, last_modified=last_modified)

    def handle_conditional(self, request, build, *, tokens=False):
        """304, or the answer (kept per version: response_cache.py; `tokens`: built from
        the address alone, so shared with partners too)."""
        not_modified = self.get_conditional(request)
        if not_modified is not None:
            response = not_modified
        else:
            response = response_cache.respond(request, build, stamp=self._stamp, tokens=tokens)
        etag, latest = self._validators
        if response.status_code in (200, 304):
            # A cached copy already carries it (weak when gzipped, as GZipMiddleware makes it).
            response.setdefault("ETag", etag)
            if latest:
                response["Last-Modified"] = http_date(latest.timestamp())
        return response


class CachedReadMixin:
    """Anonymous reads answered from the response cache (mediation/response_cache.py)."""

    @method_decorator(response_cache.cached)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @method_decorator(response_cache.cached)
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class ContentETagMixin(APIViewMixin):
    """ETag from the rendered content, for the small territory lists."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200 and isinstance(response, Response):
            response.render()
            etag = quote_etag(hashlib.sha1(response.content).hexdigest()[:24])
            response["ETag"] = etag
            not_modified = get_conditional_response(request, etag=etag)
            if not_modified is not None:
                not_modified["ETag"] = etag
                patch_cache_control(not_modified, public=True, max_age=BROWSER_MAX_AGE)
                patch_vary_headers(not_modified, ["Accept"])
                return not_modified
        return response


FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string", "description": "Identifiant du lieu (comme `id`)."},
                    "geometry": {
                        "type": "object",
                        "nullable": True,
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"]},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 2,
                                "maxItems": 2,
                            },
                        },
                    },
                    "properties": {
                        "type": "object",
                        "description": "Les champs d’un lieu, comme dans /structures/.",
                    },
                },
            },
        },
    },
}

STRUCTURE_EXAMPLE = OpenApiExample(
    "Un lieu",
    value={
        "id": "hub-lo-12",
        "nom": "Médiathèque Équinoxe",
        "adresse": "1 place de la Mairie",
        "code_postal": "36000",
        "code_insee": "36044",
        "commune": "Châteauroux",
        "departement": "36",
        "bassin_de_vie": "chateauroux",
        "latitude": 46.81,
        "longitude": 1.69,
        "telephone": "+33254000000",
        "horaires": "Tu-Sa 10:00-12:00,14:00-18:00",
        "services": ["Accès internet et matériel informatique"],
        "frais_a_charge": ["Gratuit"],
        "types": ["mediatheque"],
        "date_maj": "2024-03-01",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="Lister les lieux publiés",
        description=(
            "Les lieux publiés, 50 par page (`page_size` jusqu’à 1 000), triés par nom. "
            "Avec `near=latitude,longitude`, les lieux à moins de `radius` km (10 par défaut), "
            "du plus proche au plus loin, avec `distance_km`."
        ),
        examples=[STRUCTURE_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="Détail d’un lieu",
        description="Un lieu publié, avec ses étapes itinérantes, par son identifiant `id`.",
    ),
)
class StructureViewSet(
    StructureWriteMixin,
    FrenchNotFoundMixin,
    StructuresConditionalMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Places of digital mediation (published only)."""

    not_found_message = "Aucun lieu publié n’a l’identifiant « {id} »."

    lookup_field = "uid"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[^/]+"
    filter_backends = [StrictFilterBackend]
    permission_classes = [permissions.StructurePermission]
    filterset_class = StructureFilter
    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]
    queryset = Structure.objects.none()

    def get_queryset(self):
        queryset = structure_queryset(Structure.objects.published()).order_by("name", "pk")
        if self.action == "retrieve":
            queryset = (
                queryset.select_related("commune__bassin")
                .defer("commune__bassin__outline", "commune__bassin__presentation")
                .prefetch_related(
                    "kinds", Prefetch("stops", queryset=Stop.objects.select_related("commune"))
                )
            )
        return queryset

    def get_serializer_class(self):
        return (
            StructureDetailSerializer if self.action == "retrieve" else StructureListItemSerializer
        )

    def _filtered(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        return queryset, bool(request.query_params.get("near"))

    def list(self, request, *args, **kwargs):
        def build():
            filterset = StrictFilterBackend().valid_filterset(request, self.get_queryset(), self)
            point = filterset.point
            queryset = filterset.queryset.all()
            # The page's places with their rows and the total, in one statement
            # (`page_rows()`) around the list's own, compiled once per shape of
            # filters: near a point, nearest first (the rank, a squared distance);
            # otherwise in the list's order (`ordering`, else by name).
            if point:
                page_sql, params = compiled.near_page(filterset, queryset)
                order = None
            else:
                page_sql, params = compiled.listed_page(filterset, queryset)
                order = compiled.list_order(filterset, queryset)
            page_size, _, offset = self.paginator.window(request)
            lines, total = page_rows(
                queryset.db, page_sql, params, offset=offset, limit=page_size, order=order
            )
            page = self.paginator.counted_page(lines, total, request)
            ordered, kinds = [], {}
            for row, row_kinds, rank in page:
                if point:
                    row["distance_km"] = km_of_squared_degrees(rank)
                ordered.append(row)
                kinds[row["pk"]] = row_kinds
            return self.get_paginated_response(structure_rows(ordered, request, kinds))

        return self.handle_conditional(request, build)

    def retrieve(self, request, *args, **kwargs):
        # Kept whole, with its validator: that alone takes several queries.
        return response_cache.respond(request, self._retrieve, stamp=self._stamp)

    def _retrieve(self):
        request = self.request
        # The ETag is the place's own version, the one PATCH accepts in If-Match.
        structure = self.get_object()
        format_ = getattr(request.accepted_renderer, "format", "")
        # Last-Modified: the directory's date, which moves with any change of this place.
        self._validators = (
            etag(structure, "" if format_ == "json" else format_),
            self._validators[1],
        )
        return self.handle_conditional(
            request, lambda: Response(self.get_serializer(structure).data)
        )

    def get_object(self):
        try:
            return super().get_object()
        except NotFound:
            withdrawal = tombstones.withdrawal_of(self.kwargs[self.lookup_url_kwarg])
            if withdrawal is not None:
                raise Gone(withdrawal) from None
            raise

    @extend_schema(
        summary="Les lieux en GeoJSON",
        description=(
            "Les lieux publiés (mêmes filtres que la liste, sans pagination) en "
            "`FeatureCollection` GeoJSON (RFC 7946) : un point [longitude, latitude] par lieu, "
            "les autres champs dans `properties`, l’identifiant du lieu dans `id`. Un lieu sans "
            "position a une géométrie nulle. Servi aussi pour `Accept: application/json`. "
            "Chaque étape d’un lieu itinérant est aussi un point, relié à son lieu par "
            "`etape_de` (l’`id` du lieu)."
        ),
        filters=True,
        responses={
            (200, "application/geo+json"): OpenApiResponse(response=FEATURE_COLLECTION),
            (200, "application/json"): OpenApiResponse(response=FEATURE_COLLECTION),
        },
    )
    @action(
        detail=False,
        url_path="geojson",
        renderer_classes=[GeoJSONRenderer, GeoJSONAsJSONRenderer],
        pagination_class=None,
    )
    def geojson(self, request, *args, **kwargs):
        def build():
            queryset, distance = self._filtered(request)
            values = structure_values(queryset, distance=distance).iterator(chunk_size=EXPORT_CHUNK)
            batches = itertools.chain(
                (structure_rows(rows, request) for rows in exporters.batched(values, EXPORT_CHUNK)),
                # Itinerant places are also where they stop: one feature per stop, linked.
                (exporters.stop_items(queryset) for _ in range(1)),
            )
            return streamed(request, exporters.feature_collection_chunks(batches, dumps))

        return self.handle_conditional(request, build, tokens=True)


WITHDRAWALS_PAGE = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "next": {"type": "string", "nullable": True, "format": "uri"},
        "previous": {"type": "string", "nullable": True, "format": "uri"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "Identifiant du lieu."},
                    "statut": {"type": "string", "enum": ["supprime", "archive", "non_publie"]},
                    "date": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}


class WithdrawalsView(StructuresConditionalMixin, APIView):
    """Places that left the directory (deleted, archived, unpublished), for mirrors."""

    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="Lieux retirés de l’annuaire (pour la synchronisation)",
        description=(
            "Les lieux supprimés (`supprime`), archivés (`archive`) ou repassés en brouillon "
            "(`non_publie`) depuis `updated_since`, du plus ancien au plus récent : "
            "`{id, statut, date}`. Un miroir tenu à jour avec `/structures/?updated_since=` "
            "retire ces identifiants ; un lieu publié à nouveau revient dans `/structures/` "
            "et disparaît d’ici."
        ),
        parameters=[
            OpenApiParameter(
                "updated_since",
                OpenApiTypes.STR,
                description="Lieux retirés depuis cette date (ou date et heure ISO 8601), "
                "de 1970 à 2099. Sans elle, tous les lieux retirés.",
            ),
            OpenApiParameter("page", OpenApiTypes.INT, description="Numéro de la page."),
            OpenApiParameter(
                "page_size", OpenApiTypes.INT, description="Résultats par page (1 000 au plus)."
            ),
        ],
        responses={200: OpenApiResponse(response=WITHDRAWALS_PAGE)},
    )
    def get(self, request, *args, **kwargs):
        def build():
            params = request.query_params
            errors = parameter_errors(params, accepted=("updated_since", "page", "page_size"))
            since = None
            if params.get("updated_since") and "updated_since" not in errors:
                try:
                    since = SinceField().clean(params["updated_since"])
                except DjangoValidationError as error:
                    errors["updated_since"] = error.messages[0]
            if errors:
                raise translate_validation(
                    ErrorDict({name: ErrorList([message]) for name, message in errors.items()})
                )
            paginator = StructurePagination()
            page = paginator.paginate_queryset(tombstones.withdrawals(since), request, view=self)
            return paginator.get_paginated_response([w.as_json() for w in page])

        return self.handle_conditional(request, build)


class StandardExportView(StructuresConditionalMixin, APIView):
    """The national standard 1.0.2 of the published places (filters as on /structures/)."""

    filename = "lieux-mediation-numerique-centre-val-de-loire"
    # Read by drf-spectacular to list the filters (get() applies them itself).
    filter_backends = [StrictFilterBackend]
    filterset_class = StandardExportFilter
    queryset = Structure.objects.none()

    def get(self, request, *args, **kwargs):
        def build():
            filterset = StandardExportFilter(
                request.query_params, queryset=Structure.objects.published(), request=request
            )
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            regional = filterset.regional
            records = exporters.standard_records(filterset.qs.order_by(), regional=regional)
            columns = exporters.WITH_REGIONAL_FIELDS if regional else exporters.STANDARD_FIELDS
            extension = request.accepted_renderer.format
            if extension == "csv":
                chunks = (
                    text.encode()
                    for text in exporters.standard_csv_chunks(records, columns=columns)
                )
            else:
                chunks = exporters.standard_json_chunks(records, columns=columns)
            return streamed(
                request,
                chunks,
                headers={"Content-Disposition": f'inline; filename="{self.filename}.{extension}"'},
            )

        return self.handle_conditional(request, build, tokens=True)


_EXPORT_DESCRIPTION = (
    "Tous les lieux publiés au format du standard national des lieux de médiation numérique "
    "1.0.2 (LaMednum / ANCT) : ses 32 colonnes, dans son ordre, valeurs multiples séparées "
    "par « | ». Les filtres de /structures/ s’appliquent (par exemple `departement=37`). "
    "Le standard n’a qu’une date (`date_maj`) ; `colonnes=regionales` ajoute après ses "
    "colonnes celles de l’annuaire, dont `verifie_le` (dernière vérification par le lieu) et "
    "`modifie_le` (dernière modification de la fiche) — le fichier n’est alors plus "
    "strictement au schéma. Une valeur déduite par l’import et non confirmée n’est jamais "
    "exportée."
)


@extend_schema(
    summary="Export au standard national (CSV)",
    description=_EXPORT_DESCRIPTION,
    filters=True,
    responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR)},
)
class StandardCSVView(StandardExportView):
    renderer_classes = [StandardCSVRenderer]

    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(
    summary="Export au standard national (JSON)",
    filters=True,
    description=_EXPORT_DESCRIPTION + " En JSON, une cellule vide vaut null.",
    responses={(200, "application/json"): OpenApiResponse(response=OpenApiTypes.ANY)},
)
class StandardJSONView(StandardExportView):
    renderer_classes = [StandardJSONRenderer]

    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(summary="Lister les types de lieu"),
    retrieve=extend_schema(summary="Détail d’un type de lieu"),
)
class ServiceTypeViewSet(
    FrenchNotFoundMixin, CachedReadMixin, ContentETagMixin, viewsets.ReadOnlyModelViewSet
):
    """The 7 kinds of place of the region."""

    not_found_message = "Aucun type de lieu n’a l’identifiant « {id} » (voir /api/v1/types/)."

    serializer_class = ServiceTypeSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "id"
    pagination_class = None
    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]

    def get_queryset(self):
        published = Q(structures__status=choices.Status.PUBLISHED)
        return ServiceType.objects.annotate(nombre_lieux=Count("structures", filter=published))


@extend_schema_view(
    list=extend_schema(
        summary="Lister les bassins de vie",
        description="Les 23 bassins de vie, avec leur contour approximatif en GeoJSON.",
    ),
    retrieve=extend_schema(summary="Détail d’un bassin de vie"),
)
class BassinViewSet(
    FrenchNotFoundMixin, CachedReadMixin, ContentETagMixin, viewsets.ReadOnlyModelViewSet
):
    """The 23 bassins de vie (perimeters are approximate)."""

    not_found_message = "Aucun bassin de vie n’a l’identifiant « {id} » (voir /api/v1/bassins/)."

    serializer_class = BassinSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "id"
    pagination_class = None
    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]

    def get_queryset(self):
        published = Q(communes__structures__status=choices.Status.PUBLISHED)
        return (
            BassinDeVie.objects.annotate(
                nombre_lieux=Count("communes__structures", filter=published)
            )
            .prefetch_related("poles")
            .order_by("name", "pk")
        )

    def get_serializer_context(self):
        # Every bassin's coverage in one pass over the communes (never per bassin).
        couverture = coverage.cached(
            "couverture",
            lambda: {pk: p.as_dict() for pk, p in coverage.portraits_by_bassin().items()},
        )
        return {**super().get_serializer_context(), "couverture": couverture}


@extend_schema_view(
    list=extend_schema(
        summary="Chercher une commune",
        description="Par le début de son nom ou par code postal (`q=tours`, `q=37000`).",
    ),
    retrieve=extend_schema(summary="Détail d’une commune (par code INSEE)"),
)
class CommuneViewSet(
    FrenchNotFoundMixin, CachedReadMixin, ContentETagMixin, viewsets.ReadOnlyModelViewSet
):
    """The 1,754 communes of the region."""

    not_found_message = "Aucune commune de la région n’a le code INSEE « {id} »."

    serializer_class = CommuneSerializer
    lookup_field = "code_insee"
    lookup_value_regex = r"[0-9AB]{5}"
    filter_backends = [StrictFilterBackend]
    filterset_class = CommuneFilter
    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]

    def get_queryset(self):
        # Only the bassin's slug: its outline (a large JSON document) would be
        # read and decoded for every commune (1–2 s for 1,000 communes).
        return (
            Commune.objects.select_related("bassin", "coverage", "coverage__nearest_structure")
            .only(*COMMUNE_COLUMNS, "bassin__slug", *COVERAGE_COLUMNS)
            .order_by("name", "pk")
        )


COMMUNE_COLUMNS = [
    "code_insee",
    "name",
    "postal_codes",
    "department_id",
    "epci_id",
    "bassin_id",
    "latitude",
    "longitude",
    "population",
]
COVERAGE_COLUMNS = [
    "coverage__nearest_km",
    "coverage__stop_km",
    "coverage__demarches_km",
    "coverage__free_km",
    "coverage__by_kind_km",
    "coverage__nearest_structure__uid",
]


def documentation(request):
    """The API's documentation page, in French, with examples."""
    return render(
        request,
        "api/documentation.html",
        {
            "services": choices.Service.values,
            "kinds": ServiceType.objects.all(),
            "kind_codes": [
                (
                    kind,
                    exporters.KIND_TYPOLOGIE.get(kind.slug, ""),
                    exporters.KIND_DISPOSITIF.get(kind.slug, ""),
                )
                for kind in ServiceType.objects.all()
            ],
            "standard_fields": exporters.STANDARD_FIELDS,
        },
    )
