"""Merging two records of one place: field by field, both histories kept, the old address
redirecting, both source identifiers answering to later imports; or "pas un doublon"."""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mediation import duplicates
from mediation.choices import Status
from mediation.importers import Outcome, run_import
from mediation.models import DistinctPair, JoinRequest, Membership, ServiceType, Structure
from mediation.space.history import timeline
from tests.factories import StructureFactory, UserFactory, commune

pytestmark = pytest.mark.django_db

CENSUS = "Recensement régional (Hub-LO)"


@pytest.fixture
def pair():
    """The same France Services from the census and from the national export."""
    chateauroux = commune("36044")
    census = StructureFactory(
        name="MSAP CHATEAUROUX",
        address="2 rue de la Poste",
        commune=chateauroux,
        source=CENSUS,
        source_id="4242",
        uid="hub-lo-4242",
        phone="+33254000001",
        emails=["msap@exemple.fr"],
        opening_hours="Mo-Fr 09:00-12:00",
        services=["Accès internet et matériel informatique"],
    )
    national = StructureFactory(
        name="France Services Châteauroux",
        address="2 Rue de la Poste",
        commune=chateauroux,
        source="conseiller-numerique",
        source_id="cn-0001",
        phone="",
        emails=["france-services@exemple.fr"],
        opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
        services=["Aide aux démarches administratives"],
        kinds=[ServiceType.objects.get(slug="france-services")],
    )
    return census, national


def test_the_pair_is_listed_then_merged_as_the_person_chose(client, pair, coordinator):
    census, national = pair
    mediator = UserFactory(email="agent@exemple.fr")
    Membership.objects.create(user=mediator, structure=national)
    client.force_login(coordinator)
    listing = client.get(reverse("space:duplicates")).content.decode()
    url = reverse("space:duplicate_pair", args=[census.pk, national.pk])
    assert url in listing

    page = client.get(url).content.decode()
    assert "MSAP CHATEAUROUX" in page and "France Services Châteauroux" in page
    assert "même adresse" in page

    response = client.post(
        url,
        {
            "action": "merge",
            "survivor": "first",  # keep the census record (left)
            "name": "second",
            "address": "first",
            "kinds": "both",
            "phone": "first",
            "emails": "both",
            "opening_hours": "second",
            "services": "both",
        },
    )
    assert response.status_code == 302
    survivor = Structure.objects.get(pk=census.pk)
    archived = Structure.objects.get(pk=national.pk)
    assert survivor.name == "France Services Châteauroux"
    assert survivor.phone == "+33254000001"
    assert survivor.emails == ["msap@exemple.fr", "france-services@exemple.fr"]
    assert survivor.opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert set(survivor.services) == {
        "Accès internet et matériel informatique",
        "Aide aux démarches administratives",
    }
    assert {k.slug for k in survivor.kinds.all()} == {"espace-public-numerique", "france-services"}
    assert Membership.objects.filter(user=mediator, structure=survivor).exists()
    assert archived.status == Status.ARCHIVED

    # The old address leads, for good, to the survivor.
    public = client.get(reverse("mediation:structure", args=[archived.slug]))
    assert public.status_code == 301
    assert public["Location"] == survivor.get_absolute_url()

    # Both histories are read on the survivor.
    subjects = {entry.subject for entry in timeline(survivor)}
    assert "La fiche" in subjects
    assert "Fiche fusionnée « France Services Châteauroux »" in subjects
    history = client.get(reverse("space:history", args=[survivor.pk])).content.decode()
    assert "Fusion avec « France Services Châteauroux »" in history
    assert "Fiche fusionnée « France Services Châteauroux »" in history

    # The pair no longer comes back.
    assert duplicates.probable_duplicates() == []


def test_later_imports_of_either_source_update_the_survivor(pair, tmp_path):
    census, national = pair
    # The hours are taken from the national record: its next import updates them.
    picks = duplicates.default_picks(census, national) | {"opening_hours": duplicates.OTHER}
    duplicates.merge(survivor=census, other=national, picks=picks)
    national_file = tmp_path / "national.json"
    national_file.write_text(
        json.dumps(
            [
                {
                    "id": "cn-0001",
                    "nom": "France Services Châteauroux",
                    "adresse": "2 Rue de la Poste",
                    "code_postal": "36000",
                    "commune": "Châteauroux",
                    "source": "conseiller-numerique",
                    "horaires": "Mo-Fr 08:30-12:00",
                    "date_maj": "2023-01-15",
                }
            ]
        )
    )
    before = Structure.objects.count()
    report = run_import(national_file)
    assert report.count(Outcome.REJECTED) == 0, report.results
    assert Structure.objects.count() == before  # nothing recreated
    survivor = Structure.objects.get(pk=census.pk)
    assert survivor.opening_hours == "Mo-Fr 08:30-12:00"
    assert Structure.objects.get(pk=national.pk).status == Status.ARCHIVED
    assert duplicates.find_pair(census.pk, national.pk) is None


