"""E-mails of the mediators' space, in French, from templates/space/emails/.

Each template's first line is the subject; the rest is the plain-text body.
Mail goes through Django's configured backend (console by default, SMTP in
production: see EMAIL_* in the README).
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def send(template, *, to, context):
    """Send `templates/space/emails/<template>.txt` to the addresses `to` (if any)."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return 0
    text = render_to_string(
        f"space/emails/{template}.txt", {"SITE_NAME": settings.SITE_NAME, **context}
    )
    subject, _, body = text.strip().partition("\n")
    return send_mail(subject.strip(), body.strip() + "\n", settings.DEFAULT_FROM_EMAIL, recipients)


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
