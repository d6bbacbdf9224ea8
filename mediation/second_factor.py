"""Second factor (TOTP with recovery codes, django-otp) for those who can publish.

Regional admins (staff, superusers) and coordinators must confirm each login
with a code from an authenticator app, or one of their 10 single-use recovery
codes; mediators may choose to. Until a session is verified, every page but the
second-factor pages, logging out and the password-reset pages sends them to
enter a code (or, without a device yet, to set one up): /espace/, the admin,
everything.

A device is django-otp's: `TOTPDevice` (the app's secret) and `StaticDevice`
(the recovery codes). A lost phone: a recovery code logs in, then "Mon espace"
sets up the new phone; without codes, a superuser removes the person's devices
in the admin or with `manage.py remove_second_factor EMAIL`.
"""

import re
from base64 import b32encode
from urllib.parse import urlencode

from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation import permissions

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Application d’authentification"
RECOVERY_DEVICE_NAME = "Codes de secours"


def required(user):
    """Whether `user` must use a second factor: those who can publish and delete."""
    return bool(user.is_staff or user.is_superuser or permissions.is_coordinator(user))


def enabled(user):
    """Whether `user` has a confirmed authenticator app (one query)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_verify(user):
    """Whether this logged-in session still lacks the code it needs."""
    if not user.is_authenticated or getattr(user, "is_verified", lambda: False)():
        return False
    return required(user) or enabled(user)


def new_app_device(user):
    """The unconfirmed TOTP device being set up (a fresh secret for each new set-up)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def manual_key(device):
    """The secret as people type it into an app: base32, in groups of 4."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _clean(code):
    return re.sub(r"[\s-]", "", code or "").lower()


@transaction.atomic
def confirm_app_device(*, device, code):
    """Confirm `device` with a code from the app; the user's other apps are removed.

    Returns the new recovery codes, or None when the code is wrong."""
    if not device.verify_token(_clean(code)):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user=device.user)


@transaction.atomic
def new_recovery_codes(*, user):
    """Replace `user`'s recovery codes with 10 new ones, returned once (stored as given)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def verify(*, user, code):
    """The device that accepts `code` (app code or recovery code), or None.

    Returns (device, throttled): django-otp slows down repeated failures on
    each device (1, 2, 4… seconds); `throttled` says a device refused to check."""
    code = _clean(code)
    throttled = False
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(code):
            return device, False
    return None, throttled


def device_count(user):
    return sum(1 for _ in devices_for_user(user, confirmed=None))


@transaction.atomic
def remove(*, user):
    """Remove every device of `user` (lost phone and codes; account deletion)."""
    count = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        count += 1
    return count


class SecondFactorMiddleware:
    """Send a logged-in person who still owes a code to the page that asks for it."""

    # Only the pages that ask for the code: managing the second factor (new
    # recovery codes, turning it off) needs a verified session like the rest.
    OPEN_PREFIXES = (
        "/espace/double-authentification/verifier/",
        "/espace/double-authentification/configurer/",
        "/espace/deconnexion/",
        "/espace/mot-de-passe/oublie/",
        "/espace/mot-de-passe/nouveau/",
        "/admin/logout/",
        "/static/",
        "/healthz",
        "/favicon.ico",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(self.OPEN_PREFIXES)
            and must_verify(user)
        ):
            name = "space:second_factor_verify" if enabled(user) else "space:second_factor_setup"
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(name)}?{query}")
        return self.get_response(request)
