"""A coordinator merges a place listed twice, in Chromium: list → side by side → merged."""

from playwright.sync_api import expect

from mediation.models import Coordination, ServiceType, Structure
from tests.browser.conftest import phone_of, type_app_code
from tests.factories import StructureFactory, UserFactory, commune

PASSWORD = "un mot de passe solide 2026"


def test_a_coordinator_merges_the_two_records_of_a_france_services(page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ligueil = commune("37130")
    census = StructureFactory(
        name="MSAP LIGUEIL",
        address="69 rue Aristide Briand",
        commune=ligueil,
        source="Recensement régional (Hub-LO)",
        source_id="77",
        phone="+33247000000",
    )
    national = StructureFactory(
        name="France Services Ligueil",
        address="69 Rue Aristide-Briand",
        commune=ligueil,
        source="conseiller-numerique",
        source_id="cn-77",
        phone="",
        kinds=[ServiceType.objects.get(slug="france-services")],
    )
    coordinator = UserFactory(email="coordination@example.fr", first_name="Dominique")
    Coordination.objects.create(user=coordinator, bassin=ligueil.bassin)

    phone = phone_of(coordinator)
    page.goto(page.base_url + "/espace/connexion/")
    page.get_by_label("Adresse e-mail").fill("coordination@example.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    type_app_code(page, phone)

    page.get_by_role("link", name="Doublons probables").click()
    page.get_by_role("link", name="Comparer MSAP LIGUEIL et France Services Ligueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comparer deux fiches")

    # Keep the census record (it has the phone), with the national export's name and kinds.
    page.get_by_role("group", name="Nom à garder").get_by_label("Celle de droite").check()
    page.get_by_role("group", name="Types de lieu à garder").get_by_label("Les deux").check()
    expect(
        page.get_by_role("group", name="Téléphone à garder").get_by_label("Celle de gauche")
    ).to_be_checked()
    page.get_by_role("button", name="Fusionner les deux fiches").click()

    expect(page.get_by_text("Les deux fiches n’en font plus qu’une")).to_be_visible()
    survivor = Structure.objects.get(pk=census.pk)
    assert survivor.name == "France Services Ligueil"
    assert survivor.phone == "+33247000000"
    assert {k.slug for k in survivor.kinds.all()} == {"espace-public-numerique", "france-services"}

    # The archived record's address leads a visitor to the survivor's page.
    page.goto(page.base_url + national.get_absolute_url())
    assert page.url == page.base_url + survivor.get_absolute_url()
    expect(page.get_by_role("heading", level=1)).to_have_text("France Services Ligueil")
