"""Login lock-out per account across addresses, told to the owner, undone by a reset."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db.models import F
from django.test import Client
from django.urls import reverse

from tests.space.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/espace/connexion/"
EMAIL = "mediatrice@example.fr"


def log_in(client, email, password, ip):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def guess_from_many_addresses(settings, email=EMAIL):
    """ACCOUNT_FAILURE_LIMIT wrong passwords, never more than 2 from one address."""
    statuses = [
        log_in(Client(), email, f"essai {n}", ip=f"203.0.113.{n // 2}").status_code
        for n in range(settings.ACCOUNT_FAILURE_LIMIT)
    ]
    # Each address stays under its own limit: only the last failure locks.
    assert statuses == [200] * (settings.ACCOUNT_FAILURE_LIMIT - 1) + [429]


def lock_mails():
    return [m for m in mail.outbox if "bloqué" in m.subject]


def test_guesses_spread_over_addresses_lock_the_account_and_tell_its_owner(
    client, mediator, settings, django_capture_on_commit_callbacks
):
    assert settings.ACCOUNT_FAILURE_LIMIT == 20
    with django_capture_on_commit_callbacks(execute=True):  # strangers' own clients
        guess_from_many_addresses(settings)
    # The owner, from an address never seen, is refused too, with the way out.
    locked = log_in(client, EMAIL, PASSWORD, ip="192.0.2.10")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Trop de tentatives de connexion" in page
    assert reverse("space:password_reset") in page
    # One e-mail to the owner, however long the stranger goes on.
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            log_in(Client(), EMAIL, "encore", ip=f"198.51.100.{n}")
    (told,) = lock_mails()
    assert told.to == [EMAIL]
    assert told.subject == "Votre compte est bloqué pour 30 minutes"
    assert "depuis plusieurs adresses" in told.body
    assert "http://testserver/espace/mot-de-passe/oublie/" in told.body


def test_one_address_alone_is_locked_without_alarming_the_owner(client, mediator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, EMAIL, "mauvais", ip="192.0.2.66")  # the fixture's client commits
    assert log_in(client, EMAIL, PASSWORD, ip="192.0.2.66").status_code == 429
    assert lock_mails() == []
    assert log_in(Client(), EMAIL, PASSWORD, ip="192.0.2.1").status_code == 302


def test_capitals_do_not_make_another_account_to_guess(client, mediator, settings):
    for n in range(settings.ACCOUNT_FAILURE_LIMIT):
        typed = EMAIL.upper() if n % 2 else f" {EMAIL.capitalize()}"
        log_in(Client(), typed, "essai", ip=f"203.0.113.{n}")
    assert log_in(client, EMAIL, PASSWORD, ip="192.0.2.10").status_code == 429


def test_the_lock_ends_after_the_cool_off_even_if_the_stranger_goes_on(client, mediator, settings):
    guess_from_many_addresses(settings)
    for n in range(10):  # refused attempts during the lock are not recorded
        log_in(Client(), EMAIL, "encore", ip=f"198.51.100.{n}")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=31))
    assert log_in(client, EMAIL, PASSWORD, ip="192.0.2.10").status_code == 302


def test_a_new_password_unlocks_the_account_and_logs_the_owner_in(client, mediator, settings):
    guess_from_many_addresses(settings)
    client.post(reverse("space:password_reset"), {"email": EMAIL}, REMOTE_ADDR="192.0.2.10")
    reset = next(m for m in mail.outbox if "Nouveau mot de passe" in m.subject)
    link = re.search(r"http://\S+/mot-de-passe/nouveau/\S+/", reset.body).group(0)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "un tout nouveau mot de passe"
    done = client.post(set_url, {"new_password1": new, "new_password2": new}, follow=True)
    assert "vous êtes connecté" in done.content.decode()
    assert not AccessAttempt.objects.filter(username=EMAIL).exists()
    assert client.get(reverse("space:home")).status_code == 200
    # And from anywhere else, the login form works again.
    assert log_in(Client(), EMAIL, new, ip="198.51.100.200").status_code == 302
