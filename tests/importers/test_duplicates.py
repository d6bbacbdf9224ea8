"""Probable duplicates: the same place from two sources is listed for a person to decide."""

import csv

import pytest
from django.core.management import call_command

from mediation.duplicates import probable_duplicates
from mediation.importers import run_import
from mediation.models import Structure
from tests.factories import StructureFactory, UserFactory, commune

pytestmark = pytest.mark.django_db


def names(pairs):
    return [{pair.first.name, pair.second.name} for pair in pairs]


def test_same_address_and_alike_names_make_a_pair():
    ligueil = commune("37130")
    StructureFactory(
        name="MSAP LIGUEIL", address="69 rue Aristide Briand", commune=ligueil, source="Recensement"
    )
    StructureFactory(
        name="France Services Ligueil",
        address="69 Rue Aristide-Briand",
        commune=ligueil,
        source="national",
    )
    # Not pairs: another service at the same address, a namesake in another commune,
    # a draft.
    StructureFactory(name="Mission locale", address="69 rue Aristide Briand", commune=ligueil)
    StructureFactory(
        name="MSAP LIGUEIL", address="69 rue Aristide Briand", commune=commune("36044")
    )
    StructureFactory(
        name="France Services Ligueil",
        address="69 rue Aristide Briand",
        commune=ligueil,
        status=Structure.Status.DRAFT,
    )
    pairs = probable_duplicates()
    assert names(pairs) == [{"MSAP LIGUEIL", "France Services Ligueil"}]
    assert not pairs[0].same_source
    assert pairs[0].reasons[0] == "même adresse (100 %)"


def test_the_same_name_a_few_steps_apart_makes_a_pair():
    tours = commune("37261")
    StructureFactory(
        name="EPN Gentiana",
        address="90 avenue Maginot",
        commune=tours,
        latitude=47.40,
        longitude=0.70,
    )
    StructureFactory(
        name="EPN GENTIANA",
        address="Centre socioculturel",
        commune=tours,
        latitude=47.4005,
        longitude=0.7003,
    )
    StructureFactory(
        name="EPN Gentiana",
        address="Place de la Liberté",
        commune=tours,
        latitude=47.36,
        longitude=0.68,
    )
    pairs = probable_duplicates()
    assert len(pairs) == 1
    assert "à 60 m l’un de l’autre" in pairs[0].reasons


def test_the_census_and_the_national_export_share_places(hub_lo_path, conseillers_path):
    run_import(hub_lo_path)
    run_import(conseillers_path)
    pairs = probable_duplicates()
    across = [pair for pair in pairs if not pair.same_source]
    assert len(across) >= 20
    found = names(across)
    assert {"Mediatheque de chateaudun", "Médiathèque de Châteaudun"} in found
    assert {"Médiathèque Équinoxe", "Médiathèque Châteauroux"} in found
    # Two libraries of one town, at different addresses, are not listed.
    assert not any("Bibliothèque Beaulieu" in pair for pair in names(pairs))


def test_the_admin_lists_the_pairs_and_links_both_places(client):
    first = StructureFactory(
        name="MSAP LIGUEIL", address="69 rue Aristide Briand", commune=commune("37130")
    )
    second = StructureFactory(
        name="France Services Ligueil", address="69 rue Aristide Briand", commune=commune("37130")
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = client.get("/admin/mediation/structure/").content.decode()
    assert 'href="/admin/mediation/structure/doublons/"' in changelist
    page = client.get("/admin/mediation/structure/doublons/").content.decode()
    assert "1 paire</strong>" in page
    assert f'href="/admin/mediation/structure/{first.pk}/change/"' in page
    assert f'href="/admin/mediation/structure/{second.pk}/change/"' in page


def test_the_admin_page_is_for_staff_only(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get("/admin/mediation/structure/doublons/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_command_prints_the_pairs_and_writes_a_csv(tmp_path, capsys):
    StructureFactory(
        name="MSAP LIGUEIL", address="69 rue Aristide Briand", commune=commune("37130")
    )
    StructureFactory(
        name="France Services Ligueil", address="69 rue Aristide Briand", commune=commune("37130")
    )
    call_command("find_duplicates", "--csv", str(tmp_path / "doublons.csv"))
    output = capsys.readouterr().out
    assert "« MSAP LIGUEIL »" in output
    assert "1 doublon(s) probable(s)" in output
    rows = list(csv.DictReader((tmp_path / "doublons.csv").open(encoding="utf-8")))
    assert {rows[0]["nom_1"], rows[0]["nom_2"]} == {"MSAP LIGUEIL", "France Services Ligueil"}
    assert rows[0]["commune"] == "Ligueil"
