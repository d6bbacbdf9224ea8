"""Mail leaves after the change is committed; a failing mail never breaks the change."""

import logging

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.urls import reverse

from mediation.models import JoinRequest, Structure
from mediation.space import actions
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class BrokenBackend(EmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP injoignable")


@pytest.fixture
def visitor(db):
    return UserFactory(email="visiteur@example.fr")


def build_url(path):
    return "https://mediation.example" + path


def test_nothing_is_sent_before_the_commit_nor_after_a_rollback(
    structure, coordinator, visitor, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.request_to_join(structure=structure, user=visitor, message="", build_url=build_url)
        raise RuntimeError("la suite de la requête échoue")
    assert mail.outbox == []
    assert not JoinRequest.objects.exists()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        actions.request_to_join(
            structure=structure, user=visitor, message="Bonjour", build_url=build_url
        )
        assert mail.outbox == []  # still inside the transaction
    assert [m.to for m in mail.outbox] == [[coordinator.email]]


def test_a_failing_mail_server_neither_blocks_nor_undoes_the_change(
    client, settings, structure, coordinator, visitor, caplog
):
    settings.EMAIL_BACKEND = "tests.space.test_mail_after_commit.BrokenBackend"
    client.force_login(visitor)
    with caplog.at_level(logging.ERROR, logger="mediation.space.emails"):
        response = client.post(reverse("space:join", args=[structure.pk]), {"message": "Moi"})
    assert response.status_code == 302
    assert JoinRequest.objects.filter(structure=structure, user=visitor).exists()
    assert "non envoyé" in caplog.text
    assert "SMTP injoignable" in caplog.text


def test_a_password_reset_with_the_mail_server_down_is_not_a_500(
    client, settings, mediator, caplog
):
    settings.EMAIL_BACKEND = "tests.space.test_mail_after_commit.BrokenBackend"
    # Django itself logs the failure of this one (django.contrib.auth).
    with caplog.at_level(logging.ERROR):
        response = client.post(reverse("space:password_reset"), {"email": mediator.email})
    assert response.status_code == 302
    assert "SMTP injoignable" in caplog.text


def test_a_line_break_in_a_name_does_not_stop_the_mails_about_that_place(
    client, structure, coordinator, visitor
):
    Structure.objects.filter(pk=structure.pk).update(name="Espace\r\nnumérique")
    client.force_login(visitor)
    client.post(reverse("space:join", args=[structure.pk]), {"message": ""})
    assert len(mail.outbox) == 1
    assert "\n" not in mail.outbox[0].subject and "\r" not in mail.outbox[0].subject
