"""Who runs which place: memberships, coordinations, invitations, join requests.

- a `Membership` makes a person a mediator of one structure (they edit it);
- a `Coordination` makes a person the coordinator of one bassin de vie (they
  moderate and edit every structure of it, and invite mediators);
- an `Invitation` is a single-use link, sent by e-mail, that creates a membership;
- a `JoinRequest` is "Vous gérez ce lieu ?": a person asks, a coordinator decides.

Who may do what with them is decided in `mediation.permissions`, nowhere else.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Membership(models.Model):
    """A mediator of a structure: they keep its listing right."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    created_at = models.DateTimeField("depuis le", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "médiateur d’une structure"
        verbose_name_plural = "médiateurs des structures"
        ordering = ["structure", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "structure"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} – {self.structure}"


class Coordination(models.Model):
    """A coordinator of a bassin de vie."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="coordinations",
    )
    bassin = models.ForeignKey(
        "territories.BassinDeVie",
        verbose_name="bassin de vie",
        on_delete=models.CASCADE,
        related_name="coordinations",
    )
    created_at = models.DateTimeField("depuis le", default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "coordination d’un bassin de vie"
        verbose_name_plural = "coordinations des bassins de vie"
        ordering = ["bassin", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "bassin"], name="unique_coordination")
        ]

    def __str__(self):
        return f"{self.user} – {self.bassin}"


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())

    def for_token(self, token):
        """The invitation behind a link's token (only its hash is stored), or None."""
        return self.filter(token_hash=hash_token(token or "")).first()


class Invitation(models.Model):
    """A single-use link, sent by e-mail, to become a mediator of a structure."""

    email = models.EmailField("adresse e-mail invitée")
    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    # Only the hash is stored: a leaked database does not hand out valid links.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="invité par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("valable jusqu’au")
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="acceptée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation de {self.email} pour {self.structure}"

    @classmethod
    def new(cls, *, email, structure, invited_by):
        """An unsaved invitation and the token of its link (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation = cls(
            email=email,
            structure=structure,
            invited_by=invited_by,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + settings.INVITATION_MAX_AGE,
        )
        return invitation, token

    @property
    def is_usable(self):
        return self.accepted_at is None and self.expires_at > timezone.now()


class JoinRequest(models.Model):
    """ "Vous gérez ce lieu ?": a person asks to become a mediator of a structure."""

    class State(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REFUSED = "refused", "Refusée"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="demandeur",
        on_delete=models.CASCADE,
        related_name="join_requests",
    )
    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="join_requests",
    )
    message = models.TextField("message", blank=True)
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField("demandée le", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    response = models.TextField("réponse", blank=True)

    class Meta:
        verbose_name = "demande de gestion d’un lieu"
        verbose_name_plural = "demandes de gestion d’un lieu"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure"],
                condition=models.Q(state="pending"),
                name="one_pending_join_request",
            )
        ]

    def __str__(self):
        return f"{self.user} demande à gérer {self.structure}"


class VerificationReminder(models.Model):
    """An e-mail sent by `remind_unverified`: keeps mediators from being reminded daily."""

    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="verification_reminders",
    )
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)
    recipients = models.TextField("destinataires")

    class Meta:
        verbose_name = "rappel de vérification"
        verbose_name_plural = "rappels de vérification"
        ordering = ["-sent_at"]
        get_latest_by = "sent_at"

    def __str__(self):
        return f"Rappel pour {self.structure} ({timezone.localtime(self.sent_at):%d/%m/%Y})"


class CoordinatorDigest(models.Model):
    """The monthly list of stale places sent to a coordinator by `remind_unverified`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        on_delete=models.CASCADE,
        related_name="coordinator_digests",
    )
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    places = models.PositiveIntegerField("lieux listés")

    class Meta:
        verbose_name = "liste mensuelle des fiches à vérifier"
        verbose_name_plural = "listes mensuelles des fiches à vérifier"
        ordering = ["-sent_at"]

    def __str__(self):
        return f"Liste pour {self.user} ({timezone.localtime(self.sent_at):%d/%m/%Y})"
