"""PATCH /api/v1/structures/{id}/ with a personal token: the same rules as the edit page."""

import pytest
from rest_framework.test import APIClient

from mediation.choices import Status
from mediation.models import Structure
from tests.factories import api_key
from tests.space.test_permission_matrix import EDITORS, ROLES

pytestmark = pytest.mark.django_db


def api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def url(structure):
    return f"/api/v1/structures/{structure.uid}/"


@pytest.fixture
def people(mediator, other_mediator, coordinator, other_coordinator, admin_user):
    return {
        "anonymous": None,
        "mediator": mediator,
        "other_mediator": other_mediator,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "admin": admin_user,
    }


@pytest.mark.parametrize("role", ROLES)
def test_patch_permission_matrix(people, structure, role):
    response = api(people[role]).patch(
        url(structure), {"horaires": "Sa 09:00-12:00"}, format="json"
    )
    saved = Structure.objects.get(pk=structure.pk).opening_hours == "Sa 09:00-12:00"
    if role in EDITORS:
        assert response.status_code == 200, response.content
        assert saved
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert not saved


def test_a_mediator_patches_with_the_standard_field_names(structure, mediator):
    response = api(mediator).patch(
        url(structure),
        {
            "horaires": "Mo-Fr 08:30-12:00",
            "telephone": "02 54 12 34 56",
            "courriels": ["accueil@example.fr"],
            "services": ["Aide aux démarches administratives"],
            "types": ["mediatheque"],
            "accessible_fauteuil_roulant": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["horaires"] == "Mo-Fr 08:30-12:00"
    assert body["types"] == ["mediatheque"]
    assert response["ETag"]
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.emails == ["accueil@example.fr"]
    assert structure.wheelchair_accessible is True
    assert structure.name == "Espace numérique du Centre"  # fields not sent are kept
    # Recorded in the history under the token's owner.
    assert structure.history.first().history_user == mediator


def test_invalid_values_get_the_edit_page_messages_structured(structure, mediator):
    response = api(mediator).patch(
        url(structure),
        {"horaires": "lundi matin", "code_postal": "75001", "services": ["Inventé"]},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert "Horaires illisibles" in errors["horaires"][0]
    assert "services" in errors
    assert Structure.objects.get(pk=structure.pk).opening_hours.startswith("Mo-Fr 09:00")


def test_unknown_or_read_only_fields_are_refused(structure, mediator):
    response = api(mediator).patch(url(structure), {"id": "x", "modifie_le": "hier"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"id", "modifie_le"}


def test_only_coordinators_publish(structure, mediator, coordinator):
    structure.status = Status.DRAFT
    structure.save()
    response = api(mediator).patch(url(structure), {"statut": "published"}, format="json")
    assert response.status_code == 403
    assert Structure.objects.get(pk=structure.pk).status == Status.DRAFT
    response = api(coordinator).patch(url(structure), {"statut": "published"}, format="json")
    assert response.status_code == 200
    assert Structure.objects.get(pk=structure.pk).status == Status.PUBLISHED


def test_mediators_archive_through_the_api_too(structure, mediator):
    response = api(mediator).patch(url(structure), {"statut": "archived"}, format="json")
    assert response.status_code == 200
    assert Structure.objects.get(pk=structure.pk).status == Status.ARCHIVED


def test_drafts_of_others_are_not_found(structure, other_mediator):
    structure.status = Status.DRAFT
    structure.save()
    response = api(other_mediator).patch(url(structure), {"nom": "X"}, format="json")
    assert response.status_code == 404


def test_delete_is_not_offered(structure, admin_user):
    response = api(admin_user).delete(url(structure))
    assert response.status_code == 405
    assert Structure.objects.filter(pk=structure.pk).exists()


def test_the_etag_of_a_get_is_accepted_by_patch(structure, mediator):
    client = api(mediator)
    etag = client.get(url(structure))["ETag"]
    response = client.patch(
        url(structure), {"presentation_resume": "Un"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert Structure.objects.get(pk=structure.pk).summary == "Un"
    # The PATCH answer's ETag is the one a GET now gives.
    assert client.get(url(structure))["ETag"] == response["ETag"]


def someone_else_changes_the_hours(structure, user):
    structure = Structure.objects.get(pk=structure.pk)
    structure.opening_hours = "Sa 10:00-12:00"
    structure._history_user = user
    structure.save()  # from the site, the admin or an import


def test_fields_changed_by_others_meanwhile_are_kept(structure, mediator, coordinator):
    client = api(mediator)
    read = client.get(url(structure))
    someone_else_changes_the_hours(structure, coordinator)
    # The client sends back what it read, with its one change: only that change is applied.
    sent = {name: read.json()[name] for name in ("horaires", "telephone", "nom")}
    sent["presentation_resume"] = "Deux"
    response = client.patch(url(structure), sent, format="json", HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.content
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.summary == "Deux"
    assert structure.opening_hours == "Sa 10:00-12:00"


def test_a_field_changed_by_both_is_a_conflict_and_nothing_is_written(
    structure, mediator, coordinator
):
    client = api(mediator)
    etag = client.get(url(structure))["ETag"]
    someone_else_changes_the_hours(structure, coordinator)
    response = client.patch(
        url(structure),
        {"horaires": "Mo 09:00-12:00", "presentation_resume": "Trois"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 412
    body = response.json()
    assert body["conflits"] == [
        {
            "champ": "horaires",
            "libelle": "Horaires",
            "avant": "Mo-Fr 09:00-12:00,14:00-17:00",
            "actuel": "Sa 10:00-12:00",
            "envoye": "Mo 09:00-12:00",
            "par": str(coordinator),
        }
    ]
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.summary == "" and structure.opening_hours == "Sa 10:00-12:00"
    # Having chosen, the client sends again with the ETag of the answer: its value wins.
    response = client.patch(
        url(structure),
        {"horaires": "Mo 09:00-12:00", "presentation_resume": "Trois"},
        format="json",
        HTTP_IF_MATCH=f'"{body["etag"]}"',
    )
    assert response.status_code == 200
    assert Structure.objects.get(pk=structure.pk).opening_hours == "Mo 09:00-12:00"


def test_an_unknown_version_is_refused(structure, mediator):
    response = api(mediator).patch(
        url(structure), {"nom": "X"}, format="json", HTTP_IF_MATCH='"9153582f0123"'
    )
    assert response.status_code == 412
    assert "Version inconnue" in response.json()["detail"]
