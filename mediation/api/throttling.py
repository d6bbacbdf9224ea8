"""Rate limits: per IP address for anonymous clients, per token for partners.

Counts live in the cache (per process with the default LocMem cache, shared
between servers with REDIS_URL). A client over its limit gets 429 with a
`Retry-After` header (DRF adds it).
"""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    """`API_ANON_RATE` (60/min by default) per IP address, without a token."""

    scope = "anon"


class PartnerThrottle(UserRateThrottle):
    """`API_PARTNER_RATE` (1200/min by default) per partner token."""

    scope = "partner"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # anonymous clients are counted by AnonymousThrottle
        return super().get_cache_key(request, view)
