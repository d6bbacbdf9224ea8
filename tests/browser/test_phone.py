"""The citizen on a phone (360 × 640): the answer on the first screen, the map only
when wanted, what was typed understood, itinerant help found where it stops."""

import re

import pytest
from playwright.sync_api import expect

from mediation.geocoding import Place
from tests.browser.conftest import open_page
from tests.factories import StopFactory, StructureFactory, commune

PHONE = {"width": 360, "height": 640}
MAP_FILES = re.compile(r"leaflet|markercluster|/carte/|/territoires/.*contours|tile")


@pytest.fixture
def places(territories):
    issoudun, ardentes = commune("36088"), commune("36005")
    bus = StructureFactory(
        name="Bus numérique de l’Indre", itinerance=["Itinérant"], fees=["Gratuit"]
    )  # based in Châteauroux
    StopFactory(
        structure=bus,
        commune=ardentes,
        place="Place de l’église",
        opening_hours="Tu[1] 14:00-17:00",
    )
    return {
        "issoudun": StructureFactory(
            name="Espace numérique d’Issoudun",
            commune=issoudun,
            latitude=issoudun.latitude,
            longitude=issoudun.longitude,
            fees=["Gratuit"],
        ),
        "chateauroux": StructureFactory(name="Point numérique de Châteauroux", fees=["Payant"]),
        "bus": bus,
    }


@pytest.fixture
def phone(browser, live_server, territories):
    page = open_page(browser, live_server, viewport=PHONE)
    page.map_requests = []
    page.on("request", lambda r: MAP_FILES.search(r.url) and page.map_requests.append(r.url))
    yield page
    page.context.close()
    assert page.csp_violations == [], "\n".join(page.csp_violations)


def test_first_result_in_view_after_a_search_and_no_map_downloaded(phone, places):
    phone.goto(phone.base_url + "/")
    field = phone.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)")
    field.fill("Issoudun")
    field.press("Enter")  # the suggestions may cover the button on a phone
    expect(phone.locator(".where-summary")).to_have_text(
        re.compile(r"Près d’Issoudun\s*·\s*Modifier")
    )
    first = phone.locator(".result-name").first
    expect(first).to_have_text("Espace numérique d’Issoudun")
    expect(first).to_be_in_viewport()
    # The field keeps what was asked.
    phone.locator(".where-summary").click()
    expect(phone.locator("#id_q")).to_have_value("Issoudun")
    phone.wait_for_load_state("networkidle")
    assert phone.map_requests == []
    # Opened on request: the library, the markers and the pins come then.
    phone.locator(".where-summary").click()
    phone.get_by_role("link", name="Voir ces lieux sur la carte").click()
    expect(phone.locator("#map .pin, #map .cluster").first).to_be_attached()
    assert any("leaflet" in url for url in phone.map_requests)
    assert any("/carte/" in url for url in phone.map_requests)


def test_first_result_in_view_after_around_me(browser, live_server, places):
    issoudun = commune("36088")
    page = open_page(
        browser,
        live_server,
        viewport=PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": issoudun.latitude, "longitude": issoudun.longitude},
    )
    page.goto(page.base_url + "/")
    page.get_by_role("button", name="Autour de moi").click()
    expect(page.locator(".where-summary")).to_contain_text("Près de votre position")
    first = page.locator(".result-name").first
    expect(first).to_have_text("Espace numérique d’Issoudun")
    expect(first).to_be_in_viewport()
    expect(page.locator("#id_q")).to_have_value("Ma position")
    page.context.close()


def test_without_javascript_the_summary_and_the_first_result_too(browser, live_server, places):
    page = open_page(browser, live_server, viewport=PHONE, java_script_enabled=False)
    page.goto(page.base_url + "/?q=Issoudun")
    expect(page.locator(".result-name").first).to_be_in_viewport()
    expect(page.get_by_role("button", name="Autour de moi")).to_be_hidden()
    expect(page.locator("#map-panel")).to_be_hidden()
    page.locator(".where-summary").click()
    expect(page.locator("#id_q")).to_have_value("Issoudun")
    page.context.close()


