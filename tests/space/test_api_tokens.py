"""API tokens: hashed at rest, shown once, named, expiring, managed by their owners."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mediation.api_tokens import ApiToken
from mediation.memberships import hash_token
from tests.factories import api_key

API = "/api/v1/structures/"


def test_a_mediator_creates_a_token_sees_it_once_and_revokes_it(client, mediator):
    client.force_login(mediator)
    page = client.get(reverse("space:home")).content.decode()
    assert reverse("space:api_tokens") in page

    created = client.post(
        reverse("space:api_tokens"), {"name": "Logiciel de la mairie", "lifetime": "365"}
    )
    html = created.content.decode()
    token = ApiToken.objects.get(user=mediator)
    key = html.split("<p><code>", 1)[1].split("</code>", 1)[0]
    assert token.key_hash == hash_token(key) and key not in token.key_hash  # only a digest is kept
    assert "il ne sera plus jamais affiché" in html
    assert (token.expires_at - token.created_at).days == 365
    assert key not in client.get(reverse("space:api_tokens")).content.decode()  # once

    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(API).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    revoked = client.post(reverse("space:api_token_revoke", args=[token.pk]), follow=True)
    assert "est révoqué" in revoked.content.decode()
    response = api.get(API)
    assert response.status_code == 401 and response.json()["detail"] == "Jeton invalide."


def test_an_expired_token_is_refused_with_a_french_reason(mediator, db):
    key = api_key(mediator)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get(API)
    assert response.status_code == 401
    assert "Jeton expiré" in response.json()["detail"]


def test_nobody_revokes_someone_elses_token(client, mediator, other_mediator):
    api_key(other_mediator)
    client.force_login(mediator)
    token = ApiToken.objects.get()
    assert client.post(reverse("space:api_token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.exists()
