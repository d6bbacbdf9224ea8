"""A coordinator opens the dashboard, reads what needs doing, writes the bassin's project;
axe-core finds nothing on either page."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from mediation.memberships import Coordination
from mediation.models import Structure
from territories import coverage
from tests.browser.conftest import phone_of, type_app_code
from tests.browser.test_accessibility import AXE, violations
from tests.factories import StructureFactory, UserFactory, commune

PASSWORD = "un mot de passe solide 2026"


def test_coordinator_acts_from_the_dashboard(page):
    bassin = commune("36088").bassin
    stale = StructureFactory(name="EPN d’Issoudun", commune=commune("36088"))
    then = timezone.now() - timedelta(days=800)
    Structure.objects.filter(pk=stale.pk).update(created_at=then, verified_at=then)
    coverage.compute()
    coordinator = UserFactory(email="coordination@example.fr", first_name="Dominique")
    Coordination.objects.create(user=coordinator, bassin=bassin)

    phone = phone_of(coordinator)
    page.goto(page.base_url + "/espace/connexion/")
    page.get_by_label("Adresse e-mail").fill("coordination@example.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    type_app_code(page, phone)
    page.get_by_role("link", name="Tableau de bord du territoire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(
        page.get_by_role("heading", name="À vérifier : rien de confirmé depuis plus d’un an (1)")
    ).to_be_visible()
    axe = AXE.read_text(encoding="utf-8")
    assert violations(page, axe) == []

    page.locator("section[aria-labelledby=a-verifier]").get_by_role(
        "link", name="EPN d’Issoudun"
    ).click()
    expect(page).to_have_url(f"{page.base_url}/espace/structures/{stale.pk}/modifier/")

    page.goto(page.base_url + bassin.get_absolute_url())
    page.get_by_role("link", name="Écrire le projet du bassin").click()
    assert violations(page, axe) == []
    page.get_by_label("Présentation du projet").fill("Un **bus numérique** pour les villages.")
    page.get_by_label("Partenaires").fill("Département de l’Indre")
    page.get_by_role("button", name="Enregistrer le projet").click()
    expect(page.locator("#projet-section strong")).to_have_text("bus numérique")
    expect(page.locator("#projet-section")).to_contain_text("Département de l’Indre")
