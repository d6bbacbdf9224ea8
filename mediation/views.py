"""Public pages of the directory: search, structure, kinds, reports, site pages."""

import functools
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django.views.generic import DetailView, ListView

from mediation import abuse, duplicates, geocoding, markers, opening_hours, privacy, search
from mediation.client_ip import client_ip
from mediation.forms import ErrorReportForm, SearchForm
from mediation.maps import map_config
from mediation.models import ServiceType, Stop, Structure
from mediation.space import actions
from mediation.versioning import has_uncommitted_changes, structures_version
from territories.models import BassinDeVie, Department

# The territories' outlines, never shown with a place, are large JSON documents.
OUTLINES = ("commune__bassin__outline", "commune__department__outline")


def home(request):
    """Home = search: one field, filters, then the nearest places, list and map."""
    form = SearchForm(request.GET or None)
    # Read once: the counts, the place found, the map's URL and the page's fragments
    # are kept by it. What is kept is computed afresh while this connection's changes
    # are not committed (the version moves on commit).
    stamp, _ = structures_version()
    kept = None if has_uncommitted_changes() else stamp
    with geocoding.for_visitor(client_ip(request)):  # a limit on BAN calls per visitor
        outcome = search.run(form, stamp=kept)
    if outcome.page is not None:
        for structure in outcome.page.object_list:
            structure.distance_text = search.format_distance(structure.distance_km)
    origin = outcome.origin
    place_keys = ("q", "lat", "lon")
    context = {
        "form": form,
        "outcome": outcome,
        "page_query": _query(request, drop=("page",)),
        "place_query": _query(request, keep=place_keys),
        "filters_query": _query(request, drop=(*place_keys, "page")),
        "kinds": ServiceType.objects.all(),
        # The filters' boxes are rendered once per data version and values (home.html).
        "data_version": kept,
        "filter_values": [(name, request.GET.getlist(name)) for name in SearchForm.FILTERS],
        # Shown on the bare home page only: counted then, once per data version.
        "structure_count": functools.partial(
            search.cached_count, Structure.objects.published(), "published", stamp=kept
        ),
        "position_text": search.POSITION_TEXT,
        "map_config": map_config(),
        "map_state": {
            # The map asks for what is in view, filtered as the list (mediation/markers.py).
            "markers": markers.url(request.GET if outcome.searched else {}, stamp=stamp),
            "byView": markers.by_view(stamp=stamp),
            "grid": markers.GRID,
            "origin": [origin.latitude, origin.longitude, origin.label] if origin else None,
            "nearest": _nearest_points(outcome) if origin else [],
        },
    }
    return render(request, "mediation/home.html", context)


def _query(request, *, keep=None, drop=()):
    """The current query string, with only `keep` or without `drop` parameters."""
    query = request.GET.copy()
    for key in list(query):
        if key in drop or (keep is not None and key not in keep) or not query.getlist(key):
            del query[key]
    return query.urlencode()


PAGE_FIT = 5  # the map frames the origin and this many nearest places


def _nearest_points(outcome):
    """[lat, lon] of the page's first places, each where it was found."""
    if outcome.page is None:
        return []
    points = []
    for structure in outcome.page.object_list[:PAGE_FIT]:
        where = structure.nearest_stop or structure
        if where.latitude is not None:
            points.append([where.latitude, where.longitude])
    return points


class StructureDetailView(DetailView):
    template_name = "mediation/structure_detail.html"
    context_object_name = "structure"

    def get_queryset(self):
        return (
            Structure.objects.published()
            .with_last_person_edit()
            .select_related("commune__bassin", "commune__department")
            .defer(*OUTLINES)
            .prefetch_related(
                "kinds", Prefetch("stops", queryset=Stop.objects.select_related("commune"))
            )
        )

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A record merged into another: its address leads there, for good.
            survivor = duplicates.redirect_target(kwargs["slug"])
            if survivor is None:
                raise
            return redirect(survivor, permanent=True)

    def get_context_data(self, **kwargs):
        structure = self.object
        stops = list(structure.stops.all())
        for stop in stops:
            stop.hours_lines = opening_hours.describe(stop.opening_hours)
        map_points = []
        if structure.latitude is not None:
            map_points.append([structure.latitude, structure.longitude, structure.name])
        map_points += [[s.latitude, s.longitude, f"{s.place} – {s.commune.name}"] for s in stops]
        page_url = self.request.build_absolute_uri(structure.get_absolute_url())
        return super().get_context_data(
            page_url=page_url,
            page_qr=print_qr(page_url),
            printed_on=timezone.localdate(),
            hours_lines=opening_hours.describe(structure.opening_hours),
            opening_status=opening_hours.status(
                structure.opening_hours, note=structure.opening_hours_note
            ),
            offer=structure.offer(),
            stops=stops,
            map_config=map_config(),
            map_points=map_points,
            directions=directions(structure) if structure.latitude is not None else None,
            **kwargs,
        )


