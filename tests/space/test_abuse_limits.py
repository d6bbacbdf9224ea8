"""Abuse limits: one visitor cannot make the site send mails without end (issue 12)."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from mediation import abuse
from mediation.cache import cache_available
from mediation.models import Invitation, JoinRequest, ServiceType, Structure
from tests.factories import StructureFactory, UserFactory, commune
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db

RESET = "/espace/mot-de-passe/oublie/"


@pytest.fixture
def limits(settings):
    """Small limits, so that a test reaches them in a few requests."""

    def set_limits(**rates):
        settings.ABUSE_LIMITS = {**settings.ABUSE_LIMITS, **rates}

    return set_limits


def propose(client, user, *, name):
    data = edit_payload(
        Structure(commune=commune("36044")),
        name=name,
        address="3 rue des Écoles",
        postal_code="36000",
        city="Châteauroux",
        opening_hours="Sa 10:00-12:00",
    )
    data["version"] = ""
    data["kinds"] = [str(ServiceType.objects.get(slug="espace-public-numerique").pk)]
    client.force_login(user)
    return client.post(reverse("space:propose"), data)


def text(response):
    return " ".join(response.content.decode().split())


@pytest.mark.parametrize(
    ("rate", "count", "seconds", "words"),
    [
        ("5/h", 5, 3600, "une heure"),
        ("10/hour", 10, 3600, "une heure"),
        ("3/15m", 3, 900, "15 minutes"),
        ("20/d", 20, 86400, "un jour"),
        ("2/2d", 2, 172800, "2 jours"),
    ],
)
def test_limits_are_read_as_count_per_period(rate, count, seconds, words):
    parsed = abuse.Rate.parse(rate)
    assert (parsed.count, parsed.seconds) == (count, seconds)
    assert parsed.period_text == words


def test_an_unreadable_limit_is_refused_with_a_french_message():
    with pytest.raises(ValueError, match="Limite illisible"):
        abuse.Rate.parse("beaucoup")


def test_password_reset_mails_to_one_address_are_limited(client, mediator, limits):
    limits(password_reset_target="3/h", password_reset_visitor="100/h")
    for n in range(3):
        response = client.post(
            RESET, {"email": "mediatrice@example.fr"}, REMOTE_ADDR=f"192.0.2.{n}"
        )
        assert response.status_code == 302
    assert len(mail.outbox) == 3
    # From yet another address, or with other capitals, the victim gets no 4th mail.
    refused = client.post(RESET, {"email": "Mediatrice@Example.fr"}, REMOTE_ADDR="198.51.100.9")
    assert refused.status_code == 429
    assert "son lien reste valable" in text(refused)
    assert "réessayer dans une heure" in text(refused)
    assert 'name="email"' in text(refused)  # the form is still there
    assert len(mail.outbox) == 3


def test_password_reset_is_limited_per_visitor(client, mediator, other_mediator, limits):
    limits(password_reset_visitor="2/h", password_reset_target="100/h")
    client.post(RESET, {"email": "inconnu@example.fr"})
    client.post(RESET, {"email": "mediatrice@example.fr"})
    assert len(mail.outbox) == 1
    refused = client.post(RESET, {"email": "autre.mediateur@example.fr"})
    assert refused.status_code == 429
    assert len(mail.outbox) == 1
    # Another visitor is served.
    other = client.post(RESET, {"email": "autre.mediateur@example.fr"}, REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 302
    assert mail.outbox[-1].to == ["autre.mediateur@example.fr"]


def test_proposals_are_limited_per_account(client, coordinator, limits):
    limits(proposal_account="2/d", proposal_visitor="100/d")
    visitor = UserFactory(email="visiteur@example.fr")
    assert propose(client, visitor, name="Premier lieu").status_code == 302
    assert propose(client, visitor, name="Deuxième lieu").status_code == 302
    sent = len(mail.outbox)
    refused = propose(client, visitor, name="Troisième lieu")
    assert refused.status_code == 429
    assert "Vous avez déjà proposé plusieurs lieux" in text(refused)
    assert 'value="Troisième lieu"' in refused.content.decode()  # nothing typed is lost
    assert not Structure.objects.filter(name="Troisième lieu").exists()
    assert len(mail.outbox) == sent


def test_proposals_are_limited_per_visitor_across_accounts(client, coordinator, limits):
    limits(proposal_account="100/d", proposal_visitor="2/d")
    for n in range(2):
        assert propose(client, UserFactory(), name=f"Lieu {n}").status_code == 302
    assert propose(client, UserFactory(), name="Lieu de trop").status_code == 429
    assert not Structure.objects.filter(name="Lieu de trop").exists()


def test_join_requests_are_limited_per_account(client, coordinator, limits):
    limits(join_request_account="2/d")
    visitor = UserFactory(email="visiteur@example.fr")
    places = [StructureFactory(commune=commune("36044")) for _ in range(3)]
    client.force_login(visitor)
    for place in places[:2]:
        response = client.post(reverse("space:join", args=[place.pk]), {"message": "C’est moi."})
        assert response.status_code == 302
    sent = len(mail.outbox)
    refused = client.post(reverse("space:join", args=[places[2].pk]), {"message": "Encore moi."})
    assert refused.status_code == 429
    assert "plusieurs demandes de gestion" in text(refused)
    assert JoinRequest.objects.count() == 2
    assert len(mail.outbox) == sent


def test_invitations_to_one_address_are_limited(client, coordinator, structure, limits):
    limits(invitation_target="2/d")
    client.force_login(coordinator)
    url = reverse("space:invite", args=[structure.pk])
    for _ in range(2):
        assert client.post(url, {"email": "cible@example.fr"}).status_code == 302
    refused = client.post(url, {"email": "CIBLE@example.fr"})
    assert refused.status_code == 429
    assert "Plusieurs invitations ont déjà été envoyées" in text(refused)
    assert len([m for m in mail.outbox if m.to == ["cible@example.fr"]]) == 2
    # Someone else can still be invited.
    assert client.post(url, {"email": "autre@example.fr"}).status_code == 302
    assert Invitation.objects.filter(email="autre@example.fr").exists()


def test_invitations_are_limited_per_account(client, coordinator, structure, limits):
    limits(invitation_account="2/d")
    client.force_login(coordinator)
    url = reverse("space:invite", args=[structure.pk])
    for n in range(2):
        assert client.post(url, {"email": f"personne{n}@example.fr"}).status_code == 302
    assert client.post(url, {"email": "personne9@example.fr"}).status_code == 429
    assert not Invitation.objects.filter(email="personne9@example.fr").exists()


def test_limits_hold_with_the_cache_down(client, mediator, limits, settings):
    """Redis unreachable: counts go on in the process's memory (mediation/cache.py)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "mediation.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }  # Django's test signals drop the old cache connection
    assert not cache_available(cache)
    limits(password_reset_target="1/h")
    assert client.post(RESET, {"email": "mediatrice@example.fr"}).status_code == 302
    assert client.post(RESET, {"email": "mediatrice@example.fr"}).status_code == 429
    assert len(mail.outbox) == 1
