"""The site opens in a real browser."""

from tests.factories import StructureFactory


def test_home_page_opens_in_chromium(page):
    StructureFactory(name="Espace numérique de Vierzon")
    page.goto(page.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Trouver" in page.locator("h1").inner_text()
