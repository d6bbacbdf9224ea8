"""Lighthouse (mobile) on the citizen's pages, in production mode, on the real data.

    .venv/bin/python benchmarks/lighthouse.py            # home and results, 3 runs each
    .venv/bin/python benchmarks/lighthouse.py --runs 5 --page /lieux/<slug>/

Builds a throw-away SQLite database from ../shared/data (the regional census and
the national export; the demo places when that folder is absent), collects the
static files, serves the site with gunicorn (DEBUG=0, WhiteNoise, the
production settings) and runs Lighthouse — installed by npm from the lockfile,
driving Debian's Chromium through CHROME_PATH — with its default mobile
profile: a mid-range phone, slow 4G, CPU slowed 4×. Prints the median of the
runs for each page: Performance score, Total Blocking Time, Cumulative Layout
Shift, Largest Contentful Paint, and the bytes downloaded.

Targets (issue 11): Performance ≥ 95, TBT ≤ 200 ms, CLS ≤ 0.02 on home and
results. The exit status is 1 when a target is missed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from api_speed import BIN, ROOT, django_env, free_port, manage, prepare_real_database

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PAGES = {"accueil": "/", "résultats": "/?q=Issoudun"}
TARGETS = {"performance": 95, "tbt_ms": 200, "cls": 0.02}


def lighthouse(url):
    """One Lighthouse run (mobile, performance only): the report as a dict."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--only-categories=performance",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"lighthouse a échoué sur {url} :\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def figures(report):
    audits = report["audits"]
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "kb": audits["total-byte-weight"]["numericValue"] / 1024,
        "requests": len(audits["network-requests"]["details"]["items"]),
    }


def serve(database_url):
    port = free_port()
    env = django_env(database_url)
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "mediation.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    sys.exit("le serveur gunicorn n’a pas démarré")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (median kept)")
    parser.add_argument("--page", action="append", default=[], help="an extra path to measure")
    args = parser.parse_args()
    for tool in (LIGHTHOUSE, Path(CHROMIUM), BIN / "gunicorn"):
        if not tool.exists():
            sys.exit(f"outil manquant : {tool} (make install ; apt-get install chromium)")

    database = Path(tempfile.mkdtemp(prefix="lighthouse-")) / "site.sqlite3"
    database_url = f"sqlite:///{database}"
    data = prepare_real_database(database_url)
    manage(django_env(database_url), "collectstatic", "--noinput", "-v0")
    process, base = serve(database_url)
    pages = {**PAGES, **{path: path for path in args.page}}
    missed = []
    try:
        print(f"Données : {data}. Lighthouse mobile, médiane de {args.runs} passages.")
        print(
            f"{'page':<12} {'perf':>5} {'TBT ms':>7} {'CLS':>6} {'LCP ms':>7} {'Ko':>6} {'req':>4}"
        )
        for name, path in pages.items():
            runs = [figures(lighthouse(base + path)) for _ in range(args.runs)]
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"{name:<12} {median['performance']:>5.0f} {median['tbt_ms']:>7.0f} "
                f"{median['cls']:>6.3f} {median['lcp_ms']:>7.0f} {median['kb']:>6.0f} "
                f"{median['requests']:>4.0f}"
            )
            if name in PAGES and (
                median["performance"] < TARGETS["performance"]
                or median["tbt_ms"] > TARGETS["tbt_ms"]
                or median["cls"] > TARGETS["cls"]
            ):
                missed.append(name)
    finally:
        process.terminate()
        process.wait()
    if missed:
        print(
            "Objectifs manqués (Performance ≥ 95, TBT ≤ 200 ms, CLS ≤ 0,02) : " + ", ".join(missed)
        )
        sys.exit(1)
    print("Objectifs atteints : Performance ≥ 95, TBT ≤ 200 ms, CLS ≤ 0,02.")


if __name__ == "__main__":
    main()
