"""The citizen's journey in Chromium: find a place, read it, report an error."""

import re

import pytest
from playwright.sync_api import expect

from mediation.models import ErrorReport, ServiceType
from tests.browser.conftest import open_page
from tests.factories import StructureFactory, commune


@pytest.fixture
def places(territories):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    return {
        "chateauroux": StructureFactory(
            name="Point numérique de Châteauroux",
            fees=["Gratuit"],
            opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
        ),
        "deols": StructureFactory(
            name="Médiathèque de Déols",
            commune=commune("36063"),
            kinds=[mediatheque],
            fees=["Payant"],
        ),
        "bourges": StructureFactory(
            name="Espace numérique de Bourges",
            commune=commune("18033"),
            fees=["Gratuit"],
        ),
    }


def result_names(page):
    return page.locator(".result-name").all_inner_texts()


def test_search_a_commune_with_a_typo_through_the_suggestions(page, places):
    page.goto(page.base_url + "/")
    field = page.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)")
    field.fill("chatearoux")
    option = page.get_by_role("option", name="Châteauroux (36000)")
    expect(option).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    field.press("ArrowDown")
    field.press("Enter")
    expect(page.locator("#resultats-titre")).to_have_text("Les lieux près de Châteauroux (36000)")
    assert result_names(page) == [
        "Point numérique de Châteauroux",
        "Médiathèque de Déols",
        "Espace numérique de Bourges",
    ]
    assert re.search(r"à \d+ m", page.locator(".result .distance").first.inner_text())
    assert "q=Ch%C3%A2teauroux+%2836000%29" in page.url


def test_typed_typo_without_choosing_a_suggestion_is_understood(page, places):
    page.goto(page.base_url + "/?q=chatearoux")
    expect(page.get_by_text("Nous avons compris « Châteauroux (36000) »")).to_be_visible()
    assert result_names(page)[0] == "Point numérique de Châteauroux"


def test_around_me_puts_the_nearest_first(browser, live_server, places):
    bourges = commune("18033")
    page = open_page(
        browser,
        live_server,
        permissions=["geolocation"],
        geolocation={"latitude": bourges.latitude, "longitude": bourges.longitude},
    )
    page.goto(page.base_url + "/")
    page.get_by_role("button", name="Autour de moi").click()
    expect(page.locator("#resultats-titre")).to_have_text("Les lieux près de votre position")
    assert result_names(page)[0] == "Espace numérique de Bourges"
    assert "lat=" in page.url and "lon=" in page.url
    page.context.close()


def test_a_filter_narrows_the_list_live_and_in_the_url(page, places):
    page.goto(page.base_url + "/?q=36000")
    assert len(result_names(page)) == 3
    page.get_by_text("Affiner la recherche").click()
    page.get_by_label("Gratuit").check()
    expect(page.locator(".result")).to_have_count(2)
    assert "Médiathèque de Déols" not in result_names(page)
    expect(page).to_have_url(re.compile(r"free=on"))
    expect(page.locator("#results-status")).to_contain_text("2 lieux")


def test_the_map_follows_the_list(page, places):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base_url + "/?q=36000")
    markers = page.locator("#map .pin, #map .cluster")
    expect(markers.first).to_be_visible()
    first = page.locator(".result").first
    first.hover()
    expect(first).to_have_class(re.compile("is-active"))
    expect(page.locator("#map .is-active")).to_have_count(1)
    # Tiles cannot load in tests: the bassins' outlines still draw the map.
    expect(page.locator("#map path.leaflet-interactive, #map svg path").first).to_be_attached()
    expect(page.locator("#map-note")).to_be_visible()


