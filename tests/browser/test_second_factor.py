"""A coordinator's first login with the second factor, in Chromium: the key typed into
an app, a first code, the recovery codes; then a login with a recovery code.
axe-core finds nothing on the set-up and code pages."""

import base64
import re

from django_otp.oath import totp
from playwright.sync_api import expect

from mediation.memberships import Coordination
from tests.browser.test_accessibility import AXE, violations
from tests.factories import UserFactory, commune

PASSWORD = "un mot de passe solide 2026"


def log_in(page):
    page.goto(page.base_url + "/espace/connexion/")
    page.get_by_label("Adresse e-mail").fill("coordination@example.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_a_coordinator_sets_up_the_app_then_logs_in_with_a_recovery_code(page):
    coordinator = UserFactory(email="coordination@example.fr")
    Coordination.objects.create(user=coordinator, bassin=commune("36044").bassin)
    axe = AXE.read_text(encoding="utf-8")

    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.locator(".qr-code svg")).to_be_visible()
    assert violations(page, axe) == []
    # Without a camera, the person types the key into the app, which computes the code.
    key = page.locator(".manual-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    page.get_by_label("Code à 6 chiffres de votre application").fill(f"{totp(secret):06d}")
    page.get_by_role("button", name="Activer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification activée")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="J’ai noté mes codes, continuer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mon espace")

    # Next time, the phone is lost: a recovery code, once.
    page.get_by_role("button", name="Se déconnecter").first.click()
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmez votre connexion")
    assert violations(page, axe) == []
    page.get_by_label("Code de secours").fill(codes[0].upper())
    page.get_by_role("button", name="Utiliser ce code de secours").click()
    expect(page.locator(".messages")).to_contain_text("il vous en reste 9")
    assert re.search(r"/espace/$", page.url)
