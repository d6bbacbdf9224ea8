"""Probable duplicates: the same place from two sources is listed for a person to decide."""

import csv
import itertools
import json

import pytest
from django.core.management import call_command
from rapidfuzz import fuzz

from mediation import duplicates
from mediation.duplicates import mark_distinct, probable_duplicates
from mediation.importers import Outcome, run_import
from mediation.models import ImportConflict, Structure, planar_distance
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


def place_as_shown(structure):
    """Everything a visitor or a mediator reads of a place (its information and kinds)."""
    structure = Structure.objects.get(pk=structure.pk)
    values = {
        f.attname: getattr(structure, f.attname)
        for f in Structure._meta.concrete_fields
        if f.attname not in ("updated_at",)
    }
    return values | {"kinds": sorted(structure.kinds.values_list("slug", flat=True))}


def test_reimporting_both_sources_after_merges_keeps_what_the_person_chose(
    hub_lo_path, conseillers_path
):
    run_import(hub_lo_path)
    run_import(conseillers_path)
    across = [pair for pair in probable_duplicates() if not pair.same_source]
    assert len(across) >= 20
    coordinator = UserFactory()
    survivors, archived, chosen_from_both = [], [], 0
    used = set()
    for n, pair in enumerate(across):
        if used & {pair.first.pk, pair.second.pk}:
            continue  # a place in two pairs: merged once here
        used |= {pair.first.pk, pair.second.pk}
        survivor, other = pair.places if n % 2 else reversed(pair.places)
        # The person takes some fields from one record, some from the other, some from both.
        picks = {
            group.key: (
                duplicates.BOTH
                if group.combinable and i % 3 == 0
                else (duplicates.OTHER if (i + n) % 2 else duplicates.KEEP)
            )
            for i, group in enumerate(duplicates.FIELD_GROUPS)
        }
        before = {g.key: duplicates.group_value(survivor, g) for g in duplicates.FIELD_GROUPS}
        theirs = {g.key: duplicates.group_value(other, g) for g in duplicates.FIELD_GROUPS}
        if any(
            before[key] != theirs[key] and picks[key] == duplicates.KEEP for key in before
        ) and any(before[key] != theirs[key] and picks[key] == duplicates.OTHER for key in before):
            chosen_from_both += 1
        survivors.append(
            duplicates.merge(survivor=survivor, other=other, picks=picks, user=coordinator)
        )
        archived.append(other)
    assert chosen_from_both >= 10  # the test does exercise choices against both sources
    merged = {s.pk: place_as_shown(s) for s in survivors}
    count = Structure.objects.count()

    for path in (hub_lo_path, conseillers_path):
        report = run_import(path)
        assert report.count(Outcome.CREATED) == 0, path  # no double recreated
        for survivor in survivors:
            assert place_as_shown(survivor) == merged[survivor.pk], (path, survivor.name)
    assert Structure.objects.count() == count
    # Nothing to decide again: the choices made at the merge were the decision.
    assert not ImportConflict.objects.filter(
        structure__in=survivors, state=ImportConflict.State.PENDING
    ).exists()
    assert not set(Structure.objects.published().values_list("pk", flat=True)) & {
        other.pk for other in archived
    }
    assert all(
        duplicates.find_pair(s.pk, o.pk) is None for s, o in zip(survivors, archived, strict=True)
    )


def test_a_source_still_updates_the_fields_taken_from_it_after_a_merge(tmp_path):
    census, national = (
        StructureFactory(
            name="MSAP LIGUEIL",
            address="69 rue Aristide Briand",
            commune=commune("37130"),
            source="Recensement",
            source_id="1",
            phone="+33247000001",
            opening_hours="Mo-Fr 09:00-12:00",
        ),
        StructureFactory(
            name="France Services Ligueil",
            address="69 rue Aristide Briand",
            commune=commune("37130"),
            source="national",
            source_id="n-1",
            phone="+33247000002",
            opening_hours="Mo-Fr 14:00-17:00",
        ),
    )
    picks = duplicates.default_picks(census, national) | {
        "phone": duplicates.KEEP,
        "opening_hours": duplicates.OTHER,
    }
    survivor = duplicates.merge(survivor=census, other=national, picks=picks)
    path = tmp_path / "national.json"
    row = {
        "id": "n-1",
        "nom": "France Services Ligueil",
        "adresse": "69 rue Aristide Briand",
        "code_postal": "37240",
        "commune": "Ligueil",
        "source": "national",
        "telephone": "+33247000003",
        "horaires": "Mo-Fr 08:30-12:00",
        "date_maj": "2023-01-15",
    }
    path.write_text(json.dumps([row]))
    report = run_import(path)
    survivor.refresh_from_db()
    # The hours the person took from the national record follow it; the census's phone,
    # chosen over the national one, stays, and the new number waits for a coordinator.
    assert survivor.opening_hours == "Mo-Fr 08:30-12:00"
    assert survivor.phone == "+33247000001"
    assert survivor.source == "Recensement"
    pending = ImportConflict.objects.get(structure=survivor, state=ImportConflict.State.PENDING)
    assert (pending.field, pending.source, pending.source_value) == (
        "phone",
        "national",
        "+33247000003",
    )
    assert report.count(Outcome.UPDATED) == 1
