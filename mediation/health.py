"""`/healthz`: whether this server can answer, for a load balancer.

JSON, no authentication, no rate limit, and cheap: one `SELECT 1` and one cache
round trip. 200 when both answer; 503 naming the part that failed otherwise (the
site still answers without its cache, more slowly: a load balancer may choose
to keep such a server, see the README).
"""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from mediation.cache import cache_available


def database_available():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return False
    return True


@never_cache
@require_safe
def healthz(request):
    checks = {
        "database": "ok" if database_available() else "injoignable",
        "cache": "ok" if cache_available(cache) else "injoignable",
    }
    healthy = all(value == "ok" for value in checks.values())
    failed = [name for name, value in checks.items() if value != "ok"]
    return JsonResponse(
        {"status": "ok" if healthy else "erreur", "checks": checks, "failed": failed},
        status=200 if healthy else 503,
    )
