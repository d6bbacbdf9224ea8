"""Pages of the second factor (mediation/second_factor.py), under /espace/double-authentification/.

- `verify`: after the password, a code from the app or a recovery code;
- `setup`: QR code and manual key, a first code to confirm, then the 10
  recovery codes, shown once;
- `manage` ("Mon espace"): status, new recovery codes, turning it off (for those
  who are not required to use it).
"""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from mediation import second_factor
from mediation.space.forms import AppCodeForm, RecoveryCodeForm, SecondFactorOffForm


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("space:home")


@login_required
def verify(request):
    """Ask the code that confirms this login."""
    user = request.user
    if not second_factor.must_verify(user):
        return redirect(_next(request))
    if not second_factor.enabled(user):
        return redirect(f"{reverse('space:second_factor_setup')}?{request.GET.urlencode()}")
    recovery = request.POST.get("kind") == "recovery"
    app_form = AppCodeForm(None if recovery else request.POST or None, prefix="app")
    recovery_form = RecoveryCodeForm(request.POST if recovery else None, prefix="recovery")
    form = recovery_form if recovery else app_form
    status = 200
    if request.method == "POST" and form.is_valid():
        device, throttled = second_factor.verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if recovery:
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"Code de secours utilisé : il vous en reste {left}. "
                    "Si vous avez perdu votre téléphone, configurez le nouveau dans "
                    "« Double authentification » de votre espace.",
                )
            return redirect(_next(request))
        if throttled:
            error = "Trop d’essais : attendez quelques secondes avant de réessayer."
        elif recovery:
            error = "Ce code de secours n’est pas le bon, ou il a déjà servi."
        else:
            error = "Ce code n’est pas le bon, ou il a expiré. Tapez le code affiché maintenant."
        form.add_error("code", error)
        status = 400
    return render(
        request,
        "space/second_factor/verify.html",
        {
            "app_form": app_form,
            "recovery_form": recovery_form,
            "recovery": recovery,
            "next": _next(request),
        },
        status=status,
    )


@login_required
def setup(request):
    """Set up the authenticator app: scan, type a first code, keep the recovery codes."""
    user = request.user
    if second_factor.enabled(user) and second_factor.must_verify(user):
        return redirect(f"{reverse('space:second_factor_verify')}?{request.GET.urlencode()}")
    device = second_factor.new_app_device(user)
    form = AppCodeForm(request.POST or None, prefix="app")
    status = 200
    if request.method == "POST" and form.is_valid():
        codes = second_factor.confirm_app_device(device=device, code=form.cleaned_data["code"])
        if codes is not None:
            otp_login(request, device)
            return render(
                request,
                "space/second_factor/recovery_codes.html",
                {"codes": codes, "next": _next(request), "first_time": True},
            )
        form.add_error(
            "code",
            "Ce code n’est pas le bon. Vérifiez que l’heure de votre téléphone est juste, "
            "puis tapez le code affiché maintenant.",
        )
        status = 400
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "space/second_factor/setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(qr.svg_inline(scale=5, title="QR code à scanner")),
            "manual_key": second_factor.manual_key(device),
            "required": second_factor.required(user),
            "next": _next(request),
        },
        status=status,
    )


@login_required
def manage(request):
    """ "Double authentification" in Mon espace."""
    user = request.user
    return render(
        request,
        "space/second_factor/manage.html",
        {
            "enabled": second_factor.enabled(user),
            "required": second_factor.required(user),
            "codes_left": second_factor.recovery_codes_left(user),
            "off_form": SecondFactorOffForm(user=user),
        },
    )


@login_required
@require_POST
def recovery_codes(request):
    """Ten new recovery codes (the old ones stop working)."""
    if not second_factor.enabled(request.user):
        raise PermissionDenied
    codes = second_factor.new_recovery_codes(user=request.user)
    return render(
        request,
        "space/second_factor/recovery_codes.html",
        {"codes": codes, "next": reverse("space:second_factor"), "first_time": False},
    )


@login_required
@require_POST
def turn_off(request):
    """A mediator turns the second factor off, after giving their password."""
    user = request.user
    if second_factor.required(user):
        raise PermissionDenied("La double authentification est obligatoire pour votre compte.")
    form = SecondFactorOffForm(request.POST, user=user)
    if not form.is_valid():
        return render(
            request,
            "space/second_factor/manage.html",
            {
                "enabled": True,
                "required": False,
                "codes_left": second_factor.recovery_codes_left(user),
                "off_form": form,
            },
            status=400,
        )
    second_factor.remove(user=user)
    messages.success(request, "La double authentification est désactivée pour votre compte.")
    return redirect("space:second_factor")
