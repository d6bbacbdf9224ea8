"""Speed of the partners' API and of the map markers, measured on loopback.

Three comparisons, each measured in one run on the same machine:

1. markers: `/carte/lieux.json` (every published structure, compact fields)
   against the very same bytes served as a static file by WhiteNoise, both by
   the same gunicorn workers, under wrk. Target: at least half the static
   file's requests/second.
2. list: `/api/v1/structures/?page_size=1000` (values() + one kinds query +
   orjson) against a plain `ModelSerializer` + `ListAPIView` over the same rows
   (benchmarks/api_bench_urls.py), under wrk. Target: at least 3×.
3. near: `/api/v1/structures/?near=lat,lon` over 100,000 synthetic structures,
   on SQLite and on PostgreSQL, timed in-process (the whole Django stack, no
   network) over 300 random points of the region. Target: p95 ≤ 20 ms.

    .venv/bin/python benchmarks/api_speed.py                 # everything
    .venv/bin/python benchmarks/api_speed.py markers list    # some of it
    .venv/bin/python benchmarks/api_speed.py --duration 20   # longer wrk runs

Needs wrk (Debian: `apt-get install wrk`), gunicorn (pinned in pyproject.toml)
and, for `near` on PostgreSQL, a server at BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/mediation_bench, created if missing). The
script installs nothing: it says what is missing and stops. Real data comes
from ../shared/data (census + national export) when present, else the demo.
"""

import argparse
import gzip
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared" / "data"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/mediation_bench"
)
SYNTHETIC_COUNT = 100_000


def fail(message):
    print(f"ERREUR : {message}", file=sys.stderr)
    sys.exit(2)


def require_tools(parts):
    missing = []
    if {"markers", "list"} & set(parts):
        if not shutil.which("wrk"):
            missing.append("wrk (Debian : apt-get install wrk)")
        if not (BIN / "gunicorn").exists():
            missing.append("gunicorn (make install)")
    if missing:
        fail("outils manquants : " + ", ".join(missing))


def django_env(database_url, **extra):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "GEOCODER": "off",
        "LOG_LEVEL": "WARNING",
        # The rate limits would answer 429 to a load test.
        "API_ANON_RATE": "100000000/s",
        "PYTHONPATH": f"{ROOT / 'benchmarks'}:{ROOT}",
        **extra,
    }


