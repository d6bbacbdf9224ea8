"""The coordinator's dashboard: what needs doing in their bassins, each item a link to act.

Places to verify (nothing confirmed for 12 months), places missing hours, services
or a phone, open reports and proposals, probable duplicates, and the bassins'
"zones blanches" (communes more than 10 km from any place), with the update
campaign one click away.
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from mediation import duplicates, permissions
from mediation.models import Structure
from mediation.space.views import moderation_queue
from territories import coverage
from territories.models import BassinDeVie

STALE_AFTER = timedelta(days=365)
LISTED = 20  # items shown per list; the count says how many there are


def _listed(queryset):
    items = list(queryset[: LISTED + 1])
    return {"items": items[:LISTED], "count": queryset.count(), "more": len(items) > LISTED}


@login_required
@never_cache
def dashboard(request):
    user = request.user
    if not permissions.is_coordinator(user):
        raise PermissionDenied("Le tableau de bord est réservé aux coordinateurs.")
    allowed = BassinDeVie.objects.defer("outline").order_by("name")
    coordinated = permissions.coordinated_bassin_ids(user)
    if coordinated or not permissions.is_admin(user):
        allowed = allowed.filter(pk__in=coordinated)
    bassins = list(allowed)
    chosen = request.GET.get("bassin", "")
    if chosen:
        bassins = [b for b in bassins if b.slug == chosen] or bassins
    places = (
        Structure.objects.published()
        .filter(commune__bassin__in=bassins)
        .select_related("commune")
        .order_by("name")
    )
    stale = places.needing_verification(before=timezone.now() - STALE_AFTER).order_by(
        "verified_at", "name"
    )
    zones = []
    for bassin in bassins:
        figures = coverage.cached(f"bassin:{bassin.pk}", lambda b=bassin: coverage.portrait(b))
        zones += [(bassin, row) for row in figures.zones_blanches[:10]]
    zones.sort(key=lambda item: -(item[1].nearest_km or 999))
    context = {
        "bassins": bassins,
        "all_bassins": list(allowed),
        "chosen": chosen,
        "place_count": places.count(),
        "stale": _listed(stale),
        "stale_reachable": stale.exclude(emails=[]).filter(memberships__isnull=True).count(),
        "missing_hours": _listed(places.filter(opening_hours="")),
        "missing_services": _listed(places.filter(services=[])),
        "missing_phone": _listed(places.filter(phone="")),
        "pending": moderation_queue(user, counts_only=True),
        "duplicate_count": len(duplicates.probable_duplicates(places)),
        "zones": zones[:LISTED],
    }
    return render(request, "space/dashboard.html", context)
