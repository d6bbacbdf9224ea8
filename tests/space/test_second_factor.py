"""Second factor: TOTP with recovery codes, required for admins and coordinators (issue 12).

These tests use a plain `django.test.Client`: the `client` fixture passes the
second factor by itself (tests/conftest.py)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation import privacy
from mediation.models import User
from tests.space.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SETUP = "/espace/double-authentification/configurer/"
VERIFY = "/espace/double-authentification/verifier/"


def code(device, drift=0):
    """What the person's app shows now (drift=1: the next 30 s step)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, drift=drift):06d}"


def log_in(email, next_url="/espace/"):
    client = Client()
    response = client.post(
        f"/espace/connexion/?next={next_url}",
        {"username": email, "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302
    return client


def text(response):
    return " ".join(response.content.decode().split())


def set_up(client, user):
    """Scan, type the first code: returns (device, recovery codes)."""
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post(SETUP, {"app-code": code(device), "next": "/espace/"})
    assert page.status_code == 200
    return device, re.findall(r"<li><code>(\w+)</code></li>", page.content.decode())


def test_a_coordinator_sets_up_the_app_right_after_the_password(coordinator):
    client = log_in(coordinator.email)
    # The password alone opens nothing: every page sends to the set-up.
    for url in ("/espace/", "/espace/moderation/", "/admin/", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url
    page = client.get(SETUP)
    html = page.content.decode()
    assert "Activer la double authentification" in html
    assert "<svg" in html  # the QR code, drawn by segno
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    assert "otpauth://totp/" in device.config_url
    key = re.search(r'<code class="manual-key"[^>]*>([A-Z2-7 ]+)</code>', html).group(1)
    assert len(key.replace(" ", "")) == 32
    field = re.search(r"<input[^>]*name=\"app-code\"[^>]*>", html).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert re.search(r'<label for="id_app-code">', html)

    wrong = client.post(SETUP, {"app-code": "000000", "next": "/espace/"})
    assert wrong.status_code == 400
    assert "Ce code n’est pas le bon" in text(wrong)
    assert not TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()  # as if the person took the 1 s django-otp asks after a failure

    done = client.post(SETUP, {"app-code": code(device), "next": "/espace/moderation/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "ne seront plus affichés" in text(done)
    assert 'href="/espace/moderation/"' in done.content.decode()
    assert client.get("/espace/moderation/").status_code == 200
    # Shown once: the set-up page now says it is done, without the codes.
    assert client.get("/espace/double-authentification/").status_code == 200
    assert codes[0] not in client.get("/espace/double-authentification/").content.decode()


def test_the_next_login_needs_a_code_from_the_app(coordinator):
    device, _ = set_up(log_in(coordinator.email), coordinator)
    client = log_in(coordinator.email, next_url="/espace/moderation/")
    response = client.get("/espace/moderation/")
    assert response["Location"].startswith(VERIFY)
    page = client.get(response["Location"])
    html = page.content.decode()
    field = re.search(r"<input[^>]*name=\"app-code\"[^>]*>", html).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    wrong = client.post(VERIFY, {"kind": "app", "app-code": "123456", "next": "/espace/"})
    assert wrong.status_code == 400
    assert "Ce code n’est pas le bon" in text(wrong)
    device.refresh_from_db()
    device.throttle_reset()  # as if the person took the 1 s django-otp asks after a failure
    right = client.post(
        VERIFY, {"kind": "app", "app-code": code(device, drift=1), "next": "/espace/moderation/"}
    )
    assert right.status_code == 302
    assert right["Location"] == "/espace/moderation/"
    assert client.get("/espace/moderation/").status_code == 200


def test_a_recovery_code_logs_in_once_without_the_phone(coordinator):
    _, codes = set_up(log_in(coordinator.email), coordinator)
    client = log_in(coordinator.email)
    typed = " ".join([codes[3][:4].upper(), codes[3][4:].upper()])  # as copied from paper
    response = client.post(
        VERIFY, {"kind": "recovery", "recovery-code": typed, "next": "/espace/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/espace/"
    assert "il vous en reste 9" in text(response)
    assert StaticToken.objects.filter(device__user=coordinator).count() == 9
    # The same code does not work twice.
    again = log_in(coordinator.email)
    refused = again.post(VERIFY, {"kind": "recovery", "recovery-code": codes[3], "next": "/"})
    assert refused.status_code == 400
    assert again.get("/espace/").status_code == 302


def test_wrong_codes_in_a_row_are_slowed_down(coordinator):
    set_up(log_in(coordinator.email), coordinator)
    client = log_in(coordinator.email)
    client.post(VERIFY, {"kind": "app", "app-code": "111111"})
    client.post(VERIFY, {"kind": "recovery", "recovery-code": "mauvais1"})
    response = client.post(VERIFY, {"kind": "app", "app-code": "222222"})
    assert "Trop d’essais" in text(response)


def test_the_admin_needs_the_second_factor_too(admin_user):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith(SETUP)
    set_up(client, admin_user)
    assert client.get("/admin/").status_code == 200
    # The devices are listed in the admin, where a superuser can remove them.
    devices = client.get("/admin/otp_totp/totpdevice/").content.decode()
    assert admin_user.email in devices or str(admin_user) in devices


def test_a_mediator_may_turn_it_on_and_off(mediator):
    client = log_in(mediator.email)
    assert client.get("/espace/").status_code == 200  # not required
    manage = client.get("/espace/double-authentification/")
    assert "est <strong>désactivée</strong>" in manage.content.decode()
    device, codes = set_up(client, mediator)
    assert len(codes) == 10
    # From now on their login asks for a code.
    again = log_in(mediator.email)
    assert again.get("/espace/")["Location"].startswith(VERIFY)
    again.post(VERIFY, {"kind": "app", "app-code": code(device, drift=1)})
    assert again.get("/espace/").status_code == 200
    # Turning it off asks for the password.
    off = reverse("space:second_factor_off")
    assert again.post(off, {"password": "pas le bon"}).status_code == 400
    assert TOTPDevice.objects.filter(user=mediator).exists()
    assert again.post(off, {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=mediator).exists()
    assert not StaticToken.objects.filter(device__user=mediator).exists()
    assert log_in(mediator.email).get("/espace/").status_code == 200


def test_a_coordinator_cannot_turn_it_off(client, coordinator):
    client.force_login(coordinator)  # passes the second factor (tests/conftest.py)
    page = client.get("/espace/double-authentification/").content.decode()
    assert "obligatoire" in page
    response = client.post(reverse("space:second_factor_off"), {"password": PASSWORD})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=coordinator).exists()


def test_new_recovery_codes_replace_the_old_ones(coordinator):
    client = log_in(coordinator.email)
    _, old = set_up(client, coordinator)
    page = client.post(reverse("space:second_factor_recovery_codes"))
    new = re.findall(r"<li><code>(\w+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=coordinator).values_list("token", flat=True)
    ) == set(new)


def test_a_lost_phone_without_codes_is_removed_by_a_command(coordinator, capsys):
    set_up(log_in(coordinator.email), coordinator)
    call_command("remove_second_factor", "COORDINATION@example.fr")
    assert "Double authentification retirée" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    # The next login sets up the new phone.
    assert log_in(coordinator.email).get("/espace/")["Location"].startswith(SETUP)


def test_deleting_the_account_deletes_its_devices(mediator):
    set_up(log_in(mediator.email), mediator)
    privacy.delete_account(user=User.objects.get(pk=mediator.pk))
    assert not TOTPDevice.objects.filter(user=mediator).exists()
    assert not StaticToken.objects.filter(device__user=mediator).exists()


def test_the_code_page_never_sends_elsewhere(coordinator):
    device, _ = set_up(log_in(coordinator.email), coordinator)
    client = log_in(coordinator.email)
    response = client.post(
        VERIFY,
        {"kind": "app", "app-code": code(device, drift=1), "next": "https://pirate.example/"},
    )
    assert response["Location"] == "/espace/"


def test_the_password_alone_cannot_replace_the_phone(coordinator):
    set_up(log_in(coordinator.email), coordinator)
    stranger = log_in(coordinator.email)  # knows the password, not the phone
    assert stranger.get(SETUP)["Location"].startswith(VERIFY)
    assert stranger.post(SETUP, {"app-code": "123456"})["Location"].startswith(VERIFY)
    for url in ("space:second_factor_recovery_codes", "space:second_factor_off"):
        refused = stranger.post(reverse(url), {"password": PASSWORD})
        assert refused["Location"].startswith(VERIFY), url
    assert TOTPDevice.objects.filter(user=coordinator).count() == 1
    assert StaticToken.objects.filter(device__user=coordinator).count() == 10
