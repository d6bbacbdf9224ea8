"""Nothing lost on the edit page, in Chromium: two people at once, and unsaved changes."""

from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from mediation import second_factor
from mediation.models import Coordination, Membership, Stop, Structure
from tests.browser.conftest import open_page
from tests.conftest import pass_second_factor
from tests.factories import StopFactory, StructureFactory, UserFactory, commune


def logged_in(browser, live_server, user):
    """A page of its own (a browser context: its own cookies) where `user` is logged in."""
    client = Client()
    client.force_login(user)
    if second_factor.required(user):
        pass_second_factor(client, user)
    page = open_page(browser, live_server)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def people_and_place():
    structure = StructureFactory(name="Espace numérique du Centre", commune=commune("36044"))
    StopFactory(structure=structure, place="Salle des fêtes", note="Devant la mairie")
    structure.save()  # as the edit page does: the version follows its stops
    mediator = UserFactory(email="mediatrice@example.fr", first_name="Camille")
    Membership.objects.create(user=mediator, structure=structure)
    coordinator = UserFactory(email="coordination@example.fr", first_name="Dominique")
    Coordination.objects.create(user=coordinator, bassin=structure.commune.bassin)
    return structure, mediator, coordinator


def save_through_the_preview(page):
    page.get_by_role("button", name="Voir l’aperçu").last.click()
    page.locator(".preview").get_by_role("button", name="Enregistrer").click()


def test_two_people_edit_at_once_and_neither_loses_anything(browser, live_server, territories):
    structure, mediator, coordinator = people_and_place()
    edit = f"{live_server.url}/espace/structures/{structure.pk}/modifier/"
    camille = logged_in(browser, live_server, mediator)
    dominique = logged_in(browser, live_server, coordinator)
    try:
        camille.goto(edit)  # her page stays open on this version

        # Defect 1: the coordinator saves hours notes and a stop note meanwhile.
        dominique.goto(edit)
        dominique.get_by_label("Précisions sur les horaires").fill("Fermé en août")
        dominique.locator("#id_stops-0-note").fill("Derrière l’église")
        save_through_the_preview(dominique)
        expect(dominique.locator(".messages")).to_contain_text(
            "Vos modifications sont enregistrées"
        )

        # The mediator changes the phone on her old page: her preview lists her change only.
        camille.get_by_label("Téléphone", exact=True).fill("02 54 99 99 99")
        camille.get_by_role("button", name="Voir l’aperçu").last.click()
        expect(camille.locator("#conflit")).to_contain_text("Fermé en août")
        expect(camille.locator(".preview .changes li")).to_have_count(1)
        expect(camille.locator(".preview .changes")).to_contain_text("Téléphone")
        expect(camille.get_by_label("Précisions sur les horaires")).to_have_value("Fermé en août")
        camille.locator(".preview").get_by_role("button", name="Enregistrer").click()
        expect(camille.locator(".messages")).to_contain_text("Vos modifications sont enregistrées")
        structure = Structure.objects.get(pk=structure.pk)
        assert structure.phone == "+33254999999"
        assert structure.opening_hours_note == "Fermé en août"
        assert Stop.objects.get(structure=structure).note == "Derrière l’église"

        # Both change the name: side by side, she chooses.
        camille.goto(edit)
        dominique.goto(edit)
        dominique.get_by_label("Nom du lieu").fill("Espace numérique Balsan")
        save_through_the_preview(dominique)
        expect(dominique.locator(".messages")).to_contain_text(
            "Vos modifications sont enregistrées"
        )
        camille.get_by_label("Nom du lieu").fill("Médiathèque du Centre")
        camille.get_by_label("Présentation en une ou deux phrases").fill("Ateliers le mardi.")
        camille.get_by_role("button", name="Voir l’aperçu").last.click()
        conflict = camille.locator(".conflict")
        expect(conflict).to_contain_text("Médiathèque du Centre")
        expect(conflict).to_contain_text("Espace numérique Balsan")
        camille.locator(".conflicts").scroll_into_view_if_needed()
        camille.screenshot(path="/tmp/rules-conflict.png", full_page=False)
        # Saving without choosing asks again; nothing is saved meanwhile.
        camille.locator(".preview").get_by_role("button", name="Enregistrer").click()
        expect(camille.locator(".conflicts")).to_contain_text("Choisissez une valeur pour chaque")
        assert Structure.objects.get(pk=structure.pk).summary == ""
        conflict.get_by_label("Valeur enregistrée par Dominique").check()
        camille.get_by_role("button", name="Voir l’aperçu").last.click()
        camille.locator(".preview").get_by_role("button", name="Enregistrer").click()
        expect(camille.locator(".messages")).to_contain_text("Vos modifications sont enregistrées")
        structure = Structure.objects.get(pk=structure.pk)
        assert structure.name == "Espace numérique Balsan"
        assert structure.summary == "Ateliers le mardi."
    finally:
        for page in (camille, dominique):
            page.context.close()
            assert page.csp_violations == [], page.csp_violations


def test_unsaved_changes_are_never_dropped_silently(browser, live_server, territories):
    structure, mediator, _coordinator = people_and_place()
    page = logged_in(browser, live_server, mediator)
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", answer)
    try:
        page.goto(f"{live_server.url}/espace/structures/{structure.pk}/modifier/")
        page.wait_for_load_state("load")
        phone = page.get_by_label("Téléphone", exact=True)
        phone.fill("")
        phone.press_sequentially("02 54 12 34 57")

        # Leaving the page asks first; staying keeps what was typed.
        page.get_by_role("link", name="Mon espace").first.click()
        page.wait_for_timeout(300)
        assert dialogs == ["beforeunload"]
        expect(phone).to_have_value("02 54 12 34 57")

        # "Ces informations sont à jour" shows the unsaved change, then saves it with the date.
        page.get_by_role("button", name="Ces informations sont à jour").click()
        preview = page.locator(".preview")
        expect(preview).to_contain_text(
            "Vous aviez des modifications qui n’étaient pas enregistrées"
        )
        expect(preview.locator(".changes")).to_contain_text("Téléphone")
        preview.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".messages")).to_contain_text("Vos modifications sont enregistrées")
        structure = Structure.objects.get(pk=structure.pk)
        assert structure.phone == "+33254123457"
        assert structure.verified_at is not None
        assert dialogs == ["beforeunload"]  # submitting the form never asked
        # The saved page shows the number as people write it, and leaving it asks nothing.
        expect(phone).to_have_value("02 54 12 34 57")
        page.get_by_role("link", name="Mon espace").first.click()
        expect(page).to_have_url(f"{live_server.url}/espace/")
        assert dialogs == ["beforeunload"]
    finally:
        page.context.close()
        assert page.csp_violations == [], page.csp_violations
