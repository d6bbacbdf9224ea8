"""Partners' API tokens: hashed at rest, named, expiring, managed by their owners.

Only a SHA-256 digest of a token is stored: a leaked database hands out no
valid token, and the token is shown once, when it is created. People create
and revoke their own tokens in "Mon espace" (/espace/jetons/). The API reads
them from `Authorization: Token …` (`ApiTokenAuthentication`).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from mediation.memberships import hash_token

DEFAULT_LIFETIME = timedelta(days=365)
LAST_USED_PRECISION = timedelta(hours=1)  # not one write per request


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(expires_at__gt=timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField("nom", max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField("début du jeton", max_length=8, editable=False)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    expires_at = models.DateTimeField("valable jusqu’au")
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d’accès à l’API"
        verbose_name_plural = "jetons d’accès à l’API"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @classmethod
    @transaction.atomic
    def issue(cls, *, user, name, lifetime=DEFAULT_LIFETIME):
        """A new saved token and its key, the only time the key is seen in clear."""
        key = secrets.token_urlsafe(32)
        now = timezone.now()
        token = cls.objects.create(
            user=user,
            name=name,
            key_hash=hash_token(key),
            prefix=key[:8],
            created_at=now,
            expires_at=now + lifetime,
        )
        return token, key


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against the stored digests."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Jeton invalide.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                "Jeton expiré : créez-en un nouveau dans « Mon espace »."
            )
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