def manage(env, *args):
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_real_database(database_url):
    env = django_env(database_url, DEBUG="1")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_initial_data", "--no-demo")
    census = SHARED / "hub-lo" / "hub-lo.json"
    national = SHARED / "standard" / "conseillers-numeriques-cvl-2023-01.json"
    if census.exists():
        for path in (census, national):
            manage(env, "import_structures", str(path))
        return "recensement régional + export national (../shared/data)"
    manage(env, "loaddata", "fixtures/demo_structures.json")
    return "293 structures de démonstration (../shared/data absent)"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the benchmark site on loopback."""

    def __init__(self, database_url, static_root, workers, **extra_env):
        self.port = free_port()
        env = django_env(
            database_url,
            DJANGO_SETTINGS_MODULE="api_bench_settings",
            BENCH_STATIC_ROOT=str(static_root),
            **extra_env,
        )
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "api_bench_wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url("/api/v1/"), timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        fail("gunicorn n’a pas démarré")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, headers=None):
        request = urllib.request.Request(self.url(path), headers=headers or {})
        with urllib.request.urlopen(request) as response:
            return response.read(), dict(response.headers)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def wrk(url, *, duration, connections, headers=()):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    return {
        "rps": rate,
        "non_2xx": int(errors[1]) if errors else 0,
        "p99": p99[1] if p99 else "?",
    }


def bench_markers(server, static_root, args):
    gzipped, headers = server.get("/carte/lieux.json", {"Accept-Encoding": "gzip"})
    plain = gzip.decompress(gzipped) if headers.get("Content-Encoding") == "gzip" else gzipped
    (static_root / "lieux.json").write_bytes(plain)
    (static_root / "lieux.json.gz").write_bytes(gzipped)
    # WhiteNoise indexes its folder at start-up: the copies must exist first.
    return plain, gzipped


def run_markers_and_list(parts, args):
    database = Path(tempfile.mkdtemp(prefix="bench-api-")) / "bench.sqlite3"
    database_url = f"sqlite:///{database}"
    data = prepare_real_database(database_url)
    static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
    # A first server gives the markers' bytes; the measuring server then serves
    # those bytes as a static file next to the endpoint.
    server = Server(database_url, static_root, args.workers)
    try:
        plain, gzipped = bench_markers(server, static_root, args)
    finally:
        server.stop()
    server = Server(database_url, static_root, args.workers)
    results = {"données": data, "workers": args.workers}
    gz = ("Accept-Encoding: gzip",)
    try:
        count = json.loads(server.get("/api/v1/structures/?page_size=1")[0])["count"]
        results["structures publiées"] = count
        if "markers" in parts:
            endpoint = wrk(
                server.url("/carte/lieux.json"),
                duration=args.duration,
                connections=args.connections,
                headers=gz,
            )
            static = wrk(
                server.url("/bench-static/lieux.json"),
                duration=args.duration,
                connections=args.connections,
                headers=gz,
            )
            results["markers"] = {
                "octets (json, gzip)": [len(plain), len(gzipped)],
                "endpoint": endpoint,
                "fichier statique": static,
                "ratio": round(endpoint["rps"] / static["rps"], 2),
                "objectif": "≥ 0.5",
            }
        if "list" in parts:
            fast_body = server.get("/api/v1/structures/?page_size=1000")[0]
            plain_body = server.get("/bench/plain-structures/?page_size=1000")[0]
            assert json.loads(fast_body)["count"] == json.loads(plain_body)["count"] == count
            out = {}
            for label, headers in (("gzip", gz), ("sans compression", ())):
                fast = wrk(
                    server.url("/api/v1/structures/?page_size=1000"),
                    duration=args.duration,
                    connections=args.connections,
                    headers=headers,
                )
                baseline = wrk(
                    server.url("/bench/plain-structures/?page_size=1000"),
                    duration=args.duration,
                    connections=args.connections,
                    headers=headers,
                )
                out[label] = {
                    "api": fast,
                    "ModelSerializer + ListAPIView": baseline,
                    "ratio": round(fast["rps"] / baseline["rps"], 2),
                }
            results["liste complète"] = {
                "octets": [len(fast_body), len(plain_body)],
                **out,
                "objectif": "≥ 3",
            }
    finally:
        server.stop()
    return results


# --- near= over 100,000 synthetic structures ---------------------------------


def ensure_postgres_database(url):
    try:
        import psycopg
    except ImportError:
        fail("psycopg manquant (make install)")
    base, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        fail(f"PostgreSQL injoignable à {base} : {error}")


def run_near(args):
    results = {}
    targets = [("SQLite", f"sqlite:///{tempfile.gettempdir()}/mediation_bench_100k.sqlite3")]
    if not args.skip_postgres:
        ensure_postgres_database(POSTGRES_URL)
        targets.append(("PostgreSQL", POSTGRES_URL))
    for label, url in targets:
        env = django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_initial_data", "--no-demo")
        output = subprocess.run(
            [str(BIN / "python"), __file__, "--inner-near"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[label] = json.loads(output.strip().splitlines()[-1])
    return results


def synthetic_hours(rng):
    """Opening hours as places give them: 4 in 10 give none (as in the census),
    the others one of ≈ 150 weekly patterns."""
    if rng.random() < 0.4:
        return ""
    mornings = ("09:00-12:00", "08:30-12:30", "10:00-12:00", "")
    afternoons = ("14:00-17:00", "13:30-18:00", "14:00-18:30", "")
    times = (
        ",".join(t for t in (rng.choice(mornings), rng.choice(afternoons)) if t) or "14:00-17:00"
    )
    days = rng.choice(("Mo-Fr", "Tu-Sa", "Mo,We,Fr", "Tu-Fr", "Mo-Sa"))
    saturday = "; Sa 09:00-12:00" if rng.random() < 0.3 and "Sa" not in days else ""
    return f"{days} {times}{saturday}"


def empty_structures():
    """Every place gone, in a few statements: a benchmark's throw-away base, whose
    100,000 places Django would otherwise delete one by one, with history."""
    from django.db import connection

    from mediation.models import Stop, Structure

    tables = [
        Structure.kinds.through._meta.db_table,
        Stop._meta.db_table,
        Structure.history.model._meta.db_table,
        Structure._meta.db_table,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


# Itinerant places (a bus, a mediator on the road): one in `ITINERANT_EVERY`, with
# `STOPS_PER_ITINERANT` stops in communes around its own, each one morning a week.
# The map, the search near a point and "open now" read them as places.
ITINERANT_EVERY = 200
STOPS_PER_ITINERANT = 4


def add_synthetic_stops(rng, communes, ids):
    """Make one place in `ITINERANT_EVERY` of `ids` itinerant, with its stops."""
    from mediation import choices
    from mediation.models import Stop, Structure

    itinerant = ids[::ITINERANT_EVERY]
    homes = dict(Structure.objects.filter(pk__in=itinerant).values_list("pk", "commune_id"))
    by_code = {code: (lat, lon) for code, lat, lon, _ in communes}
    stops = []
    for pk in itinerant:
        lat, lon = by_code[homes[pk]]
        around = [c for c in communes if abs(c[1] - lat) < 0.25 and abs(c[2] - lon) < 0.35]
        for number, (code, stop_lat, stop_lon, _) in enumerate(
            rng.sample(around, min(STOPS_PER_ITINERANT, len(around)))
        ):
            day = ("Mo", "Tu", "We", "Th", "Fr", "Sa")[(pk + number) % 6]
            stops.append(
                Stop(
                    structure_id=pk,
                    place="Place de la mairie",
                    commune_id=code,
                    latitude=stop_lat + rng.uniform(-0.005, 0.005),
                    longitude=stop_lon + rng.uniform(-0.005, 0.005),
                    opening_hours=f"{day} 09:00-12:00",
                )
            )
    Stop.objects.bulk_create(stops, batch_size=5000)
    Structure.objects.filter(pk__in=itinerant).update(itinerance=[choices.Itinerance.ITINERANT])


def fill_synthetic(count=SYNTHETIC_COUNT):
    """Inside a Django process: `count` published synthetic places spread over the
    region's communes (kept when the table already holds exactly that many).
    Returns the communes as (code, latitude, longitude, postal_codes)."""
    from django.db import connection

    from mediation import choices
    from mediation.models import ServiceType, Stop, Structure, refresh_kind_ids
    from territories.models import Commune

    communes = list(Commune.objects.values_list("pk", "latitude", "longitude", "postal_codes"))
    rng = random.Random(2026)
    # Refilled when the table holds another number of places, or places from an
    # older version of this filler (without opening hours, without stops).
    if (
        Structure.objects.count() != count
        or not Structure.objects.exclude(opening_hours="").exists()
        or not Stop.objects.exists()
    ):
        empty_structures()
        kinds = list(ServiceType.objects.all())
        batch = []
        for i in range(count):
            code, lat, lon, postal_codes = rng.choice(communes)
            batch.append(
                Structure(
                    uid=f"synth-{i}",
                    slug=f"synth-{i}",
                    name=f"Lieu synthétique {i}",
                    address=f"{i} rue de la Gare",
                    postal_code=postal_codes[0] if postal_codes else "45000",
                    city="Commune",
                    code_insee=code,
                    commune_id=code,
                    latitude=lat + rng.uniform(-0.03, 0.03),
                    longitude=lon + rng.uniform(-0.04, 0.04),
                    status=choices.Status.PUBLISHED,
                    services=[choices.Service.DEMARCHES],
                    fees=[choices.Frais.GRATUIT],
                    opening_hours=synthetic_hours(rng),
                )
            )
            if len(batch) == 5000:
                Structure.objects.bulk_create(batch)
                batch = []
        Structure.objects.bulk_create(batch)
        through = Structure.kinds.through
        ids = list(Structure.objects.values_list("pk", flat=True))
        through.objects.bulk_create(
            [through(structure_id=pk, servicetype_id=rng.choice(kinds).pk) for pk in ids],
            batch_size=5000,
        )
        refresh_kind_ids()  # as the kinds' signals do, which bulk writes skip
        add_synthetic_stops(rng, communes, ids)
        with connection.cursor() as cursor:
            # Steady state, as autovacuum leaves a table after a bulk load: the
            # visibility map lets PostgreSQL answer from the index alone.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    elif connection.vendor == "sqlite":
        # Kept places, and perhaps an index a migration made since: SQLite has no
        # autovacuum to give it statistics, and without them its planner reads a
        # whole index for `status = 'published'` rather than a few rows by id.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return communes


def inner_near():
    """Runs inside a Django process (DATABASE_URL set): fill, then time `near=`."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from mediation.models import Structure

    communes = fill_synthetic()
    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(2027)  # the same points whether the table was just filled or not
    points = [
        (lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05))
        for _, lat, lon, _ in rng.sample(communes, 320)
    ]
    timings, counts, queries = [], [], []
    for i, (lat, lon) in enumerate(points):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/structures/", {"near": f"{lat:.5f},{lon:.5f}"})
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:200]
        if i >= 20:  # warm-up
            timings.append(elapsed)
            counts.append(response.json()["count"])
            queries.append(len(captured))
    timings.sort()
    print(
        json.dumps(
            {
                "structures": Structure.objects.count(),
                "requêtes mesurées": len(timings),
                "lieux dans le rayon (médiane)": statistics.median(counts),
                "requêtes SQL par appel": max(queries),
                "p50 ms": round(timings[len(timings) // 2], 2),
                "p95 ms": round(timings[int(len(timings) * 0.95)], 2),
                "max ms": round(timings[-1], 2),
                "objectif": "p95 ≤ 20 ms",
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help="markers, list, near (tout par défaut)")
    parser.add_argument("--duration", type=int, default=10, help="secondes par mesure wrk")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--inner-near", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner_near:
        inner_near()
        return
    parts = args.parts or ["markers", "list", "near"]
    unknown = set(parts) - {"markers", "list", "near"}
    if unknown:
        fail(f"mesures inconnues : {', '.join(sorted(unknown))} (markers, list, near)")
    require_tools(parts)
    results = {"machine": f"{os.cpu_count()} cœurs, {sys.version.split()[0]}"}
    if {"markers", "list"} & set(parts):
        results.update(run_markers_and_list(parts, args))
    if "near" in parts:
        results["near (100 000 structures)"] = run_near(args)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
