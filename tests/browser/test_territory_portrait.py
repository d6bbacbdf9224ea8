"""The bassin's portrait as a person reads it: with JavaScript, communes coloured on the
map; without, the same figures in tables."""

import pytest
from django.core.management import call_command

from territories import coverage
from territories.models import Commune
from tests.browser.conftest import open_page


@pytest.fixture
def demo(territories):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    coverage.compute()


def test_portrait_with_javascript_colours_every_commune(browser, live_server, demo):
    page = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    page.goto(page.base_url + "/territoires/bassins/issoudun/")
    page.locator(".commune-dot").first.wait_for()
    dots = page.locator(".commune-dot").count()
    sentence = page.locator(".lead").first.inner_text()
    far_row = page.locator("#zones-blanches ~ table tbody tr").first.inner_text()
    page.context.close()
    assert dots == Commune.objects.filter(bassin__slug="issoudun").count()
    assert "habitant" in sentence and "à moins de 10 km" in sentence
    assert "km" in far_row
    assert page.csp_violations == [], "\n".join(page.csp_violations)


def test_portrait_without_javascript_gives_every_figure_as_a_table(browser, live_server, demo):
    page = open_page(browser, live_server, java_script_enabled=False)
    page.goto(page.base_url + "/territoires/bassins/issoudun/")
    tables = page.get_by_role("table").count()
    captions = page.locator("caption").all_inner_texts()
    map_hidden = page.locator("#map-panel").is_hidden()
    page.get_by_role("link", name="Comparer les 23 bassins de vie").click()
    page.get_by_role("link", name="Habitants à moins de 10 km d’un lieu (%)").click()
    first_row = page.locator("table.comparison tbody tr").first.inner_text()
    rows = page.locator("table.comparison tbody tr").count()
    page.context.close()
    assert tables >= 4
    assert any("moins de 5, 10 ou 20 km" in caption for caption in captions)
    assert map_hidden
    assert rows == 23
    best = max(coverage.portraits_by_bassin().values(), key=lambda p: p.shares["lieu"].percent(10))
    assert f"{best.shares['lieu'].percent(10)} %" in first_row
