"""Settings of the benchmark server: production settings, plus the baseline URLs.

Used only by benchmarks/api_speed.py (DJANGO_SETTINGS_MODULE=api_bench_settings
with benchmarks/ on the path).
"""

from mediation.settings import *  # noqa: F403

ROOT_URLCONF = "api_bench_urls"
WSGI_APPLICATION = "api_bench_wsgi.application"
