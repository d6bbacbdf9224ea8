"""Sessions of logged-in people: an idle timeout, and pages no cache keeps.

A session ends after `SESSION_IDLE_TIMEOUT_STAFF` without a request for the
people who can publish and delete (regional admins, coordinators), after
`SESSION_IDLE_TIMEOUT` for the others. Every page served to a logged-in
person, and every page of /espace/ and /admin/, says `Cache-Control: private,
no-store`: a shared computer's browser or a proxy keeps none of it.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from mediation import permissions

LAST_SEEN = "idle_last_seen"
LIMIT = "idle_limit"
WRITE_EVERY = 60  # seconds: the session is not rewritten on every request


def idle_limit(user):
    """Seconds without a request after which this person's session ends."""
    staff = user.is_staff or permissions.is_coordinator(user)
    limit = settings.SESSION_IDLE_TIMEOUT_STAFF if staff else settings.SESSION_IDLE_TIMEOUT
    return int(limit.total_seconds())


class SessionSecurityMiddleware:
    PRIVATE_PREFIXES = ("/espace/", "/admin/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request, user)
            if expired is not None:
                return expired
        response = self.get_response(request)
        if request.path.startswith(self.PRIVATE_PREFIXES) or (
            user is not None and user.is_authenticated
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def _expired(self, request, user):
        session = request.session
        now = int(time.time())
        limit = session.get(LIMIT)
        if limit is None:
            limit = session[LIMIT] = idle_limit(user)
            session.set_expiry(limit)
        last_seen = session.get(LAST_SEEN, now)
        if now - last_seen > limit:
            logout(request)
            messages.info(request, "Votre session a expiré faute d’activité : reconnectez-vous.")
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
        if now - last_seen >= WRITE_EVERY or LAST_SEEN not in session:
            session[LAST_SEEN] = now
            session.set_expiry(limit)
        return None
