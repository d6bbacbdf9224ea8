"""Territory pages: the 23 bassins de vie, the departments, and commune suggestions."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, ListView

from mediation import csvfiles, permissions
from mediation.maps import map_config
from territories import coverage, posters, projects, suggestions
from territories.models import (
    POPULATION_YEAR,
    BassinDeVie,
    Commune,
    Department,
    TerritoryProject,
)


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
            .defer("outline", "department__outline")
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
            .order_by("commune__name", "name")
        )
        # Grouped by the commune record, never by the text typed in the address.
        by_commune = {}
        for structure in structures:
            name = structure.commune.name if structure.commune_id else structure.city
            by_commune.setdefault(name, []).append(structure)
        points = [
            [s.latitude, s.longitude, s.name, s.get_absolute_url()]
            for s in structures
            if s.latitude is not None
        ]
        figures = coverage.cached(
            f"bassin:{self.object.pk}", lambda: coverage.portrait(self.object)
        )
        project = TerritoryProject.objects.filter(bassin=self.object).first()
        communes = [
            [
                c.commune.latitude,
                c.commune.longitude,
                c.commune.name,
                c.commune.population or 0,
                c.nearest_km,
                coverage.distance_class(c.nearest_km),
            ]
            for c in figures.rows
        ]
        return super().get_context_data(
            structures=structures,
            by_commune=list(by_commune.items()),
            kind_counts=kind_counts(structures),
            commune_count=figures.commune_count,
            portrait=figures,
            project=project,
            project_html=projects.render(project.presentation) if project else "",
            can_edit_project=permissions.can_edit_project(self.request.user, self.object),
            lead_sentence=coverage.lead_sentence(figures),
            population_year=POPULATION_YEAR,
            thresholds=coverage.THRESHOLDS_KM,
            zone_blanche_km=coverage.ZONE_BLANCHE_KM,
            perimeter_note=BassinDeVie.PERIMETER_NOTE,
            map_config=map_config(),
            map_data={
                "outline": self.object.outline,
                "points": points,
                "communes": communes,
                "classes": [[c["slug"], c["label"]] for c in figures.distance_classes],
            },
            **kwargs,
        )


COMPARISON_COLUMNS = {
    # ?tri= value: (column title, key of a row's figures)
    "nom": ("Bassin de vie", None),
    "population": ("Habitants", "population"),
    "lieux": ("Lieux", "place_count"),
    "habitants-par-lieu": ("Habitants par lieu", "inhabitants_per_place"),
    "moins-10-km": ("Habitants à moins de 10 km d’un lieu (%)", "percent_10"),
    "france-services-10-km": ("À moins de 10 km d’une France Services (%)", "france_services_10"),
    "zones-blanches": ("Habitants à plus de 10 km d’un lieu", "zones_blanches_population"),
    "verifies": ("Lieux vérifiés depuis moins d’un an (%)", "fresh_percent"),
}


BAR_STEP = 22  # SVG units between two bars of the comparison chart


def comparison_rows(order="nom"):
    """(rows, region sentence): the 23 bassins with their figures, sorted by `order` (a
    COMPARISON_COLUMNS key; numbers largest first)."""
    figures, region_sentence = coverage.cached("comparison", coverage.comparison_summary)
    rows = [
        {"bassin": bassin, "figures": figures[bassin.pk]}
        for bassin in BassinDeVie.objects.defer("outline").select_related("department")
        if bassin.pk in figures
    ]
    key = COMPARISON_COLUMNS.get(order, COMPARISON_COLUMNS["nom"])[1]
    if key is None:
        rows.sort(key=lambda row: row["bassin"].name)
    else:
        rows.sort(key=lambda row: row["figures"][key] or 0, reverse=True)
    return rows, region_sentence


def bassin_comparison(request):
    """The region side by side: the 23 bassins' coverage, sortable, also as CSV."""
    order = request.GET.get("tri", "nom")
    if order not in COMPARISON_COLUMNS:
        order = "nom"
    rows, region_sentence = comparison_rows(order)
    for index, row in enumerate(rows):
        row["bar"] = row["figures"]["percent_10"]
        row["bar_width"] = row["bar"] * 4  # 400 units for 100 %
        row["bar_text_x"] = 226 + row["bar_width"]
        row["bar_y"] = index * BAR_STEP
    return render(
        request,
        "territories/bassin_comparison.html",
        {
            "rows": rows,
            "order": order,
            "columns": [(slug, title) for slug, (title, _key) in COMPARISON_COLUMNS.items()],
            "region_sentence": region_sentence,
            "chart_height": len(rows) * BAR_STEP + 4,
            "population_year": POPULATION_YEAR,
        },
    )


