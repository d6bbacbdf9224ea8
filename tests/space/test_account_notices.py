"""The owner hears by e-mail when their password or e-mail address changes."""

import re

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.db import transaction
from django.urls import reverse

from mediation import privacy
from mediation.models import User
from tests.factories import UserFactory
from tests.space.conftest import PASSWORD

pytestmark = pytest.mark.django_db


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 10


def test_changing_ones_password_is_told_by_e_mail(client, mediator):
    client.force_login(mediator)
    new = "encore un autre mot de passe"
    response = client.post(
        reverse("space:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    (notice,) = mail.outbox
    assert notice.to == ["mediatrice@example.fr"]
    assert notice.subject == "Votre mot de passe a été changé"
    assert "Si ce n’était pas vous" in notice.body
    assert "/espace/mot-de-passe/oublie/" in notice.body


def test_a_reset_password_is_told_too(client, mediator):
    client.post(reverse("space:password_reset"), {"email": "mediatrice@example.fr"})
    link = re.search(r"http://\S+/mot-de-passe/nouveau/\S+/", mail.outbox[-1].body).group(0)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "les mardis au cyber-centre"
    client.post(set_url, {"new_password1": new, "new_password2": new})
    assert mail.outbox[-1].subject == "Votre mot de passe a été changé"


def test_a_new_e_mail_address_is_told_to_both_addresses(django_capture_on_commit_callbacks):
    user = UserFactory(email="ancienne@example.fr", first_name="Camille")
    user = User.objects.get(pk=user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        user.email = "nouvelle@example.fr"
        user.save()
    (notice,) = mail.outbox
    assert sorted(notice.to) == ["ancienne@example.fr", "nouvelle@example.fr"]
    assert "ancienne@example.fr à nouvelle@example.fr" in notice.body
    assert "Si ce n’était pas vous" in notice.body


def test_nothing_is_sent_before_commit_nor_for_a_rolled_back_change(
    django_capture_on_commit_callbacks,
):
    user = User.objects.get(pk=UserFactory(email="personne@example.fr").pk)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        user.set_password("un mot de passe annulé")
        user.save()
        raise RuntimeError("annulé")
    assert mail.outbox == []


def test_no_notice_for_a_new_account_a_rehash_or_a_deleted_account(
    client, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        user = UserFactory(email="personne@example.fr")
    # Logging in re-hashes the password with the preferred hasher: not a change.
    settings.PASSWORD_HASHERS = [
        "tests.space.test_account_notices.QuickPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    response = client.post(
        "/espace/connexion/", {"username": "personne@example.fr", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
    with django_capture_on_commit_callbacks(execute=True):
        privacy.delete_account(user=User.objects.get(pk=user.pk))
    assert mail.outbox == []
