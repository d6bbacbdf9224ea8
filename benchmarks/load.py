"""Load test: 50 citizens and 5 partners for 5 minutes against gunicorn, PostgreSQL and Redis.

Bounded and self-stopping: the script prepares a PostgreSQL database with the
real data (census + national export from ../shared/data, else the demo),
collects the static files, starts gunicorn (DEBUG off, REDIS_URL set), runs the
simulated visitors for `--duration` seconds, stops everything and prints
requests/second, p50/p95/p99 per page and the errors.

- a citizen: home → commune suggestions while typing → search (results) →
  the next results with a filter → a place's page → the map's data, with 1–3 s
  of thinking between two pages, then starts again from another commune;
- a partner: pages through /api/v1/structures/ with its token, then the
  national export, 0.2–0.5 s between two calls.

    .venv/bin/python benchmarks/load.py                       # 5 minutes
    .venv/bin/python benchmarks/load.py --duration 60 --citizens 20

The load generator runs on the same machine (threads and http.client, no extra
dependency). Target (issue 12): 0 errors and p95 ≤ 300 ms for every page.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import re
import runpy
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_speed import (  # noqa: E402
    BIN,
    django_env,
    ensure_postgres_database,
    fail,
    free_port,
    manage,
    prepare_real_database,
)

LOAD_POSTGRES_URL = os.environ.get(
    "LOAD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/mediation_load"
)
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/5")
TARGET_P95_MS = 300
PLACE_LINK = re.compile(r'href="(/lieux/[a-z0-9-]+/)"')


class Recorder:
    def __init__(self):
        self.timings = defaultdict(list)
        self.errors = defaultdict(list)
        self.lock = threading.Lock()

    def add(self, page, elapsed_ms, error=None):
        with self.lock:
            self.timings[page].append(elapsed_ms)
            if error:
                self.errors[page].append(error)


class Visitor(threading.Thread):
    def __init__(self, port, recorder, deadline, seed):
        super().__init__(daemon=True)
        self.port, self.recorder, self.deadline = port, recorder, deadline
        self.random = random.Random(seed)
        self.connection = None
        self.headers = {"Accept-Encoding": "gzip", "User-Agent": "load-test"}

    def get(self, page, path, headers=None, expect=(200,)):
        """GET `path`, timed under `page`; the body, or None on an error."""
        for attempt in (1, 2):  # a keep-alive connection the server closed: once more
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            start = time.perf_counter()
            try:
                self.connection.request("GET", path, headers={**self.headers, **(headers or {})})
                response = self.connection.getresponse()
                body = response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    continue
                self.recorder.add(page, (time.perf_counter() - start) * 1000, repr(error))
                return None
            elapsed = (time.perf_counter() - start) * 1000
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            error = None if response.status in expect else f"HTTP {response.status} {path}"
            self.recorder.add(page, elapsed, error)
            self.last_headers = response.headers
            return body if error is None else None
        return None

    def think(self, low, high):
        time.sleep(self.random.uniform(low, high))

    def running(self):
        return time.monotonic() < self.deadline


class Citizen(Visitor):
    def __init__(self, *args, communes, **kwargs):
        super().__init__(*args, **kwargs)
        self.communes = communes
        self.markers_etag = None

    def run(self):
        self.think(0, 3)  # not all at once
        while self.running():
            name = self.random.choice(self.communes)
            self.get("accueil", "/")
            self.think(1, 3)
            prefix = urllib.parse.quote(name[:4])
            self.get("suggestions", f"/territoires/communes/suggestions.json?q={prefix}")
            self.think(1, 3)
            query = urllib.parse.quote(name)
            body = self.get("recherche", f"/?q={query}")
            self.think(1, 3)
            more = self.get("résultats filtrés", f"/?q={query}&page=2&service=demarches")
            self.think(1, 3)
            links = PLACE_LINK.findall((body or more or b"").decode("utf-8", "replace"))
            if links:
                self.get("fiche d’un lieu", self.random.choice(links))
                self.think(1, 3)
            headers = {"If-None-Match": self.markers_etag} if self.markers_etag else {}
            if self.get("données de la carte", "/carte/lieux.json", headers, expect=(200, 304)):
                self.markers_etag = self.last_headers.get("ETag")
            self.think(1, 3)


class Partner(Visitor):
    def __init__(self, *args, token, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers["Authorization"] = f"Token {token}"

    def run(self):
        while self.running():
            page = 1
            while self.running():
                body = self.get("API : page de lieux", f"/api/v1/structures/?page={page}")
                self.think(0.2, 0.5)
                if body is None or not json.loads(body).get("next"):
                    break
                page += 1
            self.get("API : export national", "/api/v1/lieux-mediation-numerique.json")
            self.think(0.2, 0.5)


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))]


SETUP = """
import json
import django
django.setup()
from mediation.api_tokens import ApiToken
from mediation.models import Structure, User
from territories.models import Commune
tokens = []
for n in range(5):
    user, _ = User.objects.get_or_create(email=f"partenaire{n}@example.org")
    # Keys are stored hashed: a new one per run, the only time it is seen in clear.
    tokens.append(ApiToken.issue(user=user, name="Test de charge")[1])