def bassin_comparison_csv(request):
    """The comparison table as CSV (through the site's safe CSV writer)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="couverture-bassins-de-vie.csv"'
    columns = [
        "bassin",
        "departement",
        "population",
        "population_annee",
        "communes",
        "lieux",
        "habitants_par_lieu",
        *(f"part_moins_{km}_km" for km in coverage.THRESHOLDS_KM),
        "part_france_services_moins_10_km",
        "part_aide_gratuite_moins_10_km",
        "part_etape_itinerante_moins_10_km",
        "habitants_zones_blanches",
        "part_lieux_verifies_12_mois",
    ]
    writer = csvfiles.Writer(response, columns)
    writer.writeheader()
    rows, _sentence = comparison_rows()
    for row in rows:
        figures = row["figures"]
        writer.writerow(
            [
                row["bassin"].name,
                row["bassin"].department.name,
                figures["population"],
                POPULATION_YEAR,
                figures["commune_count"],
                figures["place_count"],
                figures["inhabitants_per_place"],
                *(figures["percents"][km] for km in coverage.THRESHOLDS_KM),
                figures["france_services_10"],
                figures["free_10"],
                figures["stop_10"],
                figures["zones_blanches_population"],
                figures["fresh_percent"],
            ]
        )
    return response


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


def _pdf_response(pdf, filename):
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def commune_poster(request, code_insee):
    """The A4 poster for a commune's town hall (PDF)."""
    commune = get_object_or_404(Commune, pk=code_insee)
    search_url = request.build_absolute_uri(
        reverse("mediation:home") + "?" + urlencode({"q": commune.name})
    )
    pdf = posters.cached_pdf(
        "commune", commune.pk, lambda: posters.commune_poster(commune, search_url=search_url)
    )
    return _pdf_response(pdf, f"affiche-{slugify(commune.name)}.pdf")


@require_GET
def bassin_booklet(request, slug):
    """The booklet of every place of a bassin (PDF)."""
    bassin = get_object_or_404(BassinDeVie.objects.defer("outline"), slug=slug)
    page_url = request.build_absolute_uri(bassin.get_absolute_url())
    pdf = posters.cached_pdf(
        "bassin", bassin.slug, lambda: posters.bassin_booklet(bassin, page_url=page_url)
    )
    return _pdf_response(pdf, f"livret-{bassin.slug}.pdf")


class TerritoryProjectForm(forms.ModelForm):
    class Meta:
        model = TerritoryProject
        fields = ["presentation", "partners", "actions"]
        widgets = {
            "presentation": forms.Textarea(attrs={"rows": 10}),
            "partners": forms.Textarea(attrs={"rows": 5}),
            "actions": forms.Textarea(attrs={"rows": 6}),
        }


@login_required
@never_cache
def project_edit(request, slug):
    """The coordinators write their bassin's "Projet numérique de territoire"."""
    bassin = get_object_or_404(BassinDeVie.objects.defer("outline"), slug=slug)
    if not permissions.can_edit_project(request.user, bassin):
        raise PermissionDenied("Seuls les coordinateurs de ce bassin peuvent modifier son projet.")
    project = TerritoryProject.objects.filter(bassin=bassin).first() or TerritoryProject(
        bassin=bassin
    )
    form = TerritoryProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        project = form.save(commit=False)
        project.updated_by = request.user
        project._change_reason = "Modification par un coordinateur"
        project.save()
        messages.success(request, "Le projet numérique de territoire est enregistré.")
        return redirect(f"{bassin.get_absolute_url()}#projet")
    return render(
        request,
        "territories/project_form.html",
        {
            "bassin": bassin,
            "form": form,
            "history": project.history.all()[:10] if project.pk else [],
        },
    )