@pytest.mark.parametrize(
    ("typed", "heading", "detail"),
    [
        ("Issoudun 36100", "Les lieux près d’Issoudun (36100)", None),
        ("Issoudun, 36100", "Les lieux près d’Issoudun (36100)", None),
        ("Vierzon 18100", "Les lieux près de Vierzon (18100)", None),
        ("Blois 41000", "Les lieux près de Blois (41000)", None),
        ("Bourges centre", "Les lieux près de Bourges (18000)", "« Bourges centre »"),
        ("Tours nord", "Les lieux près de Tours (37000)", "« Tours nord »"),
        ("Orléans la Source", "Les lieux près d’Orléans (45000)", "« Orléans la Source »"),
        ("Paris", "Hors de la région", "Paris n’est pas en Centre-Val de Loire"),
        ("Limoges", "Hors de la région", "Limoges n’est pas en Centre-Val de Loire"),
        ("75001", "Hors de la région", "Le code postal 75001 n’est pas en Centre-Val de Loire"),
        ("", "Que faut-il taper ?", "Tapez le nom de votre commune"),
    ],
)
def test_what_was_typed_is_understood(phone, places, fake_geocoder, typed, heading, detail):
    fake_geocoder["Paris"] = Place(48.8589, 2.347, "Paris", "75056")
    fake_geocoder["Limoges"] = Place(45.8315, 1.2578, "Limoges", "87085")
    phone.goto(phone.base_url + "/")
    field = phone.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)")
    field.fill(typed)
    field.press("Enter")
    expect(phone.locator("#resultats-titre")).to_have_text(heading)
    if detail:
        expect(phone.locator("#resultats")).to_contain_text(detail)
    if heading == "Hors de la région":
        link = phone.get_by_role("link", name=re.compile("cartographie nationale"))
        expect(link).to_have_attribute(
            "href", re.compile(r"^https://cartographie\.societenumerique\.gouv\.fr")
        )
        expect(link).to_be_in_viewport()


def test_a_position_outside_the_region_is_told_plainly(browser, live_server, places):
    page = open_page(
        browser,
        live_server,
        viewport=PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": 48.8589, "longitude": 2.347},  # Paris
    )
    page.goto(page.base_url + "/")
    page.get_by_role("button", name="Autour de moi").click()
    expect(page.locator("#resultats-titre")).to_have_text("Hors de la région")
    expect(page.locator("#resultats")).to_contain_text(
        "Votre position n’est pas en Centre-Val de Loire"
    )
    page.context.close()


def test_an_itinerant_stop_is_found_in_the_list_and_by_the_api(phone, places):
    phone.goto(phone.base_url + "/?q=Ardentes")
    first = phone.locator(".result").first
    expect(first.locator(".result-name")).to_have_text("Bus numérique de l’Indre")
    expect(first.locator(".stop-line")).to_contain_text("Passe à Ardentes")
    expect(first.locator(".stop-line")).to_contain_text("le 1er mardi du mois : 14 h – 17 h")
    expect(first.locator(".stop-line")).to_contain_text(re.compile(r"· à \d+ m"))
    ardentes = commune("36005")
    response = phone.request.get(
        phone.base_url
        + f"/api/v1/structures/?near={ardentes.latitude},{ardentes.longitude}&radius=5"
    )
    names = [item["nom"] for item in response.json()["results"]]
    assert names[0] == "Bus numérique de l’Indre"


def test_a_filter_says_the_new_count_next_to_it(phone, places):
    phone.goto(phone.base_url + "/?q=Issoudun")
    phone.get_by_text("Affiner la recherche").click()
    phone.get_by_label("Gratuit").check()
    count = phone.locator("#filters-count")
    expect(count).to_have_text("2 lieux")
    expect(count).to_be_in_viewport()
    jump = phone.get_by_role("link", name="Voir les 2 lieux")
    expect(jump).to_be_in_viewport()
    jump.click()
    expect(phone.locator(".result-name").first).to_be_in_viewport()


def test_tap_targets_are_at_least_44_px(phone, places):
    phone.goto(phone.base_url + "/?q=Issoudun")
    phone.get_by_role("link", name="Voir ces lieux sur la carte").click()
    pin = phone.locator("#map .pin").first
    expect(pin).to_be_attached()
    box = pin.bounding_box()
    # Layout is sub-pixel: a 44 px box may measure 43.99998 px.
    assert round(box["width"], 2) >= 44 and round(box["height"], 2) >= 44
    tag = phone.locator(".kind-info > summary").first
    assert tag.bounding_box()["height"] >= 44
