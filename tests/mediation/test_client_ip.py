"""Behind reverse proxies, each visitor keeps their own limits; a forged header buys nothing.

The rule (mediation/client_ip.py): with TRUSTED_PROXIES = n, the visitor is the
n-th address from the right of X-Forwarded-For; with 0, the connection itself.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from mediation.client_ip import client_ip
from mediation.models import ErrorReport
from tests.factories import StructureFactory, UserFactory
from tests.mediation.test_views_public import patient_visitor, report_form  # noqa: F401

PASSWORD = "un mot de passe solide 2026"  # UserFactory's

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.2"


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    cache.clear()
    yield
    cache.clear()


def through_proxy(visitor, forged=None):
    """What one nginx in front of the site sends: it appends the visitor's address."""
    chain = f"{forged}, {visitor}" if forged else visitor
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.1"}, "192.0.2.1"),
        (0, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.1"}, "192.0.2.1"),
        (
            2,
            {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6, 192.0.2.1, 10.0.0.9"},
            "192.0.2.1",
        ),
        (1, {"REMOTE_ADDR": PROXY}, PROXY),  # a request that did not go through the proxy
    ],
)
def test_the_visitor_is_found_behind_the_trusted_proxies(rf, settings, proxies, meta, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    assert client_ip(rf.get("/", **meta)) == expected


@pytest.mark.usefixtures("patient_visitor")
def test_error_reports_are_counted_per_visitor_behind_the_proxy(client, behind_one_proxy):
    structure = StructureFactory()
    url, token = report_form(client, structure)
    for n in range(5):
        client.post(url, {"message": f"Erreur {n}", "token": token}, **through_proxy("192.0.2.1"))
    # A sixth from the same visitor, even with a forged address in front, is refused…
    refused = client.post(
        url, {"message": "Encore", "token": token}, **through_proxy("192.0.2.1", "6.6.6.6")
    )
    assert refused.status_code == 429
    # …while another visitor behind the same proxy is heard.
    other = client.post(url, {"message": "Autre", "token": token}, **through_proxy("192.0.2.2"))
    assert other.status_code == 302
    assert ErrorReport.objects.count() == 6


def test_api_rate_limit_per_visitor_behind_the_proxy(client, behind_one_proxy):
    for _ in range(60):
        assert client.get("/api/v1/types/", **through_proxy("192.0.2.1")).status_code == 200
    assert client.get("/api/v1/types/", **through_proxy("192.0.2.1", "6.6.6.6")).status_code == 429
    assert client.get("/api/v1/types/", **through_proxy("192.0.2.2")).status_code == 200


def test_without_trusted_proxy_a_forged_header_does_not_reset_the_api_limit(client):
    cache.clear()
    for n in range(60):
        forged = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}
        assert client.get("/api/v1/types/", **forged).status_code == 200
    assert client.get("/api/v1/types/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    cache.clear()


def test_login_lock_out_is_per_visitor_behind_the_proxy(behind_one_proxy, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(email="mediatrice@example.fr")

    def log_in(client, password, visitor):
        return client.post(
            "/espace/connexion/",
            {"username": "mediatrice@example.fr", "password": password},
            **through_proxy(visitor),
        )

    attacker, mediator_client = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(attacker, "mauvais mot de passe", "192.0.2.66")
    assert log_in(attacker, PASSWORD, "192.0.2.66").status_code == 429
    # The mediator, behind the same proxy, still logs in.
    assert log_in(mediator_client, PASSWORD, "192.0.2.1").status_code == 302
