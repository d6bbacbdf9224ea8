"""The content security policy holds on every kind of page, and breaks none of them.

Each page is opened in Chromium with the policy enforced; the browser reports
anything it refused (an inline script or style, an image from elsewhere) on
the console, and the `page` fixture fails the test on any such report.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from mediation.models import Structure
from tests.browser.conftest import phone_of, type_app_code
from tests.factories import UserFactory


@pytest.fixture
def demo(territories):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    return Structure.objects.filter(stops__isnull=False).first()


@pytest.mark.django_db
def test_the_policy_is_sent_and_strict(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "https://tile.openstreetmap.org" in directives["img-src"]


PUBLIC_PAGES = [
    "/",
    "/?q=chateauroux&type=espace-public-numerique",
    "/territoires/bassins/chateauroux/",
    "/api/v1/documentation/",
    "/api/v1/explorer/",
    "/api/v1/structures/?format=api",
]


def test_public_pages_run_under_the_policy(page, demo):
    for url in [*PUBLIC_PAGES, demo.get_absolute_url()]:
        response = page.goto(page.base_url + url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        page.wait_for_load_state("networkidle")
    # The scripts did run: the map drew its markers on the last page, a place's own
    # (on a phone the map loads when it comes into view).
    page.locator("#map-panel").scroll_into_view_if_needed()
    expect(page.locator(".leaflet-marker-icon, .leaflet-interactive").first).to_be_attached()


def test_the_admin_and_its_map_run_under_the_policy(page, demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    phone = phone_of(UserFactory(email="admin@example.fr", is_staff=True, is_superuser=True))
    page.goto(page.base_url + "/admin/login/")
    page.get_by_label("Adresse e-mail").fill("admin@example.fr")
    page.get_by_label("Mot de passe").fill("un mot de passe solide 2026")
    page.get_by_role("button").last.click()
    type_app_code(page, phone)  # the code page runs under the policy too
    page.goto(page.base_url + f"/admin/mediation/structure/{demo.pk}/change/")
    expect(page.locator(".leaflet-container").first).to_be_visible()
    page.wait_for_load_state("networkidle")
