"""The coordinator's queue: join requests, proposed structures, error reports."""

import pytest
from django.core import mail
from django.urls import reverse

from mediation.choices import Status
from mediation.models import ErrorReport, JoinRequest, Membership, ServiceType, Structure
from tests.factories import UserFactory, commune
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor(db):
    return UserFactory(email="visiteur@example.fr", first_name="Sam", last_name="Petit")


# "Vous gérez ce lieu ?" ---------------------------------------------------------


def test_the_public_page_invites_the_team_to_claim_the_listing(client, structure):
    html = client.get(structure.get_absolute_url()).content.decode()
    assert "Vous gérez ce lieu ?" in html
    assert reverse("space:join", args=[structure.pk]) in html


def test_claiming_needs_an_account(client, structure):
    response = client.get(reverse("space:join", args=[structure.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("space:login"))


def test_a_request_reaches_the_bassin_coordinator_who_accepts(
    client, structure, visitor, coordinator, other_coordinator
):
    client.force_login(visitor)
    response = client.post(
        reverse("space:join", args=[structure.pk]), {"message": "Je suis la conseillère."}
    )
    assert response.status_code == 302
    join_request = JoinRequest.objects.get()
    assert join_request.state == JoinRequest.State.PENDING
    notification = mail.outbox[-1]
    assert notification.to == [coordinator.email]  # not the other bassin's coordinator
    assert "Je suis la conseillère." in notification.body

    # A second request while the first waits is not duplicated.
    client.post(reverse("space:join", args=[structure.pk]), {"message": "Encore"})
    assert JoinRequest.objects.count() == 1

    client.force_login(coordinator)
    queue = client.get(reverse("space:moderation")).content.decode()
    assert "Je suis la conseillère." in queue
    client.post(reverse("space:decide_join", args=[join_request.pk]), {"decision": "accept"})
    assert Membership.objects.filter(user=visitor, structure=structure).exists()
    answer = mail.outbox[-1]
    assert answer.to == [visitor.email]
    assert "Vous pouvez gérer la fiche" in answer.subject


def test_a_refusal_needs_a_message_sent_to_the_requester(client, structure, visitor, coordinator):
    join_request = JoinRequest.objects.create(user=visitor, structure=structure)
    client.force_login(coordinator)
    url = reverse("space:decide_join", args=[join_request.pk])
    client.post(url, {"decision": "refuse", "message": ""})
    assert JoinRequest.objects.get().state == JoinRequest.State.PENDING
    client.post(url, {"decision": "refuse", "message": "Ce lieu a déjà une équipe."})
    assert JoinRequest.objects.get().state == JoinRequest.State.REFUSED
    assert not Membership.objects.filter(user=visitor).exists()
    assert "Ce lieu a déjà une équipe." in mail.outbox[-1].body


# Proposals -------------------------------------------------------------------------


def propose(client, visitor, **changes):
    blank = Structure(commune=commune("36044"))
    data = edit_payload(
        blank,
        name="Repair café numérique",
        address="3 rue des Écoles",
        postal_code="36000",
        city="Châteauroux",
        opening_hours="Sa 10:00-12:00",
        **changes,
    )
    data["version"] = ""
    data["kinds"] = [str(ServiceType.objects.get(slug="espace-public-numerique").pk)]
    client.force_login(visitor)
    return client.post(reverse("space:propose"), data)


def test_anyone_logged_in_proposes_a_structure_that_waits_for_moderation(
    client, visitor, coordinator
):
    response = propose(client, visitor)
    assert response.status_code == 302
    structure = Structure.objects.get(name="Repair café numérique")
    assert structure.status == Status.DRAFT
    assert structure.proposed_by == visitor
    assert structure.commune_id == "36044"
    assert client.get(structure.get_absolute_url()).status_code == 404
    assert mail.outbox[-1].to == [coordinator.email]
    assert "Nouveau lieu proposé" in mail.outbox[-1].subject
    assert "Repair café numérique" in client.get(reverse("space:home")).content.decode()


def test_the_proposal_form_previews_first(client, visitor):
    response = propose(client, visitor, action="preview")
    assert response.status_code == 200
    assert "Envoyer ma proposition" in response.content.decode()
    assert not Structure.objects.filter(name="Repair café numérique").exists()


def test_the_coordinator_publishes_a_proposal(client, visitor, coordinator):
    propose(client, visitor)
    structure = Structure.objects.get(name="Repair café numérique")
    client.force_login(coordinator)
    assert "Repair café numérique" in client.get(reverse("space:moderation")).content.decode()
    client.post(reverse("space:decide_proposal", args=[structure.pk]), {"decision": "publish"})
    structure.refresh_from_db()
    assert structure.status == Status.PUBLISHED
    assert client.get(structure.get_absolute_url()).status_code == 200
    assert mail.outbox[-1].to == [visitor.email]
    assert "est publié" in mail.outbox[-1].subject
    assert "Repair café numérique" not in client.get(reverse("space:moderation")).content.decode()


def test_the_coordinator_refuses_a_proposal_with_a_message(client, visitor, coordinator):
    propose(client, visitor)
    structure = Structure.objects.get(name="Repair café numérique")
    client.force_login(coordinator)
    url = reverse("space:decide_proposal", args=[structure.pk])
    client.post(url, {"decision": "refuse", "message": ""})
    structure.refresh_from_db()
    assert structure.status == Status.DRAFT  # no message, no refusal
    client.post(url, {"decision": "refuse", "message": "Ce lieu existe déjà sous un autre nom."})
    structure.refresh_from_db()
    assert structure.status == Status.ARCHIVED
    assert structure.moderation_message == "Ce lieu existe déjà sous un autre nom."
    assert mail.outbox[-1].to == [visitor.email]
    assert "Ce lieu existe déjà sous un autre nom." in mail.outbox[-1].body


def test_the_coordinator_edits_a_proposal_before_publishing(client, visitor, coordinator):
    propose(client, visitor)
    structure = Structure.objects.get(name="Repair café numérique")
    client.force_login(coordinator)
    response = client.post(
        reverse("space:edit", args=[structure.pk]),
        edit_payload(structure, name="Repair café numérique de Châteauroux"),
    )
    assert response.status_code == 302
    assert Structure.objects.get(pk=structure.pk).name == "Repair café numérique de Châteauroux"


# Error reports from visitors -------------------------------------------------------------


def test_error_reports_wait_in_the_queue_and_get_an_answer(client, structure, coordinator):
    report = ErrorReport.objects.create(
        structure=structure, message="Fermé le lundi maintenant.", email="habitant@example.fr"
    )
    client.force_login(coordinator)
    queue = client.get(reverse("space:moderation")).content.decode()
    assert "Fermé le lundi maintenant." in queue
    client.post(
        reverse("space:handle_report", args=[report.pk]),
        {"state": "done", "message": "Merci, c’est corrigé."},
    )
    report.refresh_from_db()
    assert report.state == ErrorReport.State.DONE
    assert report.handled_at is not None
    assert mail.outbox[-1].to == ["habitant@example.fr"]
    assert "Merci, c’est corrigé." in mail.outbox[-1].body
    assert (
        "Fermé le lundi maintenant." not in client.get(reverse("space:moderation")).content.decode()
    )


def test_reports_of_another_bassin_are_out_of_reach(client, other_structure, coordinator):
    report = ErrorReport.objects.create(structure=other_structure, message="Erreur")
    client.force_login(coordinator)
    response = client.post(reverse("space:handle_report", args=[report.pk]), {"state": "rejected"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.state == ErrorReport.State.NEW
