"""/healthz: a load balancer's probe (the failing cases are in test_degraded.py)."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthy_server_answers_200_with_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok"},
        "failed": [],
    }
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200


def test_probe_is_never_rate_limited_nor_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production: plain HTTP goes to HTTPS…
    assert client.get("/").status_code == 301
    # …but not the probe, however often it comes.
    assert all(client.get("/healthz").status_code == 200 for _ in range(80))
