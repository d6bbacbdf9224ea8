"""Names and addresses people can read (issue 10, point 3), on the real samples."""

import json

import pytest

from mediation.importers import Outcome, run_import
from mediation.importers.readable import readable_address, readable_name
from mediation.models import Structure
from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("source", "readable"),
    [
        ("MAISON FRANCE SERVICES DE BOULLERET", "Maison France Services de Boulleret"),
        ("MSAP BOULLERET", "MSAP Boulleret"),
        ("MSAP DE LIGNIERES", "MSAP de Lignières"),  # accents from the communes table
        ("PIJ CHATEAUROUX", "PIJ Châteauroux"),
        ("BIBLIOTHEQUE D'HERBAULT", "Bibliothèque d'Herbault"),
        ("BIBLIOTHEQUE DE SAINT-GERVAIS-LA-FORET", "Bibliothèque de Saint-Gervais-la-Forêt"),
        ("CCAS LE BLANC", "CCAS Le Blanc"),
        ("BIBLIOTHÈQUE : LA LOUPE", "Bibliothèque : La Loupe"),
        ("FABLAB LOCHES", "FabLab Loches"),
        ("AJCV VIERZON", "AJCV Vierzon"),  # an unknown acronym stays in capitals
        ("ANNA (BGE CHER)", "Anna (BGE Cher)"),
        ("MJC DE SAINT-AMAND-MONTROND", "MJC de Saint-Amand-Montrond"),
        ("CRIJ CENTRE-VAL DE LOIRE", "CRIJ Centre-Val de Loire"),
        ("PLURIEL(LE)S", "Pluriel(le)s"),
        ("MEDIATHEQUE La Pléiade", "Médiathèque La Pléiade"),  # mixed case kept
        ("France Services Langeais", "France Services Langeais"),
        ("OTDIF", "OTDIF"),  # a bare acronym: completed on the page, not guessed
        ("MEDIATHEQUE", "Médiathèque"),  # one word, but a known one
    ],
)
def test_names_in_capitals_become_french_title_case(source, readable):
    assert readable_name(source) == readable


@pytest.mark.parametrize(
    ("source", "readable"),
    [
        ("RUE DE TOUS LES DIABLES", "Rue de Tous les Diables"),
        ("1, place St Blaise..", "1, place St Blaise"),
        ("Place du marché..", "Place du marché"),
        ("5 Rue Roland Garros -,..", "5 Rue Roland Garros"),
        ("53 BD MARIE STUART", "53 boulevard Marie Stuart"),
        ("BD DE L EUROPE", "Boulevard de l'Europe"),
        ("PL DE L'EGLISE", "Place de l'Église"),
        ("27 RUE DU 11 NOVEMBRE 1918", "27 rue du 11 novembre 1918"),
        ("3 bis RUE DES DEPORTES", "3 bis rue des Déportés"),
        ("20 Place Louis XIII", "20 place Louis XIII"),
    ],
)
def test_addresses_are_readable_without_trailing_punctuation(source, readable):
    assert readable_address(source) == readable


def test_census_names_addresses_and_towns_are_imported_readable(hub_lo_path, tmp_path):
    rows = {r["c_nom"]: r for r in json.loads(hub_lo_path.read_text())}
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([rows["MELI"], rows["MSAP BOULLERET"]]))
    run_import(path)
    meli = Structure.objects.get(source_id=str(rows["MELI"]["gid"]))
    assert meli.name == "MELI"
    assert meli.address == "Rue de Tous les Diables"
    assert meli.city == "Issoudun"  # the commune's own spelling, not "ISSOUDUN"
    msap = Structure.objects.get(source_id="284")
    assert msap.name == "MSAP Boulleret"
    # The source's spelling is kept.
    assert "Nom dans la source : MSAP BOULLERET" in msap.import_note
    # Importing the same file again changes nothing.
    again = run_import(path)
    assert again.count(Outcome.UNCHANGED) == 2


def test_a_bare_acronym_is_completed_from_its_kind_and_commune(conseillers_path, tmp_path, client):
    rows = json.loads(conseillers_path.read_text())
    otdif = next(r for r in rows if r["nom"] == "OTDIF" and r["code_postal"] == "36100")
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([otdif]))
    run_import(path)
    place = Structure.objects.get(name="OTDIF")
    page = client.get(place.get_absolute_url()).content.decode()
    assert '<h1 id="structure-name">OTDIF — Espace Public Numérique, Issoudun</h1>' in page
    results = client.get("/", {"q": "issoudun"}).content.decode()
    assert "OTDIF — Espace Public Numérique, Issoudun</a>" in results


def test_bassin_pages_group_places_by_their_commune_not_by_the_typed_town(client):
    issoudun = commune("36088")
    StructureFactory(name="Lieu A", commune=issoudun, city="ISSOUDUN")
    StructureFactory(name="Lieu B", commune=issoudun, city="Issoudun")
    html = client.get(issoudun.bassin.get_absolute_url()).content.decode()
    assert html.count(">Issoudun</h3>") == 1
    assert "ISSOUDUN" not in html
