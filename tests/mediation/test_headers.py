"""Security headers, the same on a public page, the API, the admin and a static file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

PERMISSIONS_POLICY = {
    "geolocation=(self)",
    "camera=()",
    "microphone=()",
    "payment=()",
    "usb=()",
    "browsing-topics=()",
}
EVERYWHERE = {
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
}
PAGES = {"X-Frame-Options": "DENY"}


@pytest.fixture
def https(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    return {"secure": True}


def assert_headers(response, expected):
    for name, value in expected.items():
        assert response.get(name) == value, (name, response.get(name))
    policy = {part.strip() for part in response["Permissions-Policy"].split(",")}
    assert policy >= PERMISSIONS_POLICY
    # Everything but geolocation is off: no other feature is allowed to anyone.
    allowed = {p for p in policy if not p.endswith("=()")}
    assert allowed == {"geolocation=(self)"}


@pytest.mark.parametrize("url", ["/", "/api/v1/structures/", "/admin/login/"])
def test_pages_api_and_admin_carry_the_full_set(client, https, url):
    response = client.get(url, **https)
    assert response.status_code == 200
    assert_headers(response, {**EVERYWHERE, **PAGES})
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_static_file_carries_them_too(client, https, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served from static/, no collectstatic in tests
    response = client.get("/static/css/site.css", **https)
    assert response.status_code == 200
    assert_headers(response, EVERYWHERE)


def test_other_sites_still_read_the_api_with_cors(client, https):
    response = client.get(
        "/api/v1/structures/", HTTP_ORIGIN="https://partenaire.example.org", **https
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"  # not applied to CORS


def proxy_header(trusted_proxies):
    env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXIES"}
    env.update(DJANGO_SETTINGS_MODULE="mediation.settings", DEBUG="1")
    if trusted_proxies is not None:
        env["TRUSTED_PROXIES"] = str(trusted_proxies)
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.SECURE_PROXY_SSL_HEADER)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    return result.stdout.strip()


def test_x_forwarded_proto_is_trusted_only_behind_our_own_proxy():
    assert proxy_header(None) == "None"
    assert proxy_header(0) == "None"
    assert proxy_header(1) == "('HTTP_X_FORWARDED_PROTO', 'https')"