def test_distinct_services_sharing_a_building_stop_coming_back(client, pair, coordinator):
    census, national = pair
    client.force_login(coordinator)
    url = reverse("space:duplicate_pair", args=[census.pk, national.pk])
    response = client.post(url, {"action": "distinct"})
    assert response.status_code == 302
    assert DistinctPair.objects.count() == 1
    assert duplicates.probable_duplicates() == []
    assert Structure.objects.published().filter(pk__in=[census.pk, national.pk]).count() == 2
    listing = client.get(reverse("space:duplicates")).content.decode()
    assert "Aucun doublon probable" in listing


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anonymous", False),
        ("mediator", False),
        ("other_coordinator", False),
        ("coordinator", True),
        ("admin_user", True),
    ],
)
def test_who_may_merge(client, pair, role, allowed, request):
    census, national = pair
    user = None if role == "anonymous" else request.getfixturevalue(role)
    if role == "mediator":
        Membership.objects.create(user=user, structure=census)
    if user:
        client.force_login(user)
    url = reverse("space:duplicate_pair", args=[census.pk, national.pk])
    response = client.post(url, {"action": "merge", "survivor": "first"})
    if allowed:
        assert response.status_code == 302
        assert Structure.objects.get(pk=national.pk).status == Status.ARCHIVED
    else:
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "/connexion/" in response["Location"]
        assert Structure.objects.get(pk=national.pk).status == Status.PUBLISHED


def test_a_coordinator_sees_only_the_pairs_of_their_bassins(client, pair, other_coordinator):
    client.force_login(other_coordinator)
    listing = client.get(reverse("space:duplicates")).content.decode()
    assert "MSAP CHATEAUROUX" not in listing


def test_the_admin_list_links_each_pair_to_the_merge_screen(client, pair, admin_user):
    census, national = pair
    client.force_login(admin_user)
    page = client.get(reverse("admin:mediation_structure_duplicates")).content.decode()
    assert reverse("space:duplicate_pair", args=[census.pk, national.pk]) in page


def test_merging_twice_leads_the_first_address_to_the_last_survivor(client, pair):
    census, national = pair
    third = StructureFactory(name="MSAP Châteauroux", commune=census.commune)
    duplicates.merge(survivor=national, other=census, picks={})
    duplicates.merge(survivor=third, other=national, picks={})
    response = client.get(reverse("mediation:structure", args=[census.slug]))
    assert response.status_code == 301
    assert response["Location"] == third.get_absolute_url()
    assert {
        (i.source, i.source_id) for i in Structure.objects.get(pk=third.pk).other_source_ids.all()
    } >= {(CENSUS, "4242"), ("conseiller-numerique", "cn-0001")}


def test_the_screen_proposes_what_is_filled_and_the_latest_verification(pair):
    census, national = pair
    census.verified_at = datetime(2020, 7, 3, tzinfo=UTC)
    national.verified_at = datetime(2023, 1, 15, tzinfo=UTC)
    national.summary = "Aide aux démarches en ligne."
    picks = duplicates.default_picks(census, national)
    assert picks["phone"] == duplicates.KEEP  # the census has one
    assert picks["summary"] == duplicates.OTHER  # only the national export says it
    assert picks["verified_at"] == duplicates.OTHER  # 2023 rather than 2020
    assert picks["name"] == duplicates.KEEP


def test_a_merge_that_would_make_an_invalid_place_writes_nothing(client, pair, coordinator):
    census, national = pair
    Structure.objects.filter(pk=national.pk).update(opening_hours="lundi matin")  # legacy value
    client.force_login(coordinator)
    url = reverse("space:duplicate_pair", args=[census.pk, national.pk])
    response = client.post(
        url, {"action": "merge", "survivor": "first", "opening_hours": "second"}, follow=True
    )
    assert "La fusion n’a pas été faite" in response.content.decode()
    assert Structure.objects.get(pk=census.pk).opening_hours == "Mo-Fr 09:00-12:00"
    assert Structure.objects.get(pk=national.pk).status == Status.PUBLISHED
    assert not Structure.objects.get(pk=census.pk).other_source_ids.exists()


def test_pending_requests_to_manage_the_archived_record_follow_the_place(pair):
    census, national = pair
    asker = UserFactory(email="benevole@exemple.fr")
    request = JoinRequest.objects.create(user=asker, structure=national, message="Je l’anime.")
    duplicates.merge(survivor=census, other=national, picks={})
    request.refresh_from_db()
    assert request.structure_id == census.pk


def test_the_admin_shows_merges_and_can_list_a_pair_again(client, pair, admin_user):
    census, national = pair
    client.force_login(admin_user)
    duplicates.merge(survivor=census, other=national, picks={}, user=admin_user)
    change = client.get(reverse("admin:mediation_structure_change", args=[census.pk]))
    assert "cn-0001" in change.content.decode()  # the other source's identifier, on the survivor
    merges = client.get(reverse("admin:mediation_merge_changelist")).content.decode()
    assert "France Services Châteauroux" in merges

    third = StructureFactory(
        name="MSAP CHATEAUROUX", address="2 rue de la Poste", commune=census.commune
    )
    distinct = duplicates.mark_distinct(first=census, second=third, user=admin_user)
    assert duplicates.find_pair(census.pk, third.pk) is None
    client.post(reverse("admin:mediation_distinctpair_delete", args=[distinct.pk]), {"post": "yes"})
    assert duplicates.find_pair(census.pk, third.pk) is not None
