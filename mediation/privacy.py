"""Personal data: how long each kind is kept, its purge, and a person's erasure.

The retention periods are the ones told to people in the register of the README
("Données personnelles") and on /mentions-legales/; `purge_personal_data`
(run daily) enforces them. Deleting an account keeps the history of the places
readable: the account stays as an empty shell named "compte supprimé".
"""

from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import checks
from django.db import transaction
from django.utils import timezone

from mediation import second_factor
from mediation.campaigns import CampaignMail
from mediation.memberships import Invitation, JoinRequest
from mediation.models import ErrorReport

# How long each piece of personal data is kept (told in the README and on the legal page).
LOGIN_LOGS = timedelta(days=180)  # django-axes: logins and failed attempts, with IP and browser
LOGIN_ATTEMPTS = timedelta(days=1)  # the counters behind a lockout (itself 30 minutes)
REPORT_EMAIL = timedelta(days=90)  # after the report was handled: time to answer
EXPIRED_INVITATION = timedelta(days=30)  # after the link stopped working
JOIN_REQUEST_MESSAGE = timedelta(days=180)  # after the decision
CAMPAIGN_EMAIL = timedelta(days=365)  # after the update link stopped working


def retention_days():
    """The periods above in days, for the legal page."""
    return {
        "login_logs": LOGIN_LOGS.days,
        "report_email": REPORT_EMAIL.days,
        "invitation": EXPIRED_INVITATION.days,
        "join_request": JOIN_REQUEST_MESSAGE.days,
        "campaign_email": CAMPAIGN_EMAIL.days,
        "invitation_link": settings.INVITATION_MAX_AGE.days,
    }


@dataclass
class PurgeStep:
    label: str
    queryset: object
    update: dict | None = None  # None: delete the rows; else: blank these fields

    def run(self, *, dry_run):
        if dry_run:
            return self.queryset.count()
        if self.update is None:
            return self.queryset.delete()[0]
        return self.queryset.update(**self.update)


def purge_steps(now=None):
    """What the purge removes today, step by step (label, rows, delete or blank)."""
    now = now or timezone.now()
    return [
        PurgeStep(
            "journal des connexions (adresse IP, navigateur)",
            AccessLog.objects.filter(attempt_time__lt=now - LOGIN_LOGS),
        ),
        PurgeStep(
            "journal des échecs de connexion",
            AccessFailureLog.objects.filter(attempt_time__lt=now - LOGIN_LOGS),
        ),
        PurgeStep(
            "compteurs d’échecs de connexion",
            AccessAttempt.objects.filter(attempt_time__lt=now - LOGIN_ATTEMPTS),
        ),
        PurgeStep("sessions expirées", Session.objects.filter(expire_date__lt=now)),
        PurgeStep(
            "adresses e-mail des signalements traités",
            ErrorReport.objects.exclude(state=ErrorReport.State.NEW)
            .exclude(email="")
            .filter(handled_at__lt=now - REPORT_EMAIL),
            {"email": ""},
        ),
        PurgeStep(
            "invitations expirées sans réponse",
            Invitation.objects.filter(
                accepted_at__isnull=True, expires_at__lt=now - EXPIRED_INVITATION
            ),
        ),
        PurgeStep(
            "messages des demandes de gestion décidées",
            JoinRequest.objects.exclude(state=JoinRequest.State.PENDING)
            .filter(decided_at__lt=now - JOIN_REQUEST_MESSAGE)
            .exclude(message="", response=""),
            {"message": "", "response": ""},
        ),
        PurgeStep(
            "adresses des envois de campagne expirés",
            CampaignMail.objects.exclude(email="").filter(expires_at__lt=now - CAMPAIGN_EMAIL),
            {"email": ""},
        ),
    ]


@transaction.atomic
def purge(*, dry_run=False, now=None):
    """Enforce the retention periods; [(label, rows)] of what was (or would be) purged."""
    return [(step.label, step.run(dry_run=dry_run)) for step in purge_steps(now)]


@transaction.atomic
def delete_account(*, user):
    """Erase a person's account; what they wrote in the history stays, under "compte supprimé".

    The row is kept (the history points at it) but holds nothing about the
    person any more: no name, no e-mail, no password, no rights, no token.
    Other sessions end by themselves: an inactive account with a new password
    hash is logged out everywhere on its next request.
    """
    Invitation.objects.filter(email__iexact=user.email, accepted_at__isnull=True).delete()
    user.memberships.all().delete()
    user.coordinations.all().delete()
    user.join_requests.all().delete()
    user.api_tokens.all().delete()
    second_factor.remove(user=user)
    AccessLog.objects.filter(username__iexact=user.email).delete()
    AccessFailureLog.objects.filter(username__iexact=user.email).delete()
    AccessAttempt.objects.filter(username__iexact=user.email).delete()
    user.email = f"compte-supprime-{user.pk}@invalid"
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


# The operator's facts on the legal page -------------------------------------------

LEGAL_SETTINGS = {
    "publisher": "LEGAL_PUBLISHER",
    "director": "LEGAL_PUBLICATION_DIRECTOR",
    "host": "LEGAL_HOST",
    "dpo": "LEGAL_DPO_CONTACT",
}


@checks.register(checks.Tags.security, deploy=True)
def check_legal_notice(app_configs=None, **kwargs):
    """A public site must name its publisher, director, host and DPO contact (LCEN, GDPR)."""
    if settings.DEBUG:
        return []
    missing = [name for key, name in LEGAL_SETTINGS.items() if not settings.LEGAL_NOTICE.get(key)]
    if not missing:
        return []
    return [
        checks.Warning(
            "Les mentions légales sont incomplètes : " + ", ".join(missing) + " non renseigné(s).",
            hint="Renseignez ces variables d’environnement (voir le README, « Réglages »).",
            id="mediation.W001",
        )
    ]
