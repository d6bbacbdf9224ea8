"""The visitor's IP address, as the rate limits and the login lock-outs count it.

Behind reverse proxies (nginx, a load balancer), REMOTE_ADDR is the last
proxy's address: every visitor would share one rate limit and one lock-out.
`TRUSTED_PROXIES` (settings, from the environment) says how many proxies the
site's own infrastructure puts in front of it; the visitor's address is then
the one the outermost of them wrote in X-Forwarded-For. Entries further left
come from the visitor and may be forged, so they are never used. With 0 (the
default), the header is ignored altogether.

One rule for everything: DRF's `NUM_PROXIES`, which the API's throttles apply;
django-axes and the error-report limit call `client_ip()`.
"""

from rest_framework.throttling import BaseThrottle


def client_ip(request):
    """The visitor's address, for counting (not for showing or storing)."""
    return BaseThrottle().get_ident(request)
