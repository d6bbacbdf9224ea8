"""A visitor's error report reaches the place's mediators and coordinators, and waits
in their "Mon espace" until one of them marks it handled."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from mediation.forms import ErrorReportForm
from mediation.models import ErrorReport, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(structure, mediator, coordinator, other_coordinator):
    colleague = UserFactory(email="collegue@example.fr")
    Membership.objects.create(user=colleague, structure=structure)
    return colleague


def send_report(client, structure, monkeypatch, **data):
    monkeypatch.setattr(ErrorReportForm, "MIN_SECONDS", 0)  # a visitor who took their time
    url = reverse("mediation:report_error", args=[structure.slug])
    token = re.search(r'name="token" value="([^"]+)"', client.get(url).content.decode()).group(1)
    response = client.post(url, {"token": token, **data})
    assert response.status_code == 302
    return ErrorReport.objects.get()


def test_a_new_report_mails_the_mediators_and_the_bassin_coordinators(
    client, structure, team, mediator, coordinator, monkeypatch
):
    send_report(client, structure, monkeypatch, message="Le mardi, c’est fermé.")
    by_recipients = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipients) == {
        (coordinator.email,),  # not the other bassin's coordinator
        tuple(sorted([mediator.email, team.email])),
    }
    for message in mail.outbox:
        assert message.subject == f"Erreur signalée sur « {structure.name} »"
        assert "Le mardi, c’est fermé." in message.body
    assert "/espace/moderation/" in by_recipients[(coordinator.email,)].body
    assert "/espace/" in by_recipients[tuple(sorted([mediator.email, team.email]))].body


def test_the_report_waits_in_mon_espace_until_a_mediator_marks_it_handled(
    client, structure, mediator, coordinator, monkeypatch
):
    report = send_report(
        client, structure, monkeypatch, message="Nouveau numéro.", email="habitant@example.fr"
    )
    client.force_login(mediator)
    home = client.get(reverse("space:home")).content.decode()
    assert "Erreurs signalées sur vos fiches (1)" in home
    assert "Nouveau numéro." in home
    assert "habitant@example.fr" not in home  # the visitor's address stays private

    client.force_login(coordinator)
    assert "Nouveau numéro." in client.get(reverse("space:home")).content.decode()

    client.force_login(mediator)
    mail.outbox.clear()
    response = client.post(
        reverse("space:handle_report", args=[report.pk]),
        {"state": "done", "message": "C’est corrigé, merci !", "next": reverse("space:home")},
    )
    assert response["Location"] == reverse("space:home")
    report.refresh_from_db()
    assert report.state == ErrorReport.State.DONE
    assert report.handled_by == mediator
    assert [m.to for m in mail.outbox] == [["habitant@example.fr"]]
    assert "C’est corrigé, merci !" in mail.outbox[0].body
    for user in (mediator, coordinator):
        client.force_login(user)
        assert "Nouveau numéro." not in client.get(reverse("space:home")).content.decode()
    assert "Nouveau numéro." not in client.get(reverse("space:moderation")).content.decode()


def test_someone_else_cannot_handle_the_report(
    client, structure, other_mediator, other_coordinator
):
    report = ErrorReport.objects.create(structure=structure, message="Faux")
    for user in (other_mediator, other_coordinator):
        client.force_login(user)
        response = client.post(reverse("space:handle_report", args=[report.pk]), {"state": "done"})
        assert response.status_code == 403
        assert "Faux" not in client.get(reverse("space:home")).content.decode()
    assert ErrorReport.objects.get().state == ErrorReport.State.NEW


def test_handling_twice_sends_the_answer_once(client, structure, coordinator):
    report = ErrorReport.objects.create(
        structure=structure, message="Faux", email="habitant@example.fr"
    )
    client.force_login(coordinator)
    url = reverse("space:handle_report", args=[report.pk])
    client.post(url, {"state": "done", "message": "Réglé"})
    client.post(url, {"state": "rejected", "message": "Réglé"})
    assert len(mail.outbox) == 1
    assert ErrorReport.objects.get().state == ErrorReport.State.DONE