codes = Structure.objects.published().values("commune")
communes = list(Commune.objects.filter(pk__in=codes).values_list("name", flat=True))
print("SETUP=" + json.dumps({"tokens": tokens, "communes": communes}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=300, help="secondes (5 minutes)")
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--partners", type=int, default=5)
    parser.add_argument(
        "--workers", type=int, help="workers gunicorn (défaut : gunicorn.conf.py, 2 par cœur)"
    )
    parser.add_argument("--threads", type=int, help="fils par worker (défaut : gunicorn.conf.py)")
    parser.add_argument("--reuse", action="store_true", help="garder la base déjà remplie")
    args = parser.parse_args()
    if not (BIN / "gunicorn").exists():
        fail("gunicorn manquant (make install)")

    ensure_postgres_database(LOAD_POSTGRES_URL)
    data = "base existante" if args.reuse else prepare_real_database(LOAD_POSTGRES_URL)
    env = django_env(
        LOAD_POSTGRES_URL,
        DJANGO_SETTINGS_MODULE="mediation.settings",
        REDIS_URL=REDIS_URL,
        API_ANON_RATE="60/min",
    )
    manage(env, "collectstatic", "--noinput", "-v0")
    setup = subprocess.run(
        [str(BIN / "python"), "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if setup.returncode:
        fail(setup.stderr[-2000:])
    line = next(x for x in setup.stdout.splitlines() if x.startswith("SETUP="))
    setup = json.loads(line.removeprefix("SETUP="))

    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "mediation.wsgi:application",
            "--config=gunicorn.conf.py",  # as in production
            *([f"--workers={args.workers}"] if args.workers else []),
            *([f"--threads={args.threads}"] if args.threads else []),
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            fail("gunicorn n’a pas démarré")
        recorder = Recorder()
        started = time.monotonic()
        stop_at = started + args.duration
        visitors = [
            Citizen(port, recorder, stop_at, seed=n, communes=setup["communes"])
            for n in range(args.citizens)
        ]
        visitors += [
            Partner(port, recorder, stop_at, seed=1000 + n, token=setup["tokens"][n % 5])
            for n in range(args.partners)
        ]
        for visitor in visitors:
            visitor.start()
        for visitor in visitors:
            visitor.join(timeout=args.duration + 60)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=20)

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    total = sum(len(t) for t in recorder.timings.values())
    errors = sum(len(e) for e in recorder.errors.values())
    print(f"Données : {data}")
    print(
        f"{args.citizens} habitants, {args.partners} partenaires, {elapsed:.0f} s, "
        f"gunicorn {config['worker_class']}, {args.workers or config['workers']} workers × "
        f"{args.threads or config['threads']} fils, PostgreSQL + Redis, {os.cpu_count()} cœurs"
    )
    print(f"{total} requêtes, {total / elapsed:.1f} requêtes/s, {errors} erreurs")
    print(f"{'page':26} {'requêtes':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'erreurs':>8}")
    worst = []
    for page, timings in recorder.timings.items():
        p95 = percentile(timings, 0.95)
        print(
            f"{page:26} {len(timings):9d} {statistics.median(timings):8.0f} {p95:8.0f} "
            f"{percentile(timings, 0.99):8.0f} {len(recorder.errors[page]):8d}"
        )
        if p95 > TARGET_P95_MS:
            worst.append(page)
    for page, messages in recorder.errors.items():
        for message in sorted(set(messages))[:5]:
            print(f"  erreur ({page}) : {message}")
    verdict = "atteint" if not worst and not errors else "NON atteint"
    print(f"Objectif (0 erreur, p95 ≤ {TARGET_P95_MS} ms partout) : {verdict}")
    if worst:
        print("p95 au-delà de l’objectif : " + ", ".join(worst))


if __name__ == "__main__":
    main()
