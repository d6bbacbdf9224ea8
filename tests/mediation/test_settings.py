"""Settings come from the environment, with safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables a developer's or the test run's shell may hold, which production has not.
NOT_IN_PRODUCTION = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}


def run_settings(env, code="from django.conf import settings; print(settings.DEBUG)"):
    base = {k: v for k, v in os.environ.items() if k not in NOT_IN_PRODUCTION}
    base["DJANGO_SETTINGS_MODULE"] = "mediation.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire" in result.stderr


def test_debug_is_off_unless_asked():
    result = run_settings({"SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_settings_pass_the_deployment_check():
    env = {
        "SECRET_KEY": "a-long-random-secret-key-for-the-deployment-check-0123456789",
        "ALLOWED_HOSTS": "mediation-numerique.example",
        "LEGAL_PUBLISHER": "GIP Hub numérique, Orléans",
        "LEGAL_PUBLICATION_DIRECTOR": "Claude Martin",
        "LEGAL_HOST": "Hébergeur SAS, Roubaix",
        "LEGAL_DPO_CONTACT": "dpo@hub.example.fr",
    }
    base = {k: v for k, v in os.environ.items() if k not in NOT_IN_PRODUCTION}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_french_and_paris_time():
    result = run_settings(
        {"DEBUG": "1"},
        "from django.conf import settings; print(settings.LANGUAGE_CODE, settings.TIME_ZONE)",
    )
    assert result.stdout.split() == ["fr", "Europe/Paris"]
