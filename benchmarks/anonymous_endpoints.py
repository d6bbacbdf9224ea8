"""Server time of every anonymous endpoint at its maximum page size.

No anonymous request may be expensive: each endpoint a visitor or a partner can
call without an account is timed in-process (the whole Django stack: middleware,
view, rendering; no network), `--repeat` times after a warm-up, on the real data
(census + national export from ../shared/data) in a throw-away SQLite file, or
on PostgreSQL with --postgres. Target: p95 ≤ 50 ms for each.

    .venv/bin/python benchmarks/anonymous_endpoints.py
    .venv/bin/python benchmarks/anonymous_endpoints.py --postgres --repeat 40

Conditional requests are not used: every call gets the full answer, as for a
first visit. By default the answers kept per data version are used, as between
two changes of the directory (mediation/response_cache.py); `--cold` moves the
data version before each call, so that every call computes its answer, as the
first visitor after a change does. The rate limits are lifted for the measure.

    .venv/bin/python benchmarks/anonymous_endpoints.py --cold

`--only WORD…` measures the endpoints whose label holds one of the words:

    .venv/bin/python benchmarks/anonymous_endpoints.py --only recherche
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_speed import (  # noqa: E402
    POSTGRES_URL,
    django_env,
    ensure_postgres_database,
    manage,
    prepare_real_database,
)

TARGET_MS = 50


def endpoints():
    """(label, path) of every anonymous endpoint, at its maximum page size."""
    from mediation.models import ServiceType, Structure
    from territories.models import BassinDeVie, Commune, Department

    place = Structure.objects.published().order_by("pk").first()
    bassin = BassinDeVie.objects.order_by("slug").first()
    department = Department.objects.order_by("pk").first()
    kind = ServiceType.objects.order_by("pk").first()
    commune = Commune.objects.get(pk="37261")  # Tours
    near = f"{commune.latitude},{commune.longitude}"
    return [
        ("accueil", "/"),
        ("recherche commune", "/?q=Tours"),
        ("recherche adresse (table des communes)", "/?q=12+rue+Nationale+Tours"),
        ("recherche autour de moi", f"/?lat={commune.latitude}&lon={commune.longitude}"),
        ("fiche d’un lieu", place.get_absolute_url()),
        ("types", "/types/"),
        ("un type", kind.get_absolute_url()),
        ("bassins", "/territoires/bassins/"),
        ("un bassin", bassin.get_absolute_url()),
        ("un département", department.get_absolute_url()),
        ("contours des bassins", "/territoires/bassins.geojson"),
        ("suggestions de communes", "/territoires/communes/suggestions.json?q=sai"),
        ("carte : tous les lieux", "/carte/lieux.json"),
        ("accessibilité", "/accessibilite/"),
        ("mentions légales", "/mentions-legales/"),
        ("healthz", "/healthz"),
        ("API lieux page_size=1000", "/api/v1/structures/?page_size=1000"),
        ("API lieux near page_size=1000", f"/api/v1/structures/?near={near}&page_size=1000"),
        ("API lieux q=", "/api/v1/structures/?q=mediatheque&page_size=1000"),
        ("API un lieu", f"/api/v1/structures/{place.uid}/"),
        ("API GeoJSON", "/api/v1/structures/geojson/"),
        ("API export CSV", "/api/v1/lieux-mediation-numerique.csv"),
        ("API export JSON", "/api/v1/lieux-mediation-numerique.json"),
        ("API types", "/api/v1/types/"),
        ("API bassins", "/api/v1/bassins/"),
        ("API communes page_size=1000", "/api/v1/communes/?page_size=1000"),
        ("API une commune", "/api/v1/communes/37261/"),
        ("API schéma OpenAPI", "/api/v1/schema/"),
        ("API documentation", "/api/v1/documentation/"),
    ]


def inner(repeat, cold, only):
    import django

    django.setup()
    from django.template.base import Template
    from django.test import Client
    from django.test.utils import _TestState, setup_test_environment

    from mediation.versioning import move_version

    setup_test_environment(debug=False)  # DEBUG off, as in production
    # ...but without the test client's template instrumentation: it copies every
    # template's context for assertions, which no production request pays.
    Template._render = _TestState.saved_data.template_render

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_ENCODING="gzip")
    results = []
    for label, path in endpoints():
        if only and not any(word in label for word in only):
            continue
        for _ in range(3):  # warm-up: templates, caches of the process
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        timings, cpu_timings = [], []
        for _ in range(repeat):
            if cold:
                move_version()  # outside the measure: what a committed change does
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            if response.streaming:
                b"".join(response.streaming_content)
            timings.append((time.perf_counter() - start) * 1000)
            # The machine may be shared: the process's own CPU time (Django and
            # SQLite run in it) says what a call costs when others wait.
            cpu_timings.append((time.process_time() - cpu) * 1000)
        timings.sort()
        cpu_timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        results.append(
            {
                "endpoint": label,
                "path": path,
                "p50 ms": round(timings[len(timings) // 2], 1),
                "p95 ms": round(p95, 1),
                "p50 ms CPU": round(cpu_timings[len(cpu_timings) // 2], 1),
                "p95 ms CPU": round(cpu_timings[min(len(cpu_timings) - 1, int(repeat * 0.95))], 1),
                "octets": len(response.content) if not response.streaming else None,
                "ok": p95 <= TARGET_MS,
            }
        )
    print("RESULTS=" + json.dumps(results, ensure_ascii=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="move the data version before each call (no copy)"
    )
    parser.add_argument("--database", help="a DATABASE_URL already filled (skips the import)")
    parser.add_argument("--only", nargs="+", default=[], help="labels holding one of these words")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.repeat, args.cold, args.only)
        return
    if args.database:
        url, data = args.database, "base fournie"
    else:
        if args.postgres:
            url = POSTGRES_URL
            ensure_postgres_database(url)
        else:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-anon-')}/bench.sqlite3"
        data = prepare_real_database(url)
    # DEBUG=1 only for the static files' storage (no collectstatic); the measure
    # itself runs with DEBUG off.
    env = django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1")
    if args.database:
        manage(env, "migrate", "--noinput", "-v0")  # a base filled by an older version
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--inner",
            "--repeat",
            str(args.repeat),
            *(["--cold"] if args.cold else []),
            *(["--only", *args.only] if args.only else []),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if output.returncode:
        print(output.stderr[-3000:], file=sys.stderr)
        sys.exit(output.returncode)
    line = next(x for x in output.stdout.splitlines() if x.startswith("RESULTS="))
    results = json.loads(line.removeprefix("RESULTS="))
    copies = "calculées à chaque appel (--cold)" if args.cold else "gardées par version"
    print(
        f"Données : {data} ; {args.repeat} appels par point d’accès ; réponses {copies} ; "
        f"objectif p95 ≤ {TARGET_MS} ms"
    )
    print(f"{'point d’accès':42} {'p50 ms':>8} {'p95 ms':>8}   {'ms CPU p50':>10} {'p95':>6}")
    for row in results:
        mark = "✓" if row["ok"] else "✗"
        print(
            f"{row['endpoint']:42} {row['p50 ms']:8.1f} {row['p95 ms']:8.1f}  {mark}"
            f" {row['p50 ms CPU']:10.1f} {row['p95 ms CPU']:6.1f}"
        )
    over = [r["endpoint"] for r in results if not r["ok"]]
    print(f"Au-delà de {TARGET_MS} ms : {', '.join(over) if over else 'aucun'}")


if __name__ == "__main__":
    main()
