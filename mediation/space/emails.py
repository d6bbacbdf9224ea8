"""E-mails of the site, in French, from templates/space/emails/.

Each template's first line is the subject; the rest is the plain-text body.
Mail goes through Django's configured backend (console by default, SMTP in
production: see EMAIL_* in the README).

Two rules hold for every e-mail (issue 9):

- it leaves after the change it tells about is committed (`send` schedules it
  with `transaction.on_commit`): a rolled-back change sends nothing;
- a mail that cannot be built or sent is logged and reported as not sent; it
  never undoes nor blocks the change (`deliver` catches everything).
"""

import logging
import re
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# A subject is one line: a name holding a line break must not make every mail
# about that place fail with BadHeaderError.
_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x85\u2028\u2029]+")


def render(template, *, context):
    """(subject, body) of `templates/space/emails/<template>.txt`."""
    text = render_to_string(
        f"space/emails/{template}.txt", {"SITE_NAME": settings.SITE_NAME, **context}
    )
    subject, _, body = text.strip().partition("\n")
    return " ".join(_BREAKS.sub(" ", subject).split()), body.strip() + "\n"


def _recipients(to):
    return sorted({address.strip() for address in to if address and address.strip()})


def deliver(template, *, to, context, headers=None):
    """Build and send the mail now; True if sent, False (logged) if it failed."""
    recipients = _recipients(to)
    if not recipients:
        return False
    try:
        subject, body = render(template, context=context)
        message = EmailMessage(
            subject, body, settings.DEFAULT_FROM_EMAIL, recipients, headers=headers
        )
        message.send()
    except Exception:
        logger.exception("E-mail « %s » à %s non envoyé", template, ", ".join(recipients))
        return False
    return True


def send(template, *, to, context, headers=None):
    """Send the mail once the current transaction commits (at once outside one).

    Returns the number of recipients it is scheduled for.
    """
    recipients = _recipients(to)
    if recipients:
        transaction.on_commit(
            partial(deliver, template, to=recipients, context=context, headers=headers)
        )
    return len(recipients)


def default_base_url():
    """The site's address for links in mails sent by commands (no request to ask)."""
    hosts = [host for host in settings.ALLOWED_HOSTS if host not in {"*", ""}]
    host = hosts[0].lstrip(".") if hosts else "localhost:8000"
    scheme = "http" if settings.DEBUG else "https"
    return f"{scheme}://{host}"


def coordinators_of(structure):
    """Who decides for `structure`: its bassin's coordinators, else the administrators."""
    from mediation.models import User

    addresses = []
    if structure.commune_id:
        addresses = list(
            User.objects.filter(
                is_active=True, coordinations__bassin_id=structure.commune.bassin_id
            ).values_list("email", flat=True)
        )
    if not addresses:
        addresses = list(
            User.objects.filter(is_active=True, is_staff=True).values_list("email", flat=True)
        )
    return addresses


def mediators_of(structure):
    return list(
        structure.memberships.filter(user__is_active=True).values_list("user__email", flat=True)
    )
