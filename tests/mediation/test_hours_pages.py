"""Hours as a visitor reads them: machine-readable, as the place gave them in text, or unknown."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db

CENSUS_TEXT = "Sur RDV : 02.19.55.62.93"


def text(response):
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_hours_given_as_text_are_shown_as_given_never_as_unknown(client):
    structure = StructureFactory(
        name="EPN de Châteauroux", opening_hours="", opening_hours_note=CENSUS_TEXT
    )
    page = text(client.get(structure.get_absolute_url()))
    assert "Horaires (tels que communiqués par le lieu)" in page
    assert CENSUS_TEXT in page
    assert "non renseignés" not in page
    results = text(client.get("/", {"q": "chateauroux"}))
    assert "EPN de Châteauroux" in results
    assert "Horaires communiqués par le lieu — voir la fiche" in results
    assert "non renseignés" not in results


def test_text_beside_machine_readable_hours_is_shown_as_details(client):
    structure = StructureFactory(
        opening_hours="Mo-Fr 09:00-12:30",
        opening_hours_note="Accueil du public du lundi au vendredi de 09h00 à 12h30 sans RDV.",
    )
    page = text(client.get(structure.get_absolute_url()))
    assert "Du lundi au vendredi : 9 h – 12 h 30" in page
    assert "Précisions (telles que communiquées par le lieu)" in page
    assert "sans RDV." in page


def test_a_place_with_no_hours_at_all_says_so(client):
    structure = StructureFactory(opening_hours="", opening_hours_note="")
    page = text(client.get(structure.get_absolute_url()))
    assert "Horaires non renseignés : appelez avant de vous déplacer." in page


def test_the_update_campaign_page_shows_text_hours_as_given(client):
    StructureFactory(
        commune=commune("36044"),
        emails=["accueil@exemple.fr"],
        opening_hours="",
        opening_hours_note=CENSUS_TEXT,
    )
    call_command("send_update_campaign", "--base-url", "https://m.example", stdout=StringIO())
    link = re.search(r"https://m\.example(/espace/mise-a-jour/\S+/)", mail.outbox[0].body)[1]
    # The first visit moves the token into the session and leads to a clean address.
    page = text(client.get(link, follow=True))
    assert f"Horaires Tels que communiqués : {CENSUS_TEXT}" in page
    assert "Horaires (non renseignés)" not in page
