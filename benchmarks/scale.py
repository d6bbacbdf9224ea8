"""Every figure of issue 14 over 100,000 synthetic published places.

Fills a separate database with `api_speed.fill_synthetic()` (the project's own
filler: 100,000 published places around the region's communes, one in 200
itinerant with 4 stops, and 6 in 10 with opening hours), then measures
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
- duplicates detection (`duplicates.probable_duplicates()`): time and pairs;
- import (`--only import`, a database of its own, emptied first): a generated
  100,000-row national-standard CSV (the region's communes, 5 % of rows
  elsewhere in France) imported twice — the second run changes nothing — then
  a national file where 90 % of the places are outside the region: time, CPU
  time, peak memory, the report's counts, history rows written.

    .venv/bin/python benchmarks/scale.py                  # SQLite (/tmp)
    .venv/bin/python benchmarks/scale.py --postgres       # PostgreSQL mediation_scale
    .venv/bin/python benchmarks/scale.py --only api pages # some parts
    .venv/bin/python benchmarks/scale.py --points 30      # fewer requests per path
    .venv/bin/python benchmarks/scale.py --runs 3         # median of 3 runs, each beside it
    .venv/bin/python benchmarks/scale.py --database-url sqlite:////tmp/mine.sqlite3
    .venv/bin/python benchmarks/scale.py --only import --rows 5000 --profile  # import, cProfile

SCALE_SQLITE_URL and SCALE_POSTGRES_URL choose other databases (one per person
on a shared machine). The import part is run only when named (`--only import`);
it empties its database first: SQLite, a file in a new temporary folder (removed
at the end) unless SCALE_SQLITE_IMPORT_URL; PostgreSQL, SCALE_POSTGRES_IMPORT_URL
(default mediation_scale_import).

CPU heavy: the first run fills the table (≈ 1 to 3 minutes), later runs reuse it.
"""

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_speed  # the filler and the environment helpers