def test_a_large_directory_comes_grouped_then_in_pins_when_zooming(page, places, monkeypatch):
    from mediation import markers

    # Counted as large above 4 markers: the server groups them when more are in view.
    monkeypatch.setattr(markers, "MAX_POINTS", 4)
    monkeypatch.setattr(markers, "VIEW_MAX_PINS", 4)
    bourges = commune("18033")
    for i in range(3):
        StructureFactory(
            name=f"Lieu de Bourges {i}",
            commune=bourges,
            latitude=bourges.latitude + 0.02 * (i + 1),
            longitude=bourges.longitude,
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base_url + "/?q=36000")
    # From Châteauroux to Bourges, six places: the server's bubbles say how many.
    bubbles = page.locator("#map .cluster")
    expect(bubbles.first).to_be_visible()
    counts = [int(text.split()[0]) for text in bubbles.all_inner_texts()]
    assert sum(counts) == 6
    assert page.locator("#map .pin").count() == 0
    # A click on a bubble zooms in on its places: few enough, they come as pins.
    bubbles.first.click()
    expect(page.locator("#map .pin").first).to_be_visible()


def test_open_a_place_and_read_its_hours(page, places):
    page.goto(page.base_url + "/?q=36000")
    page.get_by_role("link", name="Point numérique de Châteauroux").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Point numérique de Châteauroux")
    expect(page.locator("#hours")).to_contain_text(
        "Du lundi au vendredi : 9 h – 12 h et 14 h – 17 h"
    )
    expect(page.locator("#opening-status")).to_contain_text(re.compile(r"Ouvert maintenant|Fermé"))
    expect(
        page.get_by_role("link", name=re.compile("Appeler le 02 54 00 00 00"))
    ).to_have_attribute("href", "tel:+33-2-54-00-00-00")
    page.locator("#map-panel").scroll_into_view_if_needed()  # a phone loads the map then
    expect(page.locator("#map .pin")).to_have_count(1)


def test_report_an_error(page, places, monkeypatch):
    from mediation.forms import ErrorReportForm

    monkeypatch.setattr(ErrorReportForm, "MIN_SECONDS", 0)
    page.goto(page.base_url + places["deols"].get_absolute_url())
    page.get_by_role("link", name="Signaler une erreur").click()
    page.get_by_label("Qu’est-ce qui est faux ou manquant ?").fill(
        "Le numéro de téléphone ne répond plus."
    )
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_text("Merci ! Votre signalement a été transmis")).to_be_visible()
    report = ErrorReport.objects.get()
    assert report.structure == places["deols"]
    assert report.message == "Le numéro de téléphone ne répond plus."


def test_everything_works_without_javascript(browser, live_server, places):
    page = open_page(browser, live_server, java_script_enabled=False)
    page.goto(page.base_url + "/")
    expect(page.get_by_role("button", name="Autour de moi")).to_be_hidden()
    page.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)").fill("chateauroux")
    page.get_by_text("Affiner la recherche").click()
    page.get_by_label("Gratuit").check()
    page.get_by_role("button", name="Voir les lieux").click()
    assert result_names(page) == ["Point numérique de Châteauroux", "Espace numérique de Bourges"]
    assert "free=on" in page.url
    page.get_by_role("link", name="Espace numérique de Bourges").click()
    expect(page.locator("#hours")).to_contain_text("Du lundi au vendredi")
    page.context.close()


def test_keyboard_only_from_search_to_detail(page, places):
    page.goto(page.base_url + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    field = page.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)")
    for _ in range(15):
        page.keyboard.press("Tab")
        if field.evaluate("node => node === document.activeElement"):
            break
    expect(field).to_be_focused()
    page.keyboard.type("36000")
    page.keyboard.press("Enter")
    expect(page.locator("#resultats-titre")).to_contain_text("Châteauroux")
    first_link = page.get_by_role("link", name="Point numérique de Châteauroux")
    for _ in range(40):
        page.keyboard.press("Tab")
        if first_link.evaluate("node => node === document.activeElement"):
            break
    expect(first_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Point numérique de Châteauroux")


def test_structure_pages_print_on_one_a4_sheet(page, territories):
    from django.core.management import call_command
    from django.db.models import Count
    from django.db.models.functions import Length

    from mediation.models import Structure

    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    most_stops = Structure.objects.annotate(n=Count("stops")).order_by("-n").first()
    longest = Structure.objects.annotate(n=Length("description")).order_by("-n").first()
    for structure in (most_stops, longest):
        page.goto(page.base_url + structure.get_absolute_url())
        pdf = page.pdf(format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"{structure.name} : {pages} pages"
