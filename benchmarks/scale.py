"""Every figure of issue 14 over 100,000 synthetic published places.

Fills a separate database with `api_speed.fill_synthetic()` (the project's own
filler: 100,000 published places around the region's communes), then measures
in-process (the whole Django stack, DEBUG off, no network):

- public search `/?q=<commune>`, `/?lat=…&lon=…`, `/?q=<commune>&service=demarches`:
  p50/p95 server time, HTML size plain and gzipped;
- API `near=` alone, with `type`, `service`, `bassin`, `public`, `gratuit`, and
  `bbox`: p50/p95 and SQL queries per request;
- `/carte/lieux.json` by view: a 1280 × 800 map around the communes at zooms 6
  to 14, with and without filters, the server's cache cold and warm: p50/p95,
  size plain and gzipped;
- exports (standard CSV and JSON, GeoJSON): time, bytes, peak memory (the
  process's resident memory sampled every 20 ms, above what it held before);
- duplicates detection (`duplicates.probable_duplicates()`): time and pairs.

    .venv/bin/python benchmarks/scale.py                  # SQLite (/tmp)
    .venv/bin/python benchmarks/scale.py --postgres       # PostgreSQL mediation_scale
    .venv/bin/python benchmarks/scale.py --only api pages # some parts
    .venv/bin/python benchmarks/scale.py --points 30      # fewer requests per path
    .venv/bin/python benchmarks/scale.py --database-url sqlite:////tmp/mine.sqlite3

SCALE_SQLITE_URL and SCALE_POSTGRES_URL choose other databases (one per person
on a shared machine).

CPU heavy: the first run fills the table (≈ 1 to 3 minutes), later runs reuse it.
"""

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_speed  # the filler and the environment helpers

PARTS = ("pages", "api", "markers", "exports", "duplicates")
# Each engineer (or CI job) may point at its own database: the fill is kept
# (SCALE_SQLITE_URL / SCALE_POSTGRES_URL or --database-url).
SQLITE_URL = os.environ.get(
    "SCALE_SQLITE_URL", f"sqlite:///{tempfile.gettempdir()}/mediation_scale_100k.sqlite3"
)
POSTGRES_URL = os.environ.get(
    "SCALE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/mediation_scale"
)


