"""WSGI app of the benchmark: the site, with WhiteNoise serving a folder of static copies.

The static copies (BENCH_STATIC_ROOT, URL prefix /bench-static/) hold the very
bytes the map-markers endpoint answers, so both are served by the same gunicorn
workers in the same run.
"""

import os

from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

application = WhiteNoise(
    get_wsgi_application(), root=os.environ["BENCH_STATIC_ROOT"], prefix="bench-static/"
)


if os.environ.get("BENCH_MARKERS_VERSION_TTL"):
    # Experiment only (--markers-version-ttl): what the markers endpoint gives
    # when its data version (two aggregate queries) is kept a few seconds in
    # the cache instead of being recomputed on every request.
    from django.core.cache import cache

    from mediation import markers

    _compute_version = markers._version
    _ttl = float(os.environ["BENCH_MARKERS_VERSION_TTL"])

    def _cached_version():
        version = cache.get("bench:markers:version")
        if version is None:
            version = _compute_version()
            cache.set("bench:markers:version", version, _ttl)
        return version

    markers._version = _cached_version