@functools.lru_cache(maxsize=1024)  # about half the page's time, and an address's never changes
def print_qr(url):
    """The page's address as a QR code (inline SVG), printed at the foot of the sheet."""
    code = segno.make(url, error="m")
    return mark_safe(code.svg_inline(scale=2, border=2, dark="#000"))


def directions(structure):
    """ "Y aller" links: OpenStreetMap directions to the place, on foot, by car, by bike."""
    to = f"{structure.latitude:.6f}%2C{structure.longitude:.6f}"
    base = "https://www.openstreetmap.org/directions?engine={engine}&route=%3B" + to
    return {
        "foot": base.format(engine="fossgis_osrm_foot"),
        "car": base.format(engine="fossgis_osrm_car"),
        "bike": base.format(engine="fossgis_osrm_bike"),
        "map": (
            f"https://www.openstreetmap.org/?mlat={structure.latitude:.6f}"
            f"&mlon={structure.longitude:.6f}#map=17/{structure.latitude:.5f}/"
            f"{structure.longitude:.5f}"
        ),
    }


def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's).
    Not permanent: the icon's URL carries its content's hash in production."""
    return redirect(static("img/favicon.svg"))


@require_http_methods(["GET", "POST"])
def report_error(request, slug):
    """ "Signaler une erreur": a short form, stored for moderation."""
    structure = get_object_or_404(Structure.objects.published(), slug=slug)
    status = 200
    if request.method == "POST":
        form = ErrorReportForm(request.POST)
        status = 400
        reason = form.bot_check()
        if reason == "expired":
            form = ErrorReportForm(initial={"message": request.POST.get("message", "")})
            form.expired = True
        elif form.is_valid():
            if reason is None:
                if not abuse.allow(request, "report"):
                    form.add_error(None, abuse.message("report"))
                    return render(
                        request,
                        "mediation/report_form.html",
                        {"structure": structure, "form": form},
                        status=429,
                    )
                report = form.save(commit=False)
                report.structure = structure
                if request.user.is_authenticated:
                    report.author = request.user
                actions.file_report(report=report, build_url=request.build_absolute_uri)
            # A bot is thanked the same way, and nothing is stored.
            messages.success(
                request,
                "Merci ! Votre signalement a été transmis à l’équipe qui tient l’annuaire à jour.",
            )
            return redirect(structure)
    else:
        form = ErrorReportForm()
    return render(
        request,
        "mediation/report_form.html",
        {"structure": structure, "form": form},
        status=status,
    )


class ServiceTypeListView(ListView):
    template_name = "mediation/servicetype_list.html"
    context_object_name = "kinds"

    def get_queryset(self):
        return ServiceType.objects.annotate(
            count=Count("structures", filter=Q(structures__status=Structure.Status.PUBLISHED))
        )


class ServiceTypeDetailView(DetailView):
    model = ServiceType
    template_name = "mediation/servicetype_detail.html"
    context_object_name = "kind"

    def get_context_data(self, **kwargs):
        structures = (
            self.object.structures.published()
            .select_related("commune__department", "commune__bassin")
            .defer(*OUTLINES)  # a large JSON document each, decoded per row: seconds
            .order_by("commune__department_id", "city", "name")
        )
        by_department = {}
        for structure in structures:
            department = structure.commune.department if structure.commune else None
            by_department.setdefault(department, []).append(structure)
        return super().get_context_data(
            by_department=list(by_department.items()),
            count=sum(len(items) for items in by_department.values()),
            other_kinds=ServiceType.objects.exclude(pk=self.object.pk),
            **kwargs,
        )


def accessibility(request):
    return render(request, "pages/accessibilite.html")


def legal(request):
    return render(
        request,
        "pages/mentions_legales.html",
        {
            "departments": Department.objects.all(),
            "bassin_count": BassinDeVie.objects.count(),
            "map_tiles": settings.MAP_TILES,
            "map_tile_host": urlsplit(settings.MAP_TILE_URL).netloc,
            "legal": settings.LEGAL_NOTICE,
            "retention": privacy.retention_days(),
        },
    )
