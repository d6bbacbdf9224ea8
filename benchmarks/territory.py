"""Territory portraits and posters: how long they take, how large they are.

On the real data (census + national export from ../shared/data) in a throw-away
SQLite file, on PostgreSQL with --postgres, or on the demo with --demo:
- the recomputation of every commune's distance to help (after each change);
- the server time of each of the 23 bassin pages (target p95 ≤ 100 ms) and of the
  comparison page;
- each commune poster generated without its cache (target ≤ 1 s and ≤ 300 KB);
- the region's figures: the share of the population within 10 km of a place and
  the five largest "zones blanches" (communes more than 10 km from any place).

    .venv/bin/python benchmarks/territory.py [--demo] [--postgres] [--posters 60]
"""

import argparse
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


def percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * share))]


def inner(posters, repeat):
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from territories import coverage
    from territories.models import BassinDeVie, Commune

    setup_test_environment(debug=False)
    started = time.perf_counter()
    coverage.compute()
    print(f"Recalcul des distances des 1 754 communes : {time.perf_counter() - started:.2f} s")

    client = Client(HTTP_HOST="127.0.0.1")
    timings = []
    for bassin in BassinDeVie.objects.defer("outline"):
        client.get(bassin.get_absolute_url())  # warm-up
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(bassin.get_absolute_url())
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    print(
        f"Page d’un bassin ({len(timings)} appels, 23 bassins) : "
        f"p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms "
        f"(objectif p95 ≤ 100 ms)"
    )
    comparison = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get("/territoires/bassins/comparaison/")
        comparison.append((time.perf_counter() - start) * 1000)
    print(
        f"Comparaison des 23 bassins : p50 {percentile(comparison, 0.5):.1f} ms, "
        f"p95 {percentile(comparison, 0.95):.1f} ms"
    )

    seconds, sizes = [], []
    communes = list(Commune.objects.order_by("-population")[:posters])
    for commune in communes:
        cache.clear()
        start = time.perf_counter()
        response = client.get(f"/territoires/communes/{commune.pk}/affiche.pdf")
        seconds.append(time.perf_counter() - start)
        sizes.append(len(response.content))
    print(
        f"Affiches de {len(communes)} communes, sans cache : au plus {max(seconds):.2f} s "
        f"(p95 {percentile(seconds, 0.95):.2f} s), au plus {max(sizes) / 1024:.0f} Ko "
        "(objectifs ≤ 1 s, ≤ 300 Ko)"
    )
    booklet = []
    for bassin in BassinDeVie.objects.defer("outline"):
        cache.clear()
        start = time.perf_counter()
        client.get(f"/territoires/bassins/{bassin.slug}/livret.pdf")
        booklet.append(time.perf_counter() - start)
    print(f"Livrets des 23 bassins, sans cache : au plus {max(booklet):.2f} s")

    region = coverage.portrait()
    print("Région :", coverage.lead_sentence(region))
    for share in region.shares.values():
        figures = ", ".join(f"{km} km : {share.percent(km)} %" for km in coverage.THRESHOLDS_KM)
        print(f"  {share.label} — {figures}")
    largest = sorted(region.zones_blanches, key=lambda c: -(c.commune.population or 0))[:5]
    print("Les cinq plus grandes zones blanches (communes à plus de 10 km d’un lieu) :")
    for c in largest:
        print(
            f"  {c.commune.name} ({c.commune_id}) : {c.commune.population} habitants, "
            f"{c.nearest_km:.1f} km"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="les 293 lieux de démonstration")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--posters", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.posters, args.repeat)
        return
    if args.postgres:
        url = POSTGRES_URL
        ensure_postgres_database(url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-territory-')}/bench.sqlite3"
    if args.demo:
        env = django_env(url, DEBUG="1")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_initial_data")
        data = "293 structures de démonstration"
    else:
        data = prepare_real_database(url)
    print(f"Données : {data}")
    env = django_env(url, DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1")
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--inner",
            "--posters",
            str(args.posters),
            "--repeat",
            str(args.repeat),
        ],
        cwd=ROOT,
        env=env,
    )
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
