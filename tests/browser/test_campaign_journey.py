"""The update campaign in Chromium: the e-mail's link → "Tout est juste"; another
place's link → a correction with the hours editor → the coordinator's moderation."""

import re
from io import StringIO

from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from mediation.models import CampaignMail, Coordination, ProposedChange, Structure
from tests.browser.conftest import phone_of, type_app_code
from tests.factories import StructureFactory, UserFactory, commune


def campaign_links(base_url):
    call_command("send_update_campaign", "--base-url", base_url, stdout=StringIO())
    return {
        message.to[0]: re.search(r"http://\S+/espace/mise-a-jour/\S+/", message.body).group(0)
        for message in mail.outbox
    }


def test_a_place_confirms_then_another_corrects_its_hours_for_the_coordinator(page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    confirmed = StructureFactory(
        name="Médiathèque Équinoxe", commune=commune("36044"), emails=["equinoxe@example.fr"]
    )
    corrected = StructureFactory(
        name="Espace numérique de Déols", commune=commune("36063"), emails=["deols@example.fr"]
    )
    coordinator = UserFactory(email="coordination@example.fr")
    Coordination.objects.create(user=coordinator, bassin=corrected.commune.bassin)
    links = campaign_links(page.base_url)

    # The first place: one click.
    page.goto(links["equinoxe@example.fr"])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Médiathèque Équinoxe")
    # The link's token left the address (kept in the session), as a password reset's does.
    assert re.search(r"/espace/mise-a-jour/lien-\d+/$", page.url)
    page.get_by_role("button", name="Tout est juste").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci !")
    expect(page.locator("main")).to_contain_text("vérifiée aujourd’hui")
    assert Structure.objects.get(pk=confirmed.pk).verified_at is not None

    # The second: opens Saturday morning with the mediators' hours editor.
    page.goto(links["deols@example.fr"])
    page.get_by_role("link", name="Corriger ma fiche").click()
    saturday = page.get_by_role("group", name="Samedi")
    saturday.get_by_label("Ouvert le samedi").check()
    saturday.get_by_label("De").fill("10:00")
    saturday.get_by_label("à").fill("12:30")
    saturday.get_by_label("à").blur()
    page.get_by_role("button", name="Voir l’aperçu").last.click()
    preview = page.locator(".preview")
    expect(preview).to_contain_text("Samedi : 10 h – 12 h 30")
    preview.get_by_role("button", name="Envoyer ma correction").click()
    expect(page.locator("main")).to_contain_text("transmise au coordinateur")
    assert Structure.objects.get(pk=corrected.pk).opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert ProposedChange.objects.get().structure_id == corrected.pk

    # The coordinator reads the diff and publishes it.
    phone = phone_of(coordinator)
    page.goto(page.base_url + "/espace/connexion/?next=/espace/moderation/")
    page.get_by_label("Adresse e-mail").fill("coordination@example.fr")
    page.get_by_label("Mot de passe").fill("un mot de passe solide 2026")
    page.get_by_role("button", name=re.compile("connecter", re.I)).click()
    type_app_code(page, phone)
    card = page.locator("article", has_text="Espace numérique de Déols")
    expect(card).to_contain_text("Sa 10:00-12:30")
    card.get_by_role("button", name="Publier la correction").click()
    expect(page.locator(".messages")).to_contain_text("est corrigée")
    assert Structure.objects.get(pk=corrected.pk).opening_hours == (
        "Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:30"
    )
    assert set(CampaignMail.objects.values_list("outcome", flat=True)) == {
        "confirmed",
        "corrected",
    }
