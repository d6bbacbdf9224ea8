"""RGAA / WCAG 2.1 AA: axe-core finds nothing on the citizen's pages, which reflow at
320 px (and so at 200 % zoom of a 640 px window) without horizontal scrolling."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.conftest import open_page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_source():
    if not AXE.exists():
        pytest.fail(f"axe-core est introuvable ({AXE}) : lancez `make install` (npm ci).")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def demo(territories):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    from mediation.models import Structure
    from territories import coverage

    coverage.compute()  # the bassin pages' portraits

    return Structure.objects.filter(stops__isnull=False).first()


def violations(page, axe_source):
    # Evaluated by the test driver, as from the developer tools: the page's
    # content security policy refuses inline scripts, add_script_tag included.
    page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    assert len(result["passes"]) > 10, "axe-core did not run its rules"
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


PAGES = {
    "accueil": "/",
    "résultats": "/?q=chateauroux&type=espace-public-numerique&free=on",
    "introuvable": "/?q=chato",
    "bassin": "/territoires/bassins/chateauroux/",
    "bassins": "/territoires/bassins/",
    "comparaison des bassins": "/territoires/bassins/comparaison/?tri=moins-10-km",
    "type de lieu": "/types/france-services/",
    "département": "/territoires/departements/indre/",
}


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_no_violation(browser, live_server, demo, axe_source, width):
    page = open_page(browser, live_server, viewport={"width": width, "height": 900})
    urls = {
        **PAGES,
        "fiche": demo.get_absolute_url(),
        "signalement": demo.get_absolute_url() + "signaler/",
    }
    found = {}
    for name, url in urls.items():
        page.goto(page.base_url + url)
        page.wait_for_load_state("networkidle")
        if name == "résultats":
            page.get_by_text("Affiner la recherche").click()  # the filters, opened
        found[name] = violations(page, axe_source)
    page.context.close()
    assert found == {name: [] for name in urls}, json.dumps(found, ensure_ascii=False, indent=1)
    assert page.csp_violations == [], "\n".join(page.csp_violations)


def test_typeahead_open_has_no_violation(page, demo, axe_source):
    page.goto(page.base_url + "/")
    page.get_by_label("Où êtes-vous ? (commune, code postal ou adresse)").fill("st amand")
    page.get_by_role("option").first.wait_for()
    assert violations(page, axe_source) == []


def test_no_horizontal_scrolling_at_320_px(browser, live_server, demo):
    page = open_page(browser, live_server, viewport={"width": 320, "height": 640})
    widths = {}
    for url in ["/", "/?q=chateauroux", demo.get_absolute_url(), "/territoires/bassins/tours/"]:
        page.goto(page.base_url + url)
        page.wait_for_load_state("networkidle")
        widths[url] = page.evaluate("document.documentElement.scrollWidth")
    page.context.close()
    assert all(width <= 320 for width in widths.values()), widths


def test_usable_at_200_percent_zoom(browser, live_server, demo):
    """A 1280 × 800 screen zoomed to 200 % lays the page out in 640 × 400 CSS pixels,
    drawn at twice the density: nothing scrolls sideways and the search still works."""
    page = open_page(
        browser, live_server, viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    page.goto(page.base_url + "/")
    field = page.get_by_label("Où êtes-vous ?")
    field.fill("chateauroux")
    field.press("Enter")
    page.wait_for_load_state("networkidle")
    heading_visible = page.get_by_role("heading", name="Les lieux près de Châteauroux").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    first_result = page.locator("#resultats a").first.bounding_box()
    page.context.close()
    assert width <= 640
    assert first_result is not None and first_result["x"] + first_result["width"] <= 640
    assert heading_visible


def test_visible_focus_and_skip_link(page, demo):
    page.goto(page.base_url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    outline = skip.evaluate("node => getComputedStyle(node).outlineStyle")
    box = skip.bounding_box()
    assert outline == "solid"
    assert box["x"] >= 0 and box["y"] >= 0  # visible on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
