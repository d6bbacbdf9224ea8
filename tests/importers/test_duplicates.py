"""Probable duplicates: the same place from two sources is listed for a person to decide."""

import csv
import itertools

import pytest
from django.core.management import call_command
from rapidfuzz import fuzz

from mediation import duplicates
from mediation.duplicates import mark_distinct, probable_duplicates
from mediation.importers import run_import
from mediation.models import Structure, planar_distance
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


def every_pair_compared(places):
    """The rules applied to every two published places, with no blocking nor prefilter."""
    found = []
    for first, second in itertools.combinations(sorted(places, key=lambda p: p.pk), 2):
        if first.commune_id is None or first.commune_id != second.commune_id:
            continue
        texts = [duplicates.normalize_search(t) for t in (first.name, second.name)]
        names_score = fuzz.token_set_ratio(*texts)
        addresses = [duplicates.normalize_search(t) for t in (first.address, second.address)]
        address_score = fuzz.token_set_ratio(*addresses)
        close = (
            first.latitude is not None
            and second.latitude is not None
            and (
                planar_distance(first.latitude, first.longitude, second.latitude, second.longitude)
                <= duplicates.CLOSE_KM
            )
        )
        if names_score >= duplicates.ALIKE_NAMES and (
            address_score >= duplicates.SAME_ADDRESS
            or (names_score >= duplicates.SAME_NAME and close)
        ):
            found.append((first.pk, second.pk))
    return found


def test_blocking_by_commune_finds_every_pair_of_the_real_data(hub_lo_path, conseillers_path):
    run_import(hub_lo_path)
    run_import(conseillers_path)
    expected = every_pair_compared(list(Structure.objects.published()))
    pairs = probable_duplicates()
    assert sorted((p.first.pk, p.second.pk) for p in pairs) == sorted(expected)
    assert len(pairs) >= 40
    # A pair a person said is not one stays out, and only it.
    mark_distinct(first=pairs[0].first, second=pairs[0].second)
    assert len(probable_duplicates()) == len(pairs) - 1


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
