"""Personal data by design: retention periods enforced, accounts people can delete,
a legal page that names who answers for the data."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mediation.memberships import Invitation, JoinRequest, Membership
from mediation.models import ErrorReport, User
from tests.factories import UserFactory, api_key
from tests.space.conftest import PASSWORD
from tests.space.test_accounts import log_in


def old(days):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def stale_and_fresh(structure, mediator, coordinator):
    """Personal data of every kind the purge handles: one past its period, one not."""
    for when in (old(200), old(10)):
        log = AccessLog.objects.create(
            user_agent="Firefox",
            ip_address="192.0.2.1",
            username=mediator.email,
            http_accept="*/*",
            path_info="/espace/connexion/",
        )
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=when)
    attempt = AccessAttempt.objects.create(
        user_agent="curl",
        ip_address="192.0.2.2",
        username="x@example.fr",
        http_accept="*/*",
        path_info="/espace/connexion/",
        get_data="",
        post_data="",
        failures_since_start=3,
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=old(2))
    expired = SessionStore()
    expired["x"] = 1
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=old(1))
    live = SessionStore()
    live["x"] = 1
    live.create()
    for handled in (old(100), old(5)):
        ErrorReport.objects.create(
            structure=structure,
            message="Fermé le lundi",
            email="visiteur@example.fr",
            state=ErrorReport.State.DONE,
            handled_at=handled,
        )
    ErrorReport.objects.create(structure=structure, message="Nouveau", email="new@example.fr")
    for expires in (old(40), old(5)):
        invitation, _ = Invitation.new(
            email="invite@example.fr", structure=structure, invited_by=coordinator
        )
        invitation.expires_at = expires
        invitation.save()
    asker = UserFactory(email="demandeur@example.fr")
    JoinRequest.objects.create(
        user=asker,
        structure=structure,
        message="Je suis la directrice, mon 06…",
        state=JoinRequest.State.REFUSED,
        decided_at=old(200),
        response="Non",
    )
    return {"live_session": live.session_key}


def test_purge_removes_what_is_past_its_period_and_keeps_the_rest(stale_and_fresh, structure):
    call_command("purge_personal_data")
    assert AccessLog.objects.count() == 1
    assert not AccessAttempt.objects.exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        stale_and_fresh["live_session"]
    ]
    emails = sorted(ErrorReport.objects.values_list("email", flat=True))
    assert emails == ["", "new@example.fr", "visiteur@example.fr"]
    assert ErrorReport.objects.count() == 3  # the reports stay, only the address goes
    assert Invitation.objects.count() == 1
    request = JoinRequest.objects.get()
    assert (request.message, request.response, request.state) == ("", "", "refused")


def test_purge_dry_run_counts_without_touching(stale_and_fresh, capsys):
    call_command("purge_personal_data", "--dry-run")
    out = capsys.readouterr().out
    assert "journal des connexions (adresse IP, navigateur) : 1 à purger" in out
    assert "sessions expirées : 1 à purger" in out
    assert "essai à blanc" in out
    assert AccessLog.objects.count() == 2
    assert Invitation.objects.count() == 2


def test_a_mediator_deletes_their_account_and_their_edits_stay_as_compte_supprime(
    client, structure, mediator, coordinator
):
    structure.name = "Espace numérique du Centre-ville"
    structure._history_user = mediator
    structure.save()
    api_key(mediator)
    client.force_login(mediator)
    page = client.get(reverse("space:home"))
    assert reverse("space:account_delete") in page.content.decode()

    wrong = client.post(reverse("space:account_delete"), {"password": "pas le bon"})
    assert "Ce mot de passe n’est pas le bon." in wrong.content.decode()
    assert User.objects.get(pk=mediator.pk).deleted_at is None

    done = client.post(reverse("space:account_delete"), {"password": PASSWORD}, follow=True)
    assert "Votre compte est supprimé" in done.content.decode()
    gone = User.objects.get(pk=mediator.pk)
    assert gone.email != "mediatrice@example.fr" and not gone.first_name
    assert not gone.is_active and not gone.has_usable_password()
    assert not Membership.objects.filter(user=gone).exists()
    assert not gone.api_tokens.exists()
    assert not User.objects.filter(email="mediatrice@example.fr").exists()
    assert log_in(client, "mediatrice@example.fr", PASSWORD).status_code == 200  # refused
    assert client.get(reverse("space:home")).status_code == 302  # logged out

    client.force_login(coordinator)
    history = client.get(reverse("space:history", args=[structure.pk])).content.decode()
    assert "compte supprimé" in history
    assert "Camille" not in history


def test_legal_page_names_the_operator_from_settings(client, settings, territories):
    settings.LEGAL_NOTICE = {
        "publisher": "GIP Hub numérique, 1 rue de la Paix, 45000 Orléans",
        "director": "Claude Martin",
        "host": "Hébergeur SAS, 2 rue du Port, 59100 Roubaix, 01 02 03 04 05",
        "dpo": "dpo@hub.example.fr",
    }
    page = client.get(reverse("mediation:legal")).content.decode()
    for fact in settings.LEGAL_NOTICE.values():
        assert fact in page
    for needed in (
        "CNIL",
        "Responsable du traitement",
        "Base légale",
        "tile.openstreetmap.org",
        "compte supprimé",
        "180 jours",
    ):
        assert needed in page


def test_the_deployment_check_warns_while_the_legal_facts_are_missing(settings):
    from mediation.privacy import check_legal_notice

    settings.DEBUG = False
    settings.LEGAL_NOTICE = {"publisher": "GIP", "director": "", "host": "", "dpo": ""}
    warnings = check_legal_notice()
    assert [w.id for w in warnings] == ["mediation.W001"]
    assert "LEGAL_PUBLICATION_DIRECTOR" in warnings[0].msg
    settings.LEGAL_NOTICE = dict.fromkeys(("publisher", "director", "host", "dpo"), "x")
    assert check_legal_notice() == []
