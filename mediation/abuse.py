"""Limits on what one visitor can make the site send: mails and moderation work.

Each action that sends an e-mail or fills a coordinator's queue (a password
reset, a proposal, a join request, an invitation, an error report) is counted
per visitor (the client's IP address, `mediation.client_ip`), per account when
someone is logged in, and per target where there is one (the address a reset
or an invitation is sent to). Past the limit of `settings.ABUSE_LIMITS`, the
view shows its form again with `message()` and status 429, and sends nothing.

Counts live in the shared cache, under a keyed hash (no address in clear), for
the limit's period from the first count (a fixed window). The cache degrades on
its own (mediation/cache.py): with Redis down, counts are per process.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from mediation.client_ip import client_ip

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\w*\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PERIOD_TEXT = {1: "seconde", 60: "minute", 3600: "heure", 86400: "jour"}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text):
        """`"5/h"`, `"10/hour"`, `"3/15m"`, `"20/d"` -> Rate; ValueError otherwise."""
        match = _RATE.match(text)
        if not match:
            raise ValueError(f"Limite illisible : {text!r} (attendu par exemple « 5/h »).")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _SECONDS[unit])

    @property
    def period_text(self):
        for seconds in (86400, 3600, 60, 1):
            if self.seconds % seconds == 0:
                amount = self.seconds // seconds
                unit = _PERIOD_TEXT[seconds]
                if amount == 1:
                    return f"une {unit}" if unit in {"heure", "minute", "seconde"} else f"un {unit}"
                return f"{amount} {unit}s"
        return f"{self.seconds} secondes"  # unreachable: every period is in seconds


def rate(name):
    """The Rate configured for limit `name` in settings.ABUSE_LIMITS."""
    return Rate.parse(settings.ABUSE_LIMITS[name])


def key(name, who):
    """The cache key counting limit `name` for `who` (hashed: no address in clear)."""
    return "abuse:" + name + ":" + salted_hmac("abuse-limit", f"{name}:{who}").hexdigest()[:32]


def count(key, seconds):
    """One more under `key`, in a window of `seconds` from the first: the new count."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        return 1


def _subjects(request, targets):
    """(limit name suffix, identity) pairs an action is counted against."""
    subjects = [("visitor", client_ip(request))]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        subjects.append(("account", user.pk))
    subjects.extend(("target", str(target).strip().lower()) for target in targets if target)
    return subjects


def allow(request, action, *, targets=()):
    """Count one `action` for this visitor (and account, and each target); False past a limit.

    The limits are `ABUSE_LIMITS[f"{action}_visitor"]`, `..._account` and
    `..._target`, each optional. Every subject is counted even when another is
    over its limit, so a refused flood keeps its counts up."""
    allowed = True
    for kind, who in _subjects(request, targets):
        name = f"{action}_{kind}"
        if name not in settings.ABUSE_LIMITS:
            continue
        limit = rate(name)
        if count(key(name, who), limit.seconds) > limit.count:
            allowed = False
    return allowed


def message(action):
    """The French sentence shown when `action` is refused."""
    periods = [
        rate(f"{action}_{kind}")
        for kind in ("visitor", "account", "target")
        if f"{action}_{kind}" in settings.ABUSE_LIMITS
    ]
    longest = max(periods, key=lambda limit: limit.seconds)
    return (
        f"{ACTION_TEXT[action]} Pour éviter les abus, le nombre d’envois est limité : "
        f"merci de réessayer dans {longest.period_text}."
    )


ACTION_TEXT = {
    "password_reset": "Plusieurs demandes de nouveau mot de passe ont déjà été faites "
    "depuis votre connexion ou pour cette adresse : si un e-mail est arrivé, son lien "
    "reste valable.",
    "proposal": "Vous avez déjà proposé plusieurs lieux : merci !",
    "join_request": "Vous avez déjà envoyé plusieurs demandes de gestion : merci !",
    "invitation": "Plusieurs invitations ont déjà été envoyées depuis votre compte ou "
    "à cette adresse.",
    "report": "Vous avez déjà envoyé plusieurs signalements : merci !",
}