def percentiles(timings):
    timings = sorted(timings)
    return {
        "p50 ms": round(timings[len(timings) // 2], 1),
        "p95 ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 1),
    }


class PeakRSS:
    """The process's resident memory, sampled in a thread: peak above the start."""

    def __init__(self, every=0.02):
        self.every = every

    @staticmethod
    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.rss())

    def __enter__(self):
        self.start = self.peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def megabytes(self):
        return round((self.peak - self.start) / 2**20, 1)


def body_size(response):
    """Bytes of a response, read piece by piece when it streams (never held whole)."""
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def inner(parts, points):
    import django

    django.setup()
    from django.db import connection
    from django.template.base import Template
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, _TestState, setup_test_environment

    from mediation import duplicates
    from mediation.models import Structure
    from territories.models import BassinDeVie, Commune

    setup_test_environment(debug=False)  # DEBUG off, as in production
    # ...but without the test client's template instrumentation: it copies every
    # template's context for assertions, which no production request pays.
    Template._render = _TestState.saved_data.template_render
    started = time.perf_counter()
    api_speed.fill_synthetic()
    results = {
        "base": connection.vendor,
        "lieux publiés": Structure.objects.published().count(),
        "remplissage s": round(time.perf_counter() - started, 1),
    }
    rng = random.Random(2028)
    sample = rng.sample(
        list(
            Commune.objects.filter(structures__isnull=False)
            .distinct()
            .values_list("name", "latitude", "longitude", "bassin__slug")
        ),
        points,
    )
    client = Client(HTTP_HOST="127.0.0.1")

    def timed(path, params, warmup=3, before=None):
        timings, cpu_timings, sizes, queries = [], [], [], []
        for i, query in enumerate(params):
            if before:
                before()
            with CaptureQueriesContext(connection) as captured:
                start, cpu = time.perf_counter(), time.process_time()
                response = client.get(path, query)
                if response.streaming:
                    content = b"".join(response.streaming_content)
                else:
                    content = response.content
                elapsed = (time.perf_counter() - start) * 1000
                # The machine is shared: the process's own CPU time (Django and
                # SQLite run in it) says what a request costs when others wait.
                cpu = (time.process_time() - cpu) * 1000
            assert response.status_code == 200, (path, query, response.status_code, content[:300])
            if i >= warmup:
                timings.append(elapsed)
                cpu_timings.append(cpu)
                sizes.append((len(content), len(gzip.compress(content, 6))))
                queries.append(len(captured))
        sizes.sort()
        middle = sizes[len(sizes) // 2]
        cpu_figures = percentiles(cpu_timings)
        return {
            **percentiles(timings),
            "p50 ms CPU": cpu_figures["p50 ms"],
            "p95 ms CPU": cpu_figures["p95 ms"],
            "Ko (médiane)": round(middle[0] / 1000, 1),
            "Ko gzip (médiane)": round(middle[1] / 1000, 1),
            "requêtes SQL (max)": max(queries),
        }

    def jitter(lat, lon):
        return lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.02, 0.02)

    if "pages" in parts:
        results["recherche publique"] = {
            "/?q=<commune>": timed("/", [{"q": name} for name, *_ in sample]),
            "/?lat&lon": timed(
                "/",
                [
                    dict(zip(("lat", "lon"), map("{:.5f}".format, jitter(lat, lon)), strict=True))
                    for _, lat, lon, _ in sample
                ],
            ),
            "/?q=<commune>&service=demarches": timed(
                "/", [{"q": name, "service": "demarches"} for name, *_ in sample]
            ),
            "/?q=<commune>&type=mediatheque": timed(
                "/", [{"q": name, "type": "mediatheque"} for name, *_ in sample]
            ),
            "/?lat&lon&service=demarches&free": timed(
                "/",
                [
                    {"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "service": "demarches", "free": "on"}
                    for _, lat, lon, _ in sample
                ],
            ),
        }
    progress(results)
    if "api" in parts:
        near = [{"near": "{:.5f},{:.5f}".format(*jitter(lat, lon))} for _, lat, lon, _ in sample]
        bassins = list(BassinDeVie.objects.values_list("slug", flat=True))
        variants = {
            "near": {},
            "near&type": {"type": "espace-public-numerique"},
            "near&service": {"service": "Aide aux démarches administratives"},
            "near&bassin": None,  # the bassin of the point's commune
            "near&public": {"public": "Seniors"},
            "near&gratuit": {"gratuit": "true"},
        }
        api = {}
        for label, extra in variants.items():
            params = [
                p | (extra if extra is not None else {"bassin": s[3] or bassins[0]})
                for p, s in zip(near, sample, strict=True)
            ]
            api[label] = timed("/api/v1/structures/", params)
        api["bbox"] = timed(
            "/api/v1/structures/",
            [
                {"bbox": f"{lon - 0.1:.4f},{lat - 0.07:.4f},{lon + 0.1:.4f},{lat + 0.07:.4f}"}
                for _, lat, lon, _ in sample
            ],
        )
        results["API"] = api
    progress(results)
    if "markers" in parts:
        results["carte /carte/lieux.json"] = markers_figures(timed, sample, rng)
    progress(results)
    if "exports" in parts:
        exports = {}
        for label, path in (
            ("CSV standard", "/api/v1/lieux-mediation-numerique.csv"),
            ("JSON standard", "/api/v1/lieux-mediation-numerique.json"),
            ("GeoJSON", "/api/v1/structures/geojson/"),
        ):
            with PeakRSS() as memory:
                start, cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                size = body_size(response)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert response.status_code == 200, (path, response.status_code)
            exports[label] = {
                "s": round(elapsed, 1),
                # The machine is shared: the process's own CPU time says more.
                "s CPU": round(cpu, 1),
                "Mo": round(size / 2**20, 1),
                "pic mémoire Mo (au-dessus du départ)": memory.megabytes,
                "en flux": response.streaming,
            }
        results["exports"] = exports
    progress(results)
    if "duplicates" in parts:
        start, cpu = time.perf_counter(), time.process_time()
        pairs = duplicates.probable_duplicates()
        results["doublons"] = {
            "s": round(time.perf_counter() - start, 1),
            "s CPU": round(time.process_time() - cpu, 1),
            "paires": len(pairs),
            "objectif": "≤ 60 s",
        }
    print(json.dumps(results, ensure_ascii=False))


# What a 1280 × 800 px map shows at each zoom, around a commune.
VIEW_PX = (1280, 800)
MARKER_ZOOMS = (6, 8, 10, 12, 14)


def view_box(lat, lon, zoom):
    """(west, south, east, north) of a `VIEW_PX` map centred on the point."""
    import math

    degrees_per_px = 360 / (256 * 2**zoom)
    half_lon = VIEW_PX[0] / 2 * degrees_per_px
    half_lat = VIEW_PX[1] / 2 * degrees_per_px * math.cos(math.radians(lat))
    return lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat


def markers_figures(timed, sample, rng):
    """The markers by view: at each zoom, around the sample's communes, with and
    without the search's filters; `froid`: the server's cache emptied before each
    request (every answer computed), `chaud`: the same URLs again."""
    from django.core.cache import cache

    from mediation import markers
    from mediation.versioning import structures_version

    size = markers.directory_size(structures_version()[0])
    figures = {
        "marqueurs dans l’annuaire": size,
        "un seul fichier (petit annuaire)": size <= markers.MAX_POINTS,
        "pins par réponse au plus": markers.MAX_POINTS,
    }
    cold = cache.clear
    for zoom in MARKER_ZOOMS:
        views = []
        for _, lat, lon, _ in sample:
            west, south, east, north = view_box(
                lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05), zoom
            )
            views.append({"bbox": f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}", "zoom": zoom})
        figures[f"zoom {zoom}"] = {
            "froid": timed("/carte/lieux.json", views, before=cold),
            "chaud": timed("/carte/lieux.json", views),
            "froid service=demarches": timed(
                "/carte/lieux.json", [v | {"service": "demarches"} for v in views], before=cold
            ),
            "froid type=mediatheque": timed(
                "/carte/lieux.json", [v | {"type": "mediatheque"} for v in views], before=cold
            ),
        }
    figures["sans cadre (le monde, zoom 6)"] = timed("/carte/lieux.json", [{}] * 8, before=cold)
    return figures


def progress(results):
    """The figures so far, on stderr: a long run shows what it measured as it goes."""
    print(json.dumps(results, ensure_ascii=False), file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL plutôt que SQLite")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--points", type=int, default=55, help="communes tirées par mesure")
    parser.add_argument(
        "--database-url",
        help="base à remplir et mesurer (sinon SCALE_SQLITE_URL / SCALE_POSTGRES_URL)",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.only, args.points)
        return
    url = args.database_url or (POSTGRES_URL if args.postgres else SQLITE_URL)
    if url.startswith("postgres"):
        api_speed.ensure_postgres_database(url)
    # DEBUG=1 only for the static files' storage (no collectstatic); the measure
    # itself runs with DEBUG off.
    env = api_speed.django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1")
    api_speed.manage(env, "migrate", "--noinput", "-v0")
    api_speed.manage(env, "load_initial_data", "--no-demo")
    output = subprocess.run(
        [sys.executable, __file__, "--inner", "--points", str(args.points), "--only", *args.only],
        cwd=api_speed.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    if output.returncode:
        api_speed.fail("la mesure a échoué")
    results = json.loads(output.stdout.strip().splitlines()[-1])
    results["machine"] = f"{os.cpu_count()} cœurs, {sys.version.split()[0]}"
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
