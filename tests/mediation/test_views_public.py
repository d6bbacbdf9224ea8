"""Public pages, server-rendered: the search without JavaScript, the structure page,
"Signaler une erreur", the site pages."""

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from mediation import choices
from mediation.models import ErrorReport, ServiceType
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def text(response):
    """The page's text with tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- Home and search -------------------------------------------------------------


def test_home_is_the_search(client):
    StructureFactory()
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'role="search"' in page
    assert "Où êtes-vous ? (commune, code postal ou adresse)" in text(response)
    # Shown only where scripts run (CSS `scripting`), laid out from the start: no late shift.
    assert re.search(r'<div class="around-me js-only" id="around-me-row">', page)
    assert "De quoi avez-vous besoin ?" in text(response)
    assert "Imprimer ou scanner un document" in text(response)
    for label in ("Gratuit", "Accessible en fauteuil roulant", "Ouvert maintenant"):
        assert label in text(response)


def test_search_without_javascript_lists_nearest_with_distances(client):
    StructureFactory(name="EPN de Châteauroux")
    StructureFactory(name="Médiathèque de Bourges", commune=commune("18033"))
    response = client.get("/", {"q": "chateauroux"})
    body = text(response)
    assert "Les lieux près de Châteauroux (36000)" in body
    assert body.index("EPN de Châteauroux") < body.index("Médiathèque de Bourges")
    assert re.search(r"à \d+ m", body)
    assert re.search(r"à \d+ km", body)
    assert 'href="tel:+33-2-54-00-00-00"' in response.content.decode()
    assert "Appeler le 02 54 00 00 00" in body


def test_the_url_carries_the_whole_search(client):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    StructureFactory(name="Avec", kinds=[mediatheque], fees=["Gratuit"])
    StructureFactory(name="Sans")
    response = client.get("/?q=36000&type=mediatheque&free=on")
    page = response.content.decode()
    assert "Avec" in text(response)
    assert "Sans" not in text(response)
    # The form shows the search back, ready to change.
    assert 'value="36000"' in page
    assert re.search(r'name="type" value="mediatheque"[^>]* checked', page)
    assert re.search(r'name="free"[^>]* checked', page)
    assert "2 critères" in text(response)


def test_unknown_place_gets_a_french_message_not_an_error(client):
    response = client.get("/", {"q": "chatoo"})
    assert response.status_code == 200
    assert "Nous n’avons pas trouvé « chatoo »" in text(response)
    assert "Vouliez-vous dire" in text(response)


def test_suggestion_links_keep_the_filters(client):
    page = client.get("/", {"q": "chato", "free": "on"}).content.decode()
    assert "?q=Ch%C3%A2teauroux%20%2836000%29&amp;free=on" in page


def test_no_result_says_so_and_offers_to_widen(client):
    StructureFactory()
    response = client.get("/", {"q": "chateauroux", "support": "surdite"})
    assert "Aucun lieu ne répond à tous ces critères" in text(response)
    assert 'href="?q=chateauroux"' in response.content.decode()


def test_pagination_links(client):
    StructureFactory.create_batch(23)
    response = client.get("/", {"q": "chateauroux"})
    page = response.content.decode()
    assert "Page 1 sur 2" in text(response)
    assert "?q=chateauroux&amp;page=2" in page
    assert "Lieux suivants" in text(response)


def test_map_data_passed_as_json_script_not_inline(client):
    structure = StructureFactory(services=[choices.Service.DEMARCHES])
    StructureFactory(services=[choices.Service.SECURITE])  # filtered out
    response = client.get("/", {"q": "chateauroux", "service": "demarches"})
    page = response.content.decode()
    assert '<script id="map-state" type="application/json">' in page
    assert '<script id="map-config" type="application/json">' in page
    assert '<script type="module" src="/static/js/home.js">' in page
    state = json.loads(re.search(r'id="map-state" type="application/json">(.*?)</script>', page)[1])
    # The page carries its own places only; the map asks the markers of the same
    # search (its filters, the data version) for what is in view.
    assert "ids" not in state
    assert state["nearest"] == [[structure.latitude, structure.longitude]]
    assert state["markers"].startswith("/carte/lieux.json?v=")
    assert "service=demarches" in state["markers"]
    assert "q=" not in state["markers"]  # the place does not filter the map
    rows = client.get(state["markers"]).json()["rows"]
    assert [row[0] for row in rows] == [structure.pk]


# --- Structure page ------------------------------------------------------------


def test_structure_page_shows_everything_a_visitor_needs(client):
    structure = StructureFactory(
        name="Espace numérique du Centre",
        emails=["contact@exemple.fr"],
        websites=["https://www.exemple.fr/"],
        services=["Aide aux démarches administratives"],
        publics=["Seniors"],
        fees=["Gratuit"],
        specific_support=["Surdité"],
        labels=["Formé à « Mon Espace Santé »"],
        wheelchair_accessible=True,
        opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
    )
    response = client.get(structure.get_absolute_url())
    body = text(response)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Espace numérique du Centre" in body
    assert "Espace Public Numérique" in body
    assert 'href="tel:+33-2-54-00-00-00"' in page
    assert 'href="mailto:contact@exemple.fr"' in page
    assert 'href="https://www.exemple.fr/"' in page
    assert "Du lundi au vendredi : 9 h – 12 h et 14 h – 17 h" in body
    assert re.search(r"(Ouvert maintenant|Fermé)", body)
    # The standard's wording stays for partners; a citizen reads plain French.
    for fact in (
        "Aide pour les démarches en ligne",
        "Personnes âgées",
        "Gratuit",
        "Personnes sourdes ou malentendantes",
    ):
        assert fact in body
    assert "Seniors" not in body and "Surdité" not in body
    assert "Accessible en fauteuil roulant" in body
    assert "Formé à « Mon Espace Santé »" in body
    assert "openstreetmap.org/directions" in page
    assert "Modifiée le" in body
    assert reverse("mediation:report_error", args=[structure.slug]) in page


def test_itinerant_stops_with_places_and_days(client):
    stop = StopFactory(place="Place de l’église", opening_hours="We[1] 09:00-12:00")
    response = client.get(stop.structure.get_absolute_url())
    body = text(response)
    assert "Où et quand le trouver" in body
    assert f"{stop.commune.name} — Place de l’église" in body
    assert "Le 1er mercredi du mois : 9 h – 12 h" in body


def test_unpublished_structure_is_not_found(client):
    structure = StructureFactory(status="draft")
    assert client.get(structure.get_absolute_url()).status_code == 404


def test_printed_page_carries_its_address_a_qr_code_and_the_date(client):
    structure = StructureFactory(opening_hours="Mo-Fr 09:00-12:00")
    page = client.get(structure.get_absolute_url()).content.decode()
    url = f"http://testserver{structure.get_absolute_url()}"
    foot = page[page.index('class="print-only print-foot"') :]
    assert url in foot
    assert '<svg width="' in foot and 'class="segno"' in foot
    assert "Fiche imprimée le" in foot
    # "Ouvert maintenant" / "Fermé" would be wrong on paper.
    assert re.search(r'class="status status-big no-print', page)


def test_print_stylesheet_exists(client):
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/site.css").read_text()
    assert "@media print" in css
    assert "size: A4" in css


# --- Signaler une erreur -------------------------------------------------------


def report_form(client, structure):
    url = reverse("mediation:report_error", args=[structure.slug])
    page = client.get(url).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return url, token


@pytest.fixture
def patient_visitor(monkeypatch):
    """A visitor who took longer than the minimum time to write."""
    from mediation.forms import ErrorReportForm

    monkeypatch.setattr(ErrorReportForm, "MIN_SECONDS", 0)


def test_report_is_stored_for_moderation(client, patient_visitor):
    structure = StructureFactory()
    url, token = report_form(client, structure)
    response = client.post(
        url,
        {"message": "Le mercredi, c’est fermé.", "email": "a@exemple.fr", "token": token},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == structure.get_absolute_url()
    assert "Merci ! Votre signalement a été transmis" in text(response)
    report = ErrorReport.objects.get()
    assert report.structure == structure
    assert report.message == "Le mercredi, c’est fermé."
    assert report.state == ErrorReport.State.NEW


def test_report_errors_in_french(client, patient_visitor):
    structure = StructureFactory()
    url, token = report_form(client, structure)
    response = client.post(url, {"message": "", "email": "pas-une-adresse", "token": token})
    assert response.status_code == 400
    assert "Décrivez l’erreur en quelques mots." in text(response)
    assert "Cette adresse e-mail n’est pas valide" in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ErrorReport.objects.exists()


@pytest.mark.parametrize("trap", ["honeypot", "too-fast", "forged"])
def test_bots_are_thanked_but_nothing_is_stored(client, trap, monkeypatch):
    from mediation.forms import ErrorReportForm

    if trap != "too-fast":
        monkeypatch.setattr(ErrorReportForm, "MIN_SECONDS", 0)
    structure = StructureFactory()
    url, token = report_form(client, structure)
    data = {"message": "Achetez des montres pas chères", "token": token}
    if trap == "honeypot":
        data["website"] = "http://spam.example"
    if trap == "forged":
        data["token"] = "report:forged:token"
    response = client.post(url, data)
    assert response.status_code == 302
    assert not ErrorReport.objects.exists()


def test_at_most_five_reports_per_visitor_per_hour(client, patient_visitor):
    structure = StructureFactory()
    url, token = report_form(client, structure)
    for n in range(5):
        client.post(url, {"message": f"Erreur numéro {n}", "token": token})
    response = client.post(url, {"message": "Encore une erreur", "token": token})
    assert response.status_code == 429
    assert "réessayer dans une heure" in text(response)
    assert ErrorReport.objects.count() == 5
    # Another visitor is not blocked.
    other = client.post(url, {"message": "Autre visiteur", "token": token}, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert ErrorReport.objects.count() == 6


# --- Kinds and site pages --------------------------------------------------------


def test_kind_page_explains_in_plain_french(client):
    StructureFactory(name="Le lieu EPN")
    kind = ServiceType.objects.get(slug="espace-public-numerique")
    response = client.get(kind.get_absolute_url())
    assert kind.description in text(response)
    assert "Le lieu EPN" in text(response)
    assert "?type=espace-public-numerique" in response.content.decode()


def test_kind_index_lists_the_seven_kinds(client):
    response = client.get(reverse("mediation:service_types"))
    for kind in ServiceType.objects.all():
        assert kind.name in text(response)


@pytest.mark.parametrize(
    ("url", "wording"),
    [
        ("/accessibilite/", "partiellement conforme"),
        ("/mentions-legales/", "Licence Ouverte 2.0"),
    ],
)
def test_site_pages(client, url, wording):
    response = client.get(url)
    assert response.status_code == 200
    assert wording in text(response)


def test_footer_and_header_links(client):
    page = client.get("/").content.decode()
    for href in (
        "/accessibilite/",
        "/mentions-legales/",
        "/api/v1/documentation/",
        "/territoires/bassins/",
        "/types/",
    ):
        assert f'href="{href}"' in page
    assert 'aria-current="page"' in page


@pytest.mark.parametrize("url", ["/", "/mentions-legales/", "/accessibilite/"])
def test_every_internal_link_leads_somewhere(client, url):
    """No dead end: each link of the page's own site answers (directly or after a redirect)."""
    page = client.get(url).content.decode()
    hrefs = {h for h in re.findall(r'href="(/[^"#]*)', page) if not h.startswith("/static/")}
    assert hrefs
    broken = {h: client.get(h.replace("&amp;", "&"), follow=True).status_code for h in hrefs}
    assert {h: s for h, s in broken.items() if s != 200} == {}