PARTS = ("pages", "api", "markers", "exports", "duplicates", "import")
# The import part (minutes of CPU, a database emptied first) runs only when asked.
DEFAULT_PARTS = [part for part in PARTS if part != "import"]
# Each engineer (or CI job) may point at its own database: the fill is kept
# (SCALE_SQLITE_URL / SCALE_POSTGRES_URL or --database-url).
SQLITE_URL = os.environ.get(
    "SCALE_SQLITE_URL", f"sqlite:///{tempfile.gettempdir()}/mediation_scale_100k.sqlite3"
)
POSTGRES_URL = os.environ.get(
    "SCALE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/mediation_scale"
)
# The import part starts from an empty directory: a database of its own, for SQLite
# a file in a folder of this run's own (nobody else's run can empty it).
SQLITE_IMPORT_URL = os.environ.get("SCALE_SQLITE_IMPORT_URL")
POSTGRES_IMPORT_URL = os.environ.get(
    "SCALE_POSTGRES_IMPORT_URL", "postgres://postgres@127.0.0.1:5432/mediation_scale_import"
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
    # Hours are read as on a Tuesday at 10:30 in France, whatever the time of the
    # measure: at night nothing is open, and "open now" would find nothing.
    from mediation import opening_hours

    measured_at, real_local_now = datetime(2026, 12, 1, 10, 30), opening_hours.local_now
    opening_hours.local_now = lambda now=None: real_local_now(now) if now else measured_at
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

    def per_point(path, params, moved, times=3):
        """p50/p95 over the points of each point's median of `times` calls, each
        `moved(params, k)` (a metre away: no kept answer serves it, the same
        places answer): one call slowed by the shared machine does not decide
        the p95; a point slow by itself still does."""
        medians = []
        for query in params:
            timings = []
            for k in range(1, times + 1):
                start = time.perf_counter()
                response = client.get(path, moved(query, k))
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, query, response.status_code)
            medians.append(sorted(timings)[len(timings) // 2])
        figures = percentiles(medians)
        return {
            f"{key}, médiane de {times} appels par point": value for key, value in figures.items()
        }

    def moved_near(query, k):
        lat, lon = map(float, query["near"].split(","))
        return query | {"near": f"{lat + k * 1e-5:.5f},{lon:.5f}"}

    def moved_bbox(query, k):
        west, south, east, north = map(float, query["bbox"].split(","))
        shift = k * 1e-4
        return query | {"bbox": f"{west + shift:.4f},{south:.4f},{east + shift:.4f},{north:.4f}"}

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
            "/?q=<commune>&open_now": timed(
                "/", [{"q": name, "open_now": "on"} for name, *_ in sample]
            ),
            "/?lat&lon&saturday": timed(
                "/",
                [
                    {"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "saturday": "on"}
                    for _, lat, lon, _ in sample
                ],
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
            api[label].update(per_point("/api/v1/structures/", params, moved_near))
        boxes = [
            {"bbox": f"{lon - 0.1:.4f},{lat - 0.07:.4f},{lon + 0.1:.4f},{lat + 0.07:.4f}"}
            for _, lat, lon, _ in sample
        ]
        api["bbox"] = timed("/api/v1/structures/", boxes)
        api["bbox"].update(per_point("/api/v1/structures/", boxes, moved_bbox))
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
    without the search's filters. `après un changement`: before each request, a
    person's edit of one place, saved and committed (its services change: the
    data version moves, the grids are carried over, `markers.prepare()`; the
    writer pays that, timed apart); `après un import`: the version moved by a
    write that did not say what it changed (a bulk import): every grid is built
    anew; `froid`: the shared cache emptied before each request (a cache lost:
    the grids this process kept serve); `froid, processus neuf`: the process's
    grids emptied too (a server just started while the cache was lost: the grids
    the last change prepared are read from the database); `vues nouvelles`: views
    not asked before, in the same data version; then the same URLs again."""
    from django.core.cache import cache
    from django.test import override_settings

    from mediation import choices, markers
    from mediation.models import Structure
    from mediation.versioning import move_version, structures_version

    size = markers.directory_size(structures_version()[0])
    figures = {
        "marqueurs dans l’annuaire": size,
        "un seul fichier (petit annuaire)": size <= markers.MAX_POINTS,
        "pins par réponse au plus": markers.VIEW_MAX_PINS,
    }
    cold = cache.clear

    def new_process():
        cache.clear()
        markers._local_grids.clear()
        markers._size = (None, 0)

    edited = list(Structure.objects.published().values_list("pk", flat=True)[::997])

    @override_settings(COVERAGE_ON_COMMIT=False)  # the communes' distances: not the map's
    def a_change():
        """A person's edit: one place's services, saved (one committed transaction)."""
        place = Structure.objects.get(pk=rng.choice(edited))
        place.services = sorted(set(place.services) ^ {choices.Service.DEMARCHES})
        place.save()

    writes, writes_cpu = [], []
    for _ in range(10):
        start, cpu = time.perf_counter(), time.process_time()
        a_change()
        writes.append((time.perf_counter() - start) * 1000)
        writes_cpu.append((time.process_time() - cpu) * 1000)
    figures["un changement enregistré (l’écriture, grilles préparées comprises)"] = {
        **percentiles(writes),
        "p50 ms CPU": percentiles(writes_cpu)["p50 ms"],
    }
    writes = []
    for _ in range(5):
        start = time.perf_counter()
        move_version()  # an import: anything may have changed
        writes.append((time.perf_counter() - start) * 1000)
    figures["préparation après un import (payée par l’import)"] = percentiles(writes)

    def views_at(zoom):
        views = []
        for _, lat, lon, _ in sample:
            west, south, east, north = view_box(
                lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05), zoom
            )
            views.append({"bbox": f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}", "zoom": zoom})
        return views

    for zoom in MARKER_ZOOMS:
        views, others = views_at(zoom), views_at(zoom)
        demarches = [v | {"service": "demarches"} for v in views]
        figures[f"zoom {zoom}"] = {
            "après un changement": timed("/carte/lieux.json", views, before=a_change),
            "après un changement service=demarches": timed(
                "/carte/lieux.json", demarches, before=a_change
            ),
            "après un changement type=mediatheque": timed(
                "/carte/lieux.json",
                [v | {"type": "mediatheque"} for v in views],
                before=a_change,
            ),
            "après un import service=demarches": timed(
                "/carte/lieux.json", demarches, before=move_version
            ),
            "froid (cache vidé à chaque appel)": timed("/carte/lieux.json", views, before=cold),
            "froid service=demarches": timed(
                "/carte/lieux.json", [v | {"service": "demarches"} for v in views], before=cold
            ),
            "froid type=mediatheque": timed(
                "/carte/lieux.json", [v | {"type": "mediatheque"} for v in views], before=cold
            ),
            "froid, processus neuf": timed("/carte/lieux.json", views, before=new_process),
            "froid, processus neuf, service=demarches": timed(
                "/carte/lieux.json", demarches, before=new_process
            ),
        }
        # Other visitors: the same data version, views not asked before.
        timed("/carte/lieux.json", views, warmup=len(views) - 1)
        figures[f"zoom {zoom}"]["vues nouvelles (même version)"] = timed(
            "/carte/lieux.json", others
        )
        figures[f"zoom {zoom}"]["vues déjà demandées"] = timed("/carte/lieux.json", others)
    figures["sans cadre (le monde, zoom 6)"] = timed("/carte/lieux.json", [{}] * 8, before=cold)
    return figures


# Places elsewhere in France: (code INSEE, postal code, name, latitude, longitude).
ELSEWHERE = (
    ("75056", "75011", "Paris", 48.8589, 2.3470),
    ("69123", "69003", "Lyon", 45.7580, 4.8351),
    ("13055", "13001", "Marseille", 43.2962, 5.3700),
    ("31555", "31000", "Toulouse", 43.6045, 1.4440),
    ("59350", "59000", "Lille", 50.6292, 3.0573),
    ("33063", "33000", "Bordeaux", 44.8378, -0.5792),
    ("35238", "35000", "Rennes", 48.1173, -1.6778),
    ("67482", "67000", "Strasbourg", 48.5734, 7.7521),
)


def write_standard_csv(path, rows, *, outside, prefix="lieu", seed=2029):
    """A national-standard 1.0.2 CSV of `rows` places: the region's communes, and a
    share `outside` of places elsewhere in France. Every row is valid."""
    import csv

    from mediation import choices, standard
    from territories.models import Commune

    rng = random.Random(seed)
    communes = list(
        Commune.objects.values_list("code_insee", "postal_codes", "name", "latitude", "longitude")
    )
    services = [value for value, _ in choices.Service.choices]
    publics = [value for value, _ in choices.Public.choices]
    fees = [value for value, _ in choices.Frais.choices]
    programmes = [choices.Dispositif.CONSEILLERS_NUMERIQUES, choices.Dispositif.FRANCE_SERVICES]
    names = ("Espace public numérique", "Médiathèque", "France services", "Tiers-lieu", "Mairie")
    streets = ("rue de la République", "place du Marché", "avenue de la Gare", "rue Victor Hugo")
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(standard.NAMES)
        for i in range(rows):
            if rng.random() < outside:
                code, postal_code, city, lat, lon = rng.choice(ELSEWHERE)
            else:
                code, postal_codes, city, lat, lon = rng.choice(communes)
                postal_code = postal_codes[0] if postal_codes else ""
            cells = {
                "id": f"{prefix}-{i}",
                "pivot": f"{rng.randrange(10**13, 10**14)}",
                "nom": f"{rng.choice(names)} {city} {i}",
                "commune": city,
                "code_postal": postal_code,
                "code_insee": code,
                "adresse": f"{rng.randrange(1, 200)} {rng.choice(streets)}",
                "complement_adresse": "",
                "latitude": f"{lat + rng.uniform(-0.02, 0.02):.5f}",
                "longitude": f"{lon + rng.uniform(-0.03, 0.03):.5f}",
                "typologie": "COMMUNE" if i % 3 else "ASSO",
                "telephone": f"+332{rng.randrange(10**7, 10**8)}",
                "courriels": f"contact{i}@exemple.fr",
                "site_web": f"https://lieu{i}.exemple.fr",
                "horaires": "Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00",
                "presentation_resume": "Accompagnement au numérique pour tous les publics.",
                "presentation_detail": "",
                "source": "Cartographie nationale (banc d’essai)",
                "itinerance": "Fixe",
                "structure_parente": "",
                "date_maj": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "services": "|".join(rng.sample(services, 3)),
                "publics_specifiquement_adresses": "|".join(rng.sample(publics, 1)),
                "prise_en_charge_specifique": "",
                "frais_a_charge": rng.choice(fees),
                "dispositif_programmes_nationaux": rng.choice(programmes) if i % 4 == 0 else "",
                "formations_labels": "",
                "autres_formations_labels": "",
                "modalites_acces": "Se présenter",
                "modalites_accompagnement": "Accompagnement individuel",
                "fiche_acces_libre": "",
                "prise_rdv": "",
            }
            writer.writerow([cells[name] for name in standard.NAMES])


def inner_import(rows, profile):
    """Import a generated file twice, then a mostly national one (in a database of its own)."""
    import cProfile
    import pstats

    import django

    django.setup()
    from mediation.importers import Outcome, run_import
    from mediation.models import Structure

    history = Structure.history.model.objects
    folder = Path(tempfile.mkdtemp(prefix="scale-import-"))
    regional, national = folder / "regional.csv", folder / "national.csv"
    write_standard_csv(regional, rows, outside=0.05)
    write_standard_csv(national, rows, outside=0.9, prefix="national", seed=2030)
    results = {"lignes": rows, "base": django.db.connection.vendor}

    def timed(label, path):
        before = history.count()
        profiler = cProfile.Profile() if profile else None
        with PeakRSS() as memory:
            start, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            report = run_import(path, source="", replace_demo=True)
            if profiler:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler:
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(45)
        results[label] = {
            "s": round(elapsed, 1),
            "s CPU": round(cpu, 1),
            "pic mémoire Mo (au-dessus du départ)": memory.megabytes,
            "pic mémoire Mo (processus)": round(memory.peak / 2**20, 1),
            **{o: report.count(o) for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)},
            Outcome.REJECTED: report.count(Outcome.REJECTED),
            "historique (lignes écrites)": history.count() - before,
        }
        progress(results)

    timed("premier import (objectif ≤ 300 s, ≤ 1 Go)", regional)
    timed("second import, rien de changé (objectif ≤ 120 s)", regional)
    timed("fichier national, 90 % hors région", national)
    shutil.rmtree(folder)
    print(json.dumps(results, ensure_ascii=False))


def reset_import_database(url):
    """An empty database for the import part (SQLite file removed, PostgreSQL recreated)."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_import_part(args):
    url = POSTGRES_IMPORT_URL if args.postgres else SQLITE_IMPORT_URL
    folder = None
    if url is None:
        folder = tempfile.mkdtemp(prefix="scale-import-db-")
        url = f"sqlite:///{folder}/import.sqlite3"
    reset_import_database(url)
    # DEBUG off: Django would keep every SQL query in memory.
    env = api_speed.django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings")
    api_speed.manage(env, "migrate", "--noinput", "-v0")
    api_speed.manage(env, "load_initial_data", "--no-demo")
    command = [sys.executable, __file__, "--inner-import", "--rows", str(args.rows)]
    output = subprocess.run(
        command + (["--profile"] if args.profile else []),
        cwd=api_speed.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    if folder:
        shutil.rmtree(folder)
    if output.returncode:
        api_speed.fail("la mesure de l’import a échoué")
    return json.loads(output.stdout.strip().splitlines()[-1])


def progress(results):
    """The figures so far, on stderr: a long run shows what it measured as it goes."""
    print(json.dumps(results, ensure_ascii=False), file=sys.stderr, flush=True)


def cpu_reference_ms():
    """The time of a fixed loop of pure Python: how fast the machine runs now. A
    shared virtual machine's speed varies (seen here: 370 to 660 ms for the same
    loop within a minute), and every figure of a run moves with it."""
    start, total = time.perf_counter(), 0
    for i in range(1_000_000):
        total += i * i
    return round((time.perf_counter() - start) * 1000)


def merged(runs):
    """One run's figures, or for several: each p50/p95 the median of the runs',
    with every run's value beside it (`… par passe`); other values from the first."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    if not isinstance(first, dict):
        return first
    result = {}
    for key, value in first.items():
        values = [run.get(key) for run in runs if isinstance(run, dict)]
        if " ms" in key and all(isinstance(v, int | float) for v in values):
            result[key] = round(sorted(values)[len(values) // 2], 1)
            result[f"{key} par passe"] = values
        elif isinstance(value, dict):
            result[key] = merged([v for v in values if isinstance(v, dict)])
        else:
            result[key] = value if key != "étalon CPU ms (avant, après)" else values
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL plutôt que SQLite")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=DEFAULT_PARTS)
    parser.add_argument("--points", type=int, default=55, help="communes tirées par mesure")
    parser.add_argument(
        "--database-url",
        help="base à remplir et mesurer (sinon SCALE_SQLITE_URL / SCALE_POSTGRES_URL)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="mesures répétées (processus neufs) : médiane de chaque p50/p95, et chaque passe",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="lignes du fichier importé")
    parser.add_argument("--profile", action="store_true", help="cProfile des imports (stderr)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inner-import", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.only, args.points)
        return
    if args.inner_import:
        inner_import(args.rows, args.profile)
        return
    imported = run_import_part(args) if "import" in args.only else None
    args.only = [part for part in args.only if part != "import"]
    if not args.only:
        imported["machine"] = f"{os.cpu_count()} cœurs, {sys.version.split()[0]}"
        print(json.dumps(imported, ensure_ascii=False, indent=2))
        return
    url = args.database_url or (POSTGRES_URL if args.postgres else SQLITE_URL)
    if url.startswith("postgres"):
        api_speed.ensure_postgres_database(url)
    # DEBUG=1 only for the static files' storage (no collectstatic); the measure
    # itself runs with DEBUG off.
    env = api_speed.django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1")
    api_speed.manage(env, "migrate", "--noinput", "-v0")
    api_speed.manage(env, "load_initial_data", "--no-demo")
    runs = []
    for _ in range(args.runs):
        reference = cpu_reference_ms()
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--inner",
                "--points",
                str(args.points),
                "--only",
                *args.only,
            ],
            cwd=api_speed.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        if output.returncode:
            api_speed.fail("la mesure a échoué")
        run = json.loads(output.stdout.strip().splitlines()[-1])
        run["étalon CPU ms (avant, après)"] = [reference, cpu_reference_ms()]
        runs.append(run)
    results = merged(runs)
    if imported is not None:
        results["import"] = imported
    results["machine"] = f"{os.cpu_count()} cœurs, {sys.version.split()[0]}"
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
