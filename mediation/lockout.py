"""Login lock-outs (django-axes): per e-mail and address, and per account.

Two thresholds over the failures of the last `AXES_COOLOFF_TIME`:

- `AXES_FAILURE_LIMIT` failures for one e-mail from one address lock that pair
  (someone mistyping, a single guesser);
- `ACCOUNT_FAILURE_LIMIT` failures for one e-mail from all addresses together
  lock the account everywhere (guessing spread over many addresses). The owner
  gets an e-mail (once per cool-off) saying so.

Neither lasts: a lock ends `AXES_COOLOFF_TIME` after the last recorded failure,
and failures during a lock are not recorded (so a stranger hammering cannot
stretch it). The owner never has to wait: choosing a new password through the
e-mailed link clears the account's failures and logs them in
(mediation/space/accounts.py).

axes has one limit for all its lockout parameters; `LockoutHandler` puts the
per-account count on the per-address scale so that each reaches the limit at
its own threshold.
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from mediation.space import emails

logger = logging.getLogger(__name__)


def username(request, credentials=None):
    """The e-mail as typed, trimmed and lower-cased: one account, one count."""
    if credentials:
        value = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        value = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return value.strip().lower() if isinstance(value, str) else value


def _sum(attempts):
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def account_failures(email, request=None):
    """Failures for `email` from every address within the cool-off."""
    return _sum(
        AccessAttempt.objects.filter(
            username=email, attempt_time__gte=get_cool_off_threshold(request)
        )
    )


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a second, larger threshold per account."""

    def get_failures(self, request, credentials=None):
        by_address, by_account = (_sum(qs) for qs in self.get_user_attempts(request, credentials))
        scaled = by_account * settings.AXES_FAILURE_LIMIT // settings.ACCOUNT_FAILURE_LIMIT
        return max(by_address, scaled)


@receiver(user_locked_out, dispatch_uid="lockout-tell-owner")
def tell_owner(sender, request, username, ip_address, **kwargs):
    """E-mail the account's owner when their account (not one address) gets locked."""
    from mediation.models import User

    if not username or account_failures(username, request) < settings.ACCOUNT_FAILURE_LIMIT:
        return
    user = User.objects.filter(email__iexact=username, is_active=True).first()
    if user is None:
        return
    cool_off = settings.AXES_COOLOFF_TIME
    # axes sends the signal again for each attempt refused during the lock.
    if not cache.add(f"lockout:told:{user.pk}", True, int(cool_off.total_seconds())):
        return
    emails.send(
        "account_locked",
        to=[user.email],
        context={
            "user": user,
            "failures": settings.ACCOUNT_FAILURE_LIMIT,
            "minutes": int(cool_off.total_seconds() // 60),
            "when": timezone.localtime(),
            "reset_url": request.build_absolute_uri(reverse("space:password_reset")),
        },
    )
    logger.warning("Compte %s bloqué après des échecs depuis plusieurs adresses.", user.pk)
