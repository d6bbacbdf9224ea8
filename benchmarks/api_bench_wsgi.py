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
