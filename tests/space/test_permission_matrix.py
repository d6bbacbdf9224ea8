"""Who may do what: every role × every page and action that reads drafts or changes data.

Each case checks the answer *and* the effect: a refused action changes nothing,
an allowed one does what it says.
"""

import pytest
from django.urls import reverse

from mediation.choices import Status
from mediation.models import Invitation, JoinRequest, Membership, Structure
from tests.factories import UserFactory
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "mediator",
    "other_mediator",
    "coordinator",
    "other_coordinator",
    "admin",
]

EDITORS = {"mediator", "coordinator", "admin"}
MODERATORS = {"coordinator", "admin"}
ADMINS = {"admin"}


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


def refreshed(structure):
    return Structure.objects.get(pk=structure.pk)


def view_edit_page(client, structure):
    structure.status = Status.DRAFT
    structure.save()
    response = client.get(reverse("space:edit", args=[structure.pk]))
    shown = response.status_code == 200 and structure.name in response.content.decode()
    return response, shown


def save(client, structure):
    response = client.post(
        reverse("space:edit", args=[structure.pk]),
        edit_payload(structure, opening_hours="Mo-Sa 08:00-19:00"),
    )
    return response, refreshed(structure).opening_hours == "Mo-Sa 08:00-19:00"


def publish(client, structure):
    structure.status = Status.DRAFT
    structure.save()
    response = client.post(reverse("space:publish", args=[structure.pk]))
    return response, refreshed(structure).status == Status.PUBLISHED


def archive(client, structure):
    response = client.post(reverse("space:archive", args=[structure.pk]))
    return response, refreshed(structure).status == Status.ARCHIVED


def delete(client, structure):
    response = client.post(reverse("space:delete", args=[structure.pk]))
    return response, not Structure.objects.filter(pk=structure.pk).exists()


def verify(client, structure):
    response = client.post(reverse("space:verify", args=[structure.pk]))
    return response, refreshed(structure).verified_at is not None


def view_history(client, structure):
    response = client.get(reverse("space:history", args=[structure.pk]))
    return response, response.status_code == 200 and "Historique" in response.content.decode()


def restore(client, structure):
    original = structure.name
    structure.name = "Nom modifié par erreur"
    structure.save()
    first = structure.history.order_by("history_id").first()
    response = client.post(reverse("space:restore", args=[structure.pk, first.history_id]))
    return response, refreshed(structure).name == original


def invite(client, structure):
    response = client.post(
        reverse("space:invite", args=[structure.pk]), {"email": "nouvelle@example.fr"}
    )
    return response, Invitation.objects.filter(email="nouvelle@example.fr").exists()


def accept_join_request(client, structure):
    requester = UserFactory(email="demandeur@example.fr")
    join_request = JoinRequest.objects.create(user=requester, structure=structure)
    response = client.post(
        reverse("space:decide_join", args=[join_request.pk]), {"decision": "accept"}
    )
    return response, Membership.objects.filter(user=requester, structure=structure).exists()


def decide_proposal(client, structure):
    structure.status = Status.DRAFT
    structure.proposed_by = UserFactory(email="auteur@example.fr")
    structure.save()
    response = client.post(
        reverse("space:decide_proposal", args=[structure.pk]), {"decision": "publish"}
    )
    return response, refreshed(structure).status == Status.PUBLISHED


ACTIONS = {
    view_edit_page: EDITORS,
    save: EDITORS,
    publish: MODERATORS,
    archive: EDITORS,
    delete: ADMINS,
    verify: EDITORS,
    view_history: EDITORS,
    restore: MODERATORS,
    invite: MODERATORS,
    accept_join_request: MODERATORS,
    decide_proposal: MODERATORS,
}

CASES = [
    pytest.param(action, role, role in allowed, id=f"{action.__name__}-{role}")
    for action, allowed in ACTIONS.items()
    for role in ROLES
]


@pytest.mark.parametrize(("action", "role", "allowed"), CASES)
def test_permission_matrix(client, people, structure, action, role, allowed):
    if people[role] is not None:
        client.force_login(people[role])
    response, done = action(client, structure)
    if allowed:
        assert response.status_code in {200, 302}, response.content.decode()[:500]
        if response.status_code == 302:
            assert "/connexion/" not in response["Location"]
        assert done, f"{role} should be able to {action.__name__}"
    else:
        assert not done, f"{role} must not be able to {action.__name__}"
        if role == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("space:login"))
        else:
            assert response.status_code == 403


def test_moderation_queue_is_for_coordinators_only(client, mediator, coordinator):
    client.force_login(mediator)
    assert client.get(reverse("space:moderation")).status_code == 403
    client.force_login(coordinator)
    assert client.get(reverse("space:moderation")).status_code == 200


def test_coordinator_sees_only_their_bassin_in_the_queue(
    client, structure, other_structure, coordinator
):
    for place in (structure, other_structure):
        place.status = Status.DRAFT
        place.proposed_by = UserFactory()
        place.save()
    client.force_login(coordinator)
    page = client.get(reverse("space:moderation")).content.decode()
    assert structure.name in page
    assert other_structure.name not in page


def test_drafts_are_not_public(client, structure):
    structure.status = Status.DRAFT
    structure.save()
    assert client.get(structure.get_absolute_url()).status_code == 404


def test_every_form_of_the_space_carries_a_csrf_token(client, structure, coordinator):
    client.force_login(coordinator)
    structure.memberships.create(user=coordinator)
    pages = [
        reverse("space:home"),
        reverse("space:edit", args=[structure.pk]),
        reverse("space:history", args=[structure.pk]),
        reverse("space:invite", args=[structure.pk]),
        reverse("space:propose"),
        reverse("space:moderation"),
        reverse("space:password_change"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert html.count('method="post"') == html.count("csrfmiddlewaretoken"), url


def test_posts_without_csrf_token_are_refused(structure, mediator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(mediator)
    response = client.post(reverse("space:verify", args=[structure.pk]))
    assert response.status_code == 403
    assert refreshed(structure).verified_at is None
