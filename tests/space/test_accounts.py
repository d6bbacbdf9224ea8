"""Accounts: log in with an e-mail, reset a password by e-mail, brute force stopped."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db.models import F
from django.urls import reverse

from tests.space.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/espace/connexion/"


def log_in(client, email, password, ip="192.0.2.10"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_with_e_mail_and_password_leads_to_my_space(client, mediator):
    page = client.get(LOGIN).content.decode()
    assert "Adresse e-mail" in page and "Mot de passe oublié ?" in page
    response = log_in(client, "mediatrice@example.fr", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("space:home")
    home = client.get(reverse("space:home")).content.decode()
    assert "Mon espace" in home and "Se déconnecter" in home


def test_wrong_password_gets_a_french_message(client, mediator):
    response = log_in(client, "mediatrice@example.fr", "pas le bon mot de passe")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()


def test_header_links_to_the_space_and_logs_out_with_a_post(client, mediator):
    assert "Espace médiateurs" in client.get("/").content.decode()
    client.force_login(mediator)
    home = client.get("/").content.decode()
    assert 'action="/espace/deconnexion/"' in home
    assert client.get("/espace/deconnexion/").status_code == 405  # never by a simple link
    client.post("/espace/deconnexion/")
    assert client.get(reverse("space:home")).status_code == 302


def test_password_reset_by_e_mail_in_french(client, mediator):
    response = client.post(reverse("space:password_reset"), {"email": "mediatrice@example.fr"})
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == ["mediatrice@example.fr"]
    assert message.subject == "Nouveau mot de passe pour Médiation numérique Centre-Val de Loire"
    assert "valable 24 heures" in message.body
    link = re.search(r"http://\S+/mot-de-passe/nouveau/\S+/", message.body).group(0)

    form_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    assert link.rstrip("/").rsplit("/", 1)[1] not in set_url  # the token left the URL
    weak = client.post(set_url, {"new_password1": "azerty", "new_password2": "azerty"})
    assert "trop court" in weak.content.decode()
    new = "les mardis au cyber-centre"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    mediator.refresh_from_db()
    assert mediator.check_password(new)


def test_password_reset_does_not_reveal_who_has_an_account(client):
    response = client.post(reverse("space:password_reset"), {"email": "inconnu@example.fr"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_brute_force_is_locked_by_e_mail_and_address_for_30_minutes(client, mediator, settings):
    assert settings.AXES_LOCKOUT_PARAMETERS[0] == ["username", "ip_address"]
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mediatrice@example.fr", "mauvais mot de passe")
    # Even the right password is refused now, with a French explanation.
    locked = log_in(client, "mediatrice@example.fr", PASSWORD)
    assert locked.status_code == 429
    assert "Trop de tentatives de connexion" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # The same account from another address is not locked…
    other = type(client)()
    assert log_in(other, "mediatrice@example.fr", PASSWORD, ip="198.51.100.7").status_code == 302

    # …and after 30 minutes the first address may try again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=31))
    assert log_in(client, "mediatrice@example.fr", PASSWORD).status_code == 302


def test_the_admin_login_still_works_and_is_protected_too(client, admin_user, settings):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.email, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.20",
    )
    assert response.status_code == 302
    # The password alone is not enough: the second factor comes next.
    assert client.get("/admin/")["Location"].startswith("/espace/double-authentification/")
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/",
            {"username": admin_user.email, "password": "x"},
            REMOTE_ADDR="192.0.2.20",
        )
    response = client.post(
        "/admin/login/",
        {"username": admin_user.email, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.20",
    )
    assert response.status_code == 429
