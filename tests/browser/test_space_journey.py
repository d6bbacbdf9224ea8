"""A new mediator's first visit, in Chromium: invitation e-mail → password → hours → public page."""

import re

from django.core import mail
from playwright.sync_api import expect

from mediation.models import Coordination, Structure
from mediation.space import actions
from tests.factories import StructureFactory, UserFactory, commune


def test_invited_mediator_sets_a_password_and_edits_the_hours(page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    structure = StructureFactory(
        name="Cyber-base de Saint-Jean", commune=commune("36044"), summary="Aide au numérique."
    )
    coordinator = UserFactory(email="coordination@example.fr", first_name="Dominique")
    Coordination.objects.create(user=coordinator, bassin=structure.commune.bassin)

    # The coordinator's invitation arrives by e-mail.
    actions.invite(
        email="ines@example.fr",
        structure=structure,
        invited_by=coordinator,
        build_url=lambda path: page.base_url + path,
    )
    link = re.search(r"http://\S+/espace/invitation/\S+/", mail.outbox[-1].body).group(0)

    # She opens it and chooses her password.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cyber-base de Saint-Jean")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Robert")
    page.get_by_label("Mot de passe", exact=True).fill("la caravane passe le mardi")
    page.get_by_label("Le même mot de passe, une seconde fois").fill("la caravane passe le mardi")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Modifier « Cyber-base de Saint-Jean »"
    )

    # The hours editor: open on Saturday morning, without typing the OSM syntax.
    hours_field = page.locator("#id_opening_hours")
    expect(hours_field).to_be_hidden()  # the raw field waits in "saisie avancée"
    saturday = page.get_by_role("group", name="Samedi")
    saturday.get_by_label("Ouvert le samedi").check()
    saturday.get_by_label("De").fill("10:00")
    saturday.get_by_label("à").fill("12:30")
    saturday.get_by_label("à").blur()
    expect(hours_field).to_have_value("Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:30")

    # Preview, then save.
    page.get_by_role("button", name="Voir l’aperçu").last.click()
    preview = page.locator(".preview")
    expect(preview).to_contain_text("Samedi : 10 h – 12 h 30")
    preview.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("Vos modifications sont enregistrées")
    assert Structure.objects.get(pk=structure.pk).opening_hours == (
        "Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:30"
    )

    # The public page shows the new hours.
    page.goto(page.base_url + structure.get_absolute_url())
    expect(page.locator("#hours")).to_contain_text("Samedi : 10 h – 12 h 30")

    # The history shows who changed what.
    page.goto(page.base_url + f"/espace/structures/{structure.pk}/historique/")
    latest = page.locator(".history-entry").first
    expect(latest).to_contain_text("Inès Robert")
    expect(latest.get_by_role("row", name=re.compile("Horaires"))).to_contain_text("Sa 10:00-12:30")
