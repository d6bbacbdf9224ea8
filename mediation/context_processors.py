"""Values every page needs."""

from django.conf import settings
from django.core.cache import cache

from mediation.models import Structure

DEMO_CACHE_KEY = "mediation:demo-data-loaded"


def demo_data_loaded():
    """Whether demo structures are in the database (cached for a minute)."""
    loaded = cache.get(DEMO_CACHE_KEY)
    if loaded is None:
        loaded = Structure.objects.demo().exists()
        cache.set(DEMO_CACHE_KEY, loaded, 60)
    return loaded


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEMO_DATA": demo_data_loaded(),
    }


def forget_demo_flag(**kwargs):
    """Signal receiver: the set of structures changed, so recompute the demo flag."""
    cache.delete(DEMO_CACHE_KEY)
