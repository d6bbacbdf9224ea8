"""Elision and prepositions before place names: one helper for every page."""

import pytest

from mediation import french


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Issoudun", "près d’Issoudun"),
        ("Orléans", "près d’Orléans"),
        ("Huismes", "près d’Huismes"),
        ("Bourges", "près de Bourges"),
        ("Le Blanc", "près du Blanc"),
        ("Les Aix-d’Angillon", "près des Aix-d’Angillon"),
        ("La Châtre", "près de La Châtre"),
        ("L’Île-Bouchard", "près de L’Île-Bouchard"),
    ],
)
def test_pres_de(name, expected):
    assert french.pres_de(name) == expected


@pytest.mark.parametrize(
    ("department", "expected"),
    [
        ("Indre", "dans l’Indre"),
        ("Indre-et-Loire", "dans l’Indre-et-Loire"),
        ("Eure-et-Loir", "dans l’Eure-et-Loir"),
        ("Cher", "dans le Cher"),
        ("Loir-et-Cher", "dans le Loir-et-Cher"),
        ("Loiret", "dans le Loiret"),
    ],
)
def test_dans_the_department(department, expected):
    assert french.dans(department) == expected


def test_bassin_de_vie_and_a():
    assert french.bassin_de_vie("Issoudun") == "bassin de vie d’Issoudun"
    assert french.bassin_de_vie("Le Blanc") == "bassin de vie du Blanc"
    assert french.a("Ardentes") == "à Ardentes"
    assert french.a("Le Blanc") == "au Blanc"
    assert french.a("Les Aix-d’Angillon") == "aux Aix-d’Angillon"


def test_pages_use_it(client, db):
    from territories.models import BassinDeVie
    from tests.conftest import load_reference_data

    load_reference_data()
    bassin = BassinDeVie.objects.get(name="Issoudun")
    page = client.get(bassin.get_absolute_url()).content.decode()
    assert "<h1>Bassin de vie d’Issoudun</h1>" in page
    assert "dans l’Indre" in page
    page = client.get("/", {"q": "Issoudun"}).content.decode()
    assert "Près d’Issoudun" in page and "près de Issoudun" not in page
