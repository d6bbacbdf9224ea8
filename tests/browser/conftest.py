"""Browser tests: Playwright drives Debian's Chromium against the live test server.

A missing browser is a failure, never a skip: CI installs /usr/bin/chromium.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium est introuvable ({CHROMIUM}) : apt-get install -y chromium")
    # Playwright runs its own event loop; Django must allow ORM calls from tests.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_page(browser, live_server, **options):
    """A page in a new context (390 px wide unless told); external hosts (map tiles)
    are answered empty. Close it with `page.context.close()`."""
    options = {
        "viewport": {"width": 390, "height": 844},
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        **options,
    }
    context = browser.new_context(**options)
    context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: route.fulfill(status=204, body=""),
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    # What the content security policy blocked: each must be fixed, not tolerated.
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and page.csp_violations.append(f"{page.url}: {message.text}")
        ),
    )
    return page


@pytest.fixture
def page(browser, live_server, territories):
    """A fresh page at 390 px wide; external hosts (map tiles) are answered empty."""
    page = open_page(browser, live_server)
    yield page
    page.context.close()
    assert page.csp_violations == [], "\n".join(page.csp_violations)


@pytest.fixture
def territories(transactional_db):
    """Reference data, reloaded because live-server tests empty the tables after each test."""
    from tests.conftest import load_reference_data

    load_reference_data()


def phone_of(user):
    """`user`'s authenticator app, set up beforehand: a confirmed TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)


def type_app_code(page, device):
    """On the page asking for the second factor, type what the app shows, as a person would."""
    from django_otp.oath import totp

    page.get_by_label("Code à 6 chiffres de votre application").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Valider").click()
