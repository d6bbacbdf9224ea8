"""Degrade, don't fall: the site with its cache or its database unreachable.

Each case runs the site in a separate process whose REDIS_URL or DATABASE_URL
points at a closed port of this machine, and requests its pages there (Django's
test client, DEBUG off, as in production).
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in the child process: requests given as JSON on argv, answers printed as JSON.
CLIENT_SCRIPT = """
import json, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment(debug=False)
from django.test import Client

client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
setup = sys.argv[2] if len(sys.argv) > 2 else ""
if setup:
    exec(setup)
answers = []
for method, path, data in json.loads(sys.argv[1]):
    response = getattr(client, method)(path, data or {})
    answers.append({
        "path": path,
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": b"".join(response).decode("utf-8", "replace")
        if response.streaming else response.content.decode("utf-8", "replace"),
    })
print("ANSWERS=" + json.dumps(answers))
"""


def closed_port():
    """A port of 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="mediation.settings",
        DEBUG="1",  # development storage for static files; the script turns DEBUG off
        GEOCODER="off",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def site_database(tmp_path_factory):
    """A SQLite file with the territories and the demo places, built once."""
    path = tmp_path_factory.mktemp("degraded") / "site.sqlite3"
    env = site_env(DATABASE_URL=f"sqlite:///{path}")
    for command in (["migrate", "--noinput", "-v0"], ["load_initial_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return f"sqlite:///{path}"


def run_site(requests, *, setup="", **env):
    result = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, json.dumps(requests), setup],
        cwd=ROOT,
        env=site_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("ANSWERS="))
    return json.loads(line.removeprefix("ANSWERS=")), result.stderr


MAKE_ACCOUNT = """
from mediation.models import Structure, User
User.objects.filter(email="mediatrice@example.fr").delete()
User.objects.create_user(email="mediatrice@example.fr", password="un mot de passe solide")
place = Structure.objects.published().order_by("pk").first()
print("PLACE=" + json.dumps([place.slug, place.uid]))
"""


def test_without_its_cache_the_site_answers_every_page_login_and_api(site_database):
    slug_uid = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, "[]", MAKE_ACCOUNT],
        cwd=ROOT,
        env=site_env(DATABASE_URL=site_database),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    slug, uid = json.loads(next(x for x in slug_uid.splitlines() if x.startswith("PLACE="))[6:])
    pages = [
        "/",
        "/?q=Tours",
        f"/lieux/{slug}/",
        "/types/",
        "/territoires/bassins/",
        "/territoires/bassins.geojson",
        "/carte/lieux.json",
        "/territoires/communes/suggestions.json?q=tou",
        "/espace/connexion/",
        "/admin/login/",
        "/api/v1/",
        f"/api/v1/structures/{uid}/",
        "/api/v1/communes/?q=tours",
        "/api/v1/lieux-mediation-numerique.csv",
    ]
    requests = [["get", path, None] for path in pages]
    login = {"username": "mediatrice@example.fr", "password": "un mot de passe solide"}
    requests += [["post", "/espace/connexion/", login], ["get", "/espace/", None]]
    # The anonymous API limit (6 a minute here) still holds, counted in this process.
    requests += [["get", "/api/v1/structures/", None]] * 4
    requests += [["get", "/healthz", None]]

    answers, log = run_site(
        requests,
        DATABASE_URL=site_database,
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        API_ANON_RATE="6/min",
    )

    by_page = {a["path"]: a for a in answers[: len(pages)]}
    for path in pages:
        assert by_page[path]["status"] == 200, (path, by_page[path]["body"][:500])
    assert "<h1" in by_page["/"]["body"]
    logged_in, space = answers[len(pages)], answers[len(pages) + 1]
    assert logged_in["status"] == 302
    assert space["status"] == 200
    api_statuses = [a["status"] for a in answers[len(pages) + 2 : -1]]
    # /api/v1/, the detail, communes and the export used 4 of the minute's 6 calls.
    assert api_statuses == [200, 200, 429, 429]
    health = answers[-1]
    assert health["status"] == 503
    assert json.loads(health["body"])["failed"] == ["cache"]
    # One warning for the whole run, not one per call.
    assert log.count("Cache Redis injoignable") == 1, log[-2000:]


def test_without_its_database_the_site_says_so_in_french_with_retry_after():
    database_url = f"postgres://postgres@127.0.0.1:{closed_port()}/mediation"
    pages = ["/", "/lieux/une-structure/", "/espace/connexion/", "/types/", "/api/v1/structures/"]
    answers, _ = run_site([["get", path, None] for path in pages], DATABASE_URL=database_url)

    for answer in answers:
        assert answer["status"] == 503, (answer["path"], answer["body"][:300])
        assert int(answer["headers"]["Retry-After"]) > 0
        assert "Traceback" not in answer["body"]
        assert "OperationalError" not in answer["body"]
    page = answers[0]["body"]
    assert '<html lang="fr">' in page
    assert "momentanément indisponible" in page
    api = json.loads(answers[-1]["body"])
    assert "indisponible" in api["detail"]


def test_health_check_names_the_database_when_it_does_not_answer():
    database_url = f"postgres://postgres@127.0.0.1:{closed_port()}/mediation"
    answers, _ = run_site([["get", "/healthz", None]], DATABASE_URL=database_url)
    assert answers[0]["status"] == 503
    assert json.loads(answers[0]["body"]) == {
        "status": "erreur",
        "checks": {"database": "injoignable", "cache": "ok"},
        "failed": ["database"],
    }
