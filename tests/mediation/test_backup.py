"""Restore drill: back up, restore into a new database, same counts and history, the site serves.

The PostgreSQL drill follows the README's procedure (backup_database, then
createdb + pg_restore) against the server of DATABASE_URL: it runs in the
PostgreSQL leg of `.ci/run`. The SQLite drill runs everywhere.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))

INSPECT = """
import json
import django
django.setup()
from django.apps import apps
from django.test.utils import setup_test_environment
setup_test_environment(debug=False)
from django.test import Client
counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
client = Client(HTTP_HOST="127.0.0.1")
home = client.get("/")
api = client.get("/api/v1/structures/", {"page_size": 1})
served = [home.status_code, api.status_code, api.json()["count"]]
print("INSPECT=" + json.dumps({"counts": counts, "served": served}, sort_keys=True))
"""

EDIT = """
import django
django.setup()
from mediation.models import Stop, Structure
place = Structure.objects.published().order_by("pk").first()
place.summary = "Ateliers numériques chaque mardi"
place.save()
Stop.objects.create(structure=place, place="Place du marché", commune=place.commune,
                    latitude=place.commune.latitude, longitude=place.commune.longitude)
Structure.objects.published().order_by("-pk").first().delete()
"""


def run(database_url, *args, code=None):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1", GEOCODER="off")
    env["DATABASE_URL"] = database_url
    command = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def output_value(stdout, prefix):
    line = next(x for x in stdout.splitlines() if x.startswith(prefix))
    return json.loads(line.removeprefix(prefix))


def fill(database_url):
    run(database_url, "migrate", "--noinput", "-v0")
    run(database_url, "load_initial_data")
    run(database_url, code=EDIT)  # history: a change, a stop, a deletion


def assert_same_site(source_url, restored_url):
    """Same rows in every table, history included, and the restored site answers."""
    before = output_value(run(source_url, code=INSPECT), "INSPECT=")
    after = output_value(run(restored_url, code=INSPECT), "INSPECT=")
    assert after["counts"] == before["counts"]
    counts = before["counts"]
    assert counts["mediation.Structure"] > 200
    assert counts["mediation.HistoricalStructure"] > counts["mediation.Structure"]
    assert counts["mediation.HistoricalStop"] >= 1
    assert after["served"] == before["served"]
    home, api, published = after["served"]
    assert (home, api) == (200, 200)
    assert published > 200


@pytest.mark.skipif(ON_POSTGRES, reason="the PostgreSQL leg of .ci/run runs the PostgreSQL drill")
def test_sqlite_backup_restores_the_same_site(tmp_path):
    source = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    fill(source)
    dump = tmp_path / "sauvegarde.sqlite3"
    out = run(source, "backup_database", "--output", str(dump))
    assert "Sauvegarde écrite" in out
    # Restoring a SQLite backup is putting the file in place of the base.
    restored = tmp_path / "restauree.sqlite3"
    dump.rename(restored)
    assert_same_site(source, f"sqlite:///{restored}")


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs the PostgreSQL server of DATABASE_URL (PostgreSQL leg of .ci/run)",
)
def test_postgresql_dump_restores_into_a_new_database(tmp_path):
    import psycopg

    base, name = DATABASE_URL.rsplit("/", 1)
    source_name, restored_name = f"{name}_drill_source", f"{name}_drill_restored"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        for database in (source_name, restored_name):
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{source_name}"')
    source, restored = f"{base}/{source_name}", f"{base}/{restored_name}"
    try:
        fill(source)
        dump = tmp_path / "mediation.dump"
        run(source, "backup_database", "--output", str(dump))
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        # The README's procedure: a new database, then pg_restore into it.
        host = base.split("://", 1)[1]
        user, _, server = host.rpartition("@")
        hostname, _, port = server.partition(":")
        connection = ["--host", hostname, "--port", port or "5432", "--username", user]
        subprocess.run(["createdb", *connection, restored_name], check=True)
        subprocess.run(
            ["pg_restore", *connection, "--no-owner", "--dbname", restored_name, str(dump)],
            check=True,
        )
        assert_same_site(source, restored)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            for database in (source_name, restored_name):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