def test_map_tiles_come_from_the_settings_with_their_attribution(client, settings):
    url, attribution = settings.MAP_TILE_PROVIDERS["ign"]
    settings.MAP_TILE_URL, settings.MAP_TILE_ATTRIBUTION = url, attribution
    page = client.get("/").content.decode()
    config = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', page)
    import json

    data = json.loads(config.group(1))
    assert data["tiles"] == url
    assert "IGN" in data["attribution"]
    assert data["outlines"] == "/territoires/bassins.geojson"  # drawn when tiles fail


def test_the_site_has_an_icon_even_where_no_page_names_it(client):
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")  # what browsers ask on the admin's pages
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"


def test_a_search_too_long_is_answered_in_french_at_once(client):
    StructureFactory(name="EPN de Châteauroux")
    response = client.get("/", {"q": "chateauroux " * 4000})
    assert response.status_code == 200
    assert "Votre recherche est trop longue : 200 caractères au plus" in text(response)
    assert "EPN de Châteauroux" not in text(response)
    words = client.get("/", {"q": " ".join(["st"] * 25)})
    assert "trop de mots : 20 au plus" in text(words)


def test_a_page_beyond_the_last_shows_the_last_page(client):
    StructureFactory(name="EPN de Châteauroux")
    response = client.get("/", {"q": "chateauroux", "page": "99999999999999999999999"})
    assert response.status_code == 200
    assert "EPN de Châteauroux" in text(response)


def test_the_site_search_forgives_accents_and_case(client):
    StructureFactory(name="EPN de Châteauroux")
    StructureFactory(name="Médiathèque de Bourges", commune=commune("18033"))
    pages = [
        text(client.get("/", {"q": typed}))
        for typed in ("Châteauroux", "CHATEAUROUX", "chateauroux", "CHÂTEAUROUX")
    ]
    assert all("Les lieux près de Châteauroux (36000)" in page for page in pages)
    assert (
        len(
            {
                page.index("EPN de Châteauroux") < page.index("Médiathèque de Bourges")
                for page in pages
            }
        )
        == 1
    )
