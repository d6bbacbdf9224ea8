"""Page weight of the citizen's pages, as a visitor on a slow connection would download them.

Serves the site as in production (DEBUG off, collected and compressed static files,
gunicorn, a throw-away SQLite database holding the 293 demo structures) on
loopback, loads each page in headless Chromium (Playwright, /usr/bin/chromium)
with an empty cache, and reports the bytes transferred (compressed, headers
included; map tiles excluded: they come from the tile server), the number of
requests and the load time.

    .venv/bin/python benchmarks/page_weight.py            # table, exit 1 if over budget
    .venv/bin/python benchmarks/page_weight.py --json     # the same, as JSON

Budget of the home page (issue #3): at most 200 KB and 20 requests.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BUDGET = {"bytes": 200 * 1024, "requests": 20}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database):
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="benchmark-only-secret-key-" + "x" * 32,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{database}",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        GEOCODER="off",
        DJANGO_SETTINGS_MODULE="mediation.settings",
    )
    env.pop("REDIS_URL", None)
    return env


def manage(env, *args):
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def start_server(env, port):
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "mediation.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("Le serveur n’a pas démarré.")


def measure(browser, base, path):
    """Bytes, requests and timings of one page loaded with an empty cache."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    tiles = []

    def outside(route):
        tiles.append(route.request.url)
        route.fulfill(status=204, body="")

    context.route(lambda url: not url.startswith(base), outside)
    page = context.new_page()
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(base + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    timing = page.evaluate(
        """() => {
        const [nav] = performance.getEntriesByType("navigation");
        return {dom: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
    }"""
    )
    own = [r for r in requests if r.url.startswith(base)]
    total = 0
    rows = []
    for request in own:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        rows.append((size, request.url.removeprefix(base)))
    context.close()
    return {
        "page": path,
        "requests": len(own),
        "bytes": total,
        "dom_ms": round(timing["dom"]),
        "load_ms": round(timing["load"]),
        "tiles_excluded": len(tiles),
        "detail": sorted(rows, reverse=True),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--detail", action="store_true", help="list every request")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = production_env(Path(tmp) / "bench.sqlite3")
        manage(env, "migrate", "--noinput", "--skip-checks")
        manage(env, "load_initial_data", "--skip-checks")
        manage(env, "collectstatic", "--noinput", "--clear")
        port = free_port()
        server = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            markers = json.loads(urllib.request.urlopen(base + "/carte/lieux.json").read())
            slug = markers["rows"][0][4]
            pages = ["/", "/?q=chateauroux", f"/lieux/{slug}/", "/territoires/bassins/bourges/"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                results = [measure(browser, base, path) for path in pages]
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)

    home = results[0]
    within = home["bytes"] <= BUDGET["bytes"] and home["requests"] <= BUDGET["requests"]
    if args.json:
        print(json.dumps({"budget": BUDGET, "results": results, "within_budget": within}))
    else:
        print(f"{'page':40} {'requests':>8} {'KB':>8} {'DOM ms':>7} {'load ms':>8}")
        for r in results:
            print(
                f"{r['page'][:40]:40} {r['requests']:>8} {r['bytes'] / 1024:>8.1f} "
                f"{r['dom_ms']:>7} {r['load_ms']:>8}"
            )
            if args.detail:
                for size, url in r["detail"]:
                    print(f"    {size / 1024:>7.1f} KB  {url}")
        verdict = "OK" if within else "DÉPASSÉ"
        print(
            f"\nBudget de l’accueil : {BUDGET['bytes'] // 1024} KB et {BUDGET['requests']} "
            f"requêtes (tuiles exclues) — {verdict}"
        )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
