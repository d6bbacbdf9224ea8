"""A coordinator invites a person by e-mail; the single-use link creates their account."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from mediation.models import Invitation, Membership, User

pytestmark = pytest.mark.django_db


def invite(client, coordinator, structure, email="nouvelle.mediatrice@example.fr"):
    client.force_login(coordinator)
    response = client.post(reverse("space:invite", args=[structure.pk]), {"email": email})
    assert response.status_code == 302
    client.logout()
    message = mail.outbox[-1]
    return message, re.search(r"https?://\S+/espace/invitation/\S+/", message.body).group(0)


def test_the_invitation_e_mail_is_in_french_with_a_single_use_link(client, coordinator, structure):
    message, link = invite(client, coordinator, structure)
    assert message.to == ["nouvelle.mediatrice@example.fr"]
    assert message.subject == f"Invitation à gérer la fiche de « {structure.name} »"
    assert "valable qu’une fois" in message.body
    # Only a hash of the token is stored.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert Invitation.objects.for_token(token).email == "nouvelle.mediatrice@example.fr"


def test_the_link_creates_the_account_and_the_membership(client, coordinator, structure):
    _, link = invite(client, coordinator, structure)
    page = client.get(link, follow=True)
    assert "choisissez votre mot de passe" in page.content.decode()
    # The token left the address bar (and the logs, and Referer) on the first visit.
    form_url = page.redirect_chain[-1][0]
    assert form_url == reverse("space:invitation", args=["accepter"])
    assert link.rstrip("/").rsplit("/", 1)[1] not in form_url

    response = client.post(
        form_url,
        {
            "first_name": "Inès",
            "last_name": "Robert",
            "password1": "la caravane passe le mardi",
            "password2": "la caravane passe le mardi",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("space:edit", args=[structure.pk])
    user = User.objects.get(email="nouvelle.mediatrice@example.fr")
    assert user.check_password("la caravane passe le mardi")
    assert Membership.objects.filter(user=user, structure=structure).exists()
    # Logged in straight away.
    assert client.get(reverse("space:edit", args=[structure.pk])).status_code == 200
    # The membership's history names who granted it.
    assert Membership.history.get(user_id=user.pk).history_user == coordinator

    # Single use.
    client.logout()
    reused = client.get(link, follow=True)
    assert reused.status_code == 410
    assert "Il a déjà servi" in reused.content.decode()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("court123", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
        ("qwertyqwerty", "Ce mot de passe est trop courant."),
    ],
)
def test_weak_passwords_are_refused(client, coordinator, structure, password, message):
    _, link = invite(client, coordinator, structure)
    response = client.post(
        link,
        {"first_name": "A", "last_name": "B", "password1": password, "password2": password},
    )
    assert message in response.content.decode()
    assert not User.objects.filter(email="nouvelle.mediatrice@example.fr").exists()


def test_an_expired_link_is_refused(client, coordinator, structure):
    _, link = invite(client, coordinator, structure)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(link, follow=True)
    assert response.status_code == 410
    assert "Il a expiré" in response.content.decode()


def test_links_expire_after_the_configured_delay(client, coordinator, structure, settings):
    invite(client, coordinator, structure)
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.created_at == settings.INVITATION_MAX_AGE


def test_a_wrong_token_is_refused(client):
    response = client.get(reverse("space:invitation", args=["pas-un-vrai-jeton"]), follow=True)
    assert response.status_code == 404
    assert "incomplet ou erroné" in response.content.decode()


def test_an_existing_account_logs_in_then_accepts(client, coordinator, structure, other_mediator):
    _, link = invite(client, coordinator, structure, email=other_mediator.email)
    page = client.get(link, follow=True).content.decode()
    assert "Connectez-vous pour accepter" in page
    assert "?next=/espace/invitation/accepter/" in page  # the token is not in the login link
    client.force_login(other_mediator)
    client.post(reverse("space:invitation", args=["accepter"]))
    assert Membership.objects.filter(user=other_mediator, structure=structure).exists()


def test_someone_else_cannot_use_the_link(client, coordinator, structure, other_mediator):
    _, link = invite(client, coordinator, structure)
    client.force_login(other_mediator)
    response = client.post(link)
    assert response.status_code == 403
    assert not Membership.objects.filter(user=other_mediator, structure=structure).exists()
