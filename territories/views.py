"""Territory pages: the 23 bassins de vie, the departments, and commune suggestions."""

from django.db.models import Count, Q
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, ListView

from mediation.maps import map_config
from territories import suggestions
from territories.models import BassinDeVie, Department


def _published():
    from mediation.models import Structure

    return Q(communes__structures__status=Structure.Status.PUBLISHED)


def kind_counts(structures):
    """[(ServiceType, count)] of the kinds present among `structures`, in the usual order."""
    from mediation.models import ServiceType

    counts = (
        ServiceType.objects.filter(structures__in=structures)
        .annotate(count=Count("structures"))
        .order_by("order", "name")
    )
    return [(kind, kind.count) for kind in counts]


class BassinListView(ListView):
    template_name = "territories/bassin_list.html"
    context_object_name = "bassins"

    def get_queryset(self):
        return (
            BassinDeVie.objects.select_related("department")
            .defer("outline")
            .annotate(count=Count("communes__structures", filter=_published()))
            .order_by("department_id", "name")
        )

    def get_context_data(self, **kwargs):
        by_department = {}
        for bassin in self.object_list:
            by_department.setdefault(bassin.department, []).append(bassin)
        return super().get_context_data(
            by_department=list(by_department.items()),
            map_config=map_config(),
            map_data={"outlines": reverse("territories:bassin_outlines")},
            perimeter_note=BassinDeVie.PERIMETER_NOTE,
            **kwargs,
        )


class BassinDetailView(DetailView):
    """The territory's "monographie": presentation, outline, counts by kind, structures."""

    model = BassinDeVie
    template_name = "territories/bassin_detail.html"
    context_object_name = "bassin"

    def get_queryset(self):
        return BassinDeVie.objects.select_related("department").prefetch_related("poles")

    def get_context_data(self, **kwargs):
        from mediation.models import Structure

        structures = (
            Structure.objects.published()
            .in_bassin(self.object)
            .select_related("commune")
            .prefetch_related("kinds")
            .order_by("city", "name")
        )
        by_commune = {}
        for structure in structures:
            by_commune.setdefault(structure.city, []).append(structure)
        points = [
            [s.latitude, s.longitude, s.name, s.get_absolute_url()]
            for s in structures
            if s.latitude is not None
        ]
        return super().get_context_data(
            structures=structures,
            by_commune=list(by_commune.items()),
            kind_counts=kind_counts(structures),
            commune_count=self.object.communes.count(),
            perimeter_note=BassinDeVie.PERIMETER_NOTE,
            map_config=map_config(),
            map_data={"outline": self.object.outline, "points": points},
            **kwargs,
        )


class DepartmentDetailView(DetailView):
    model = Department
    template_name = "territories/department_detail.html"
    context_object_name = "department"

    def get_context_data(self, **kwargs):
        from mediation.models import Structure

        bassins = (
            self.object.bassins.defer("outline")
            .annotate(count=Count("communes__structures", filter=_published()))
            .order_by("name")
        )
        structures = Structure.objects.published().in_department(self.object)
        points = [
            [lat, lon, name, f"/lieux/{slug}/"]
            for lat, lon, name, slug in structures.filter(latitude__isnull=False).values_list(
                "latitude", "longitude", "name", "slug"
            )
        ]
        return super().get_context_data(
            bassins=bassins,
            structure_count=structures.count(),
            kind_counts=kind_counts(structures),
            perimeter_note=BassinDeVie.PERIMETER_NOTE,
            map_config=map_config(),
            map_data={"outline": self.object.outline, "points": points},
            **kwargs,
        )


@require_GET
@cache_control(public=True, max_age=3600)
def commune_suggestions(request):
    """Suggestions for the "Où êtes-vous ?" field, as JSON (accents, case, typos forgiven)."""
    text = request.GET.get("q", "")[:100]
    found = suggestions.suggest(text, limit=8) if len(text.strip()) >= 2 else []
    return JsonResponse(
        {
            "query": text,
            "results": [
                {
                    "label": s.entry.label,
                    "name": s.entry.name,
                    "postal_code": s.entry.postal_code,
                    "code_insee": s.entry.code_insee,
                    "department": s.entry.department,
                }
                for s in found
            ],
        }
    )


OUTLINE_TOLERANCE = 0.005  # degrees (about 400 m): enough for the regional map
OUTLINES_CACHE_TTL = 3600


def _polygons(geometry):
    coordinates = geometry["coordinates"]
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    return [[[tuple(point) for point in ring] for ring in polygon] for polygon in polygons]


def simplified_bassin_outlines():
    """A GeoJSON FeatureCollection of the 23 bassins, simplified for a regional map (~12 kB
    gzipped), shared borders kept shared."""
    from territories import geometry

    bassins = list(BassinDeVie.objects.only("slug", "name", "outline"))
    outlines = {b.slug: _polygons(b.outline) for b in bassins if b.outline}
    simplified = geometry.simplify_coverage(outlines, OUTLINE_TOLERANCE)
    features = [
        {
            "type": "Feature",
            "properties": {"name": b.name, "url": b.get_absolute_url()},
            "geometry": geometry.to_geojson(simplified[b.slug], precision=3),
        }
        for b in bassins
        if b.slug in simplified
    ]
    return {"type": "FeatureCollection", "features": features}


@require_GET
@cache_control(public=True, max_age=3600)
def bassin_outlines(request):
    """The bassins' outlines for the maps: drawn even when the map tiles cannot load."""
    import orjson
    from django.core.cache import cache
    from django.http import HttpResponse

    stamp = BassinDeVie.objects.aggregate(count=Count("pk"), communes=Count("communes"))
    key = f"territories:outlines:{stamp['count']}:{stamp['communes']}"
    body = cache.get(key)
    if body is None:
        body = orjson.dumps(simplified_bassin_outlines())
        cache.set(key, body, OUTLINES_CACHE_TTL)
    return HttpResponse(body, content_type="application/geo+json")
