"""`remind_unverified`: mediators of listings unverified for 12 months get an e-mail."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from mediation.models import Membership, Structure, VerificationReminder
from tests.factories import StructureFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("remind_unverified", *args, "--base-url", "https://mediation.example", stdout=out)
    return out.getvalue()


@pytest.fixture
def stale(structure, mediator):
    Structure.objects.filter(pk=structure.pk).update(
        verified_at=timezone.now() - timedelta(days=400)
    )
    return structure


def test_mediators_of_stale_listings_are_reminded_in_french(stale, mediator):
    fresh = StructureFactory(name="Lieu vérifié", verified_at=timezone.now() - timedelta(days=30))
    Membership.objects.create(structure=fresh, user=UserFactory(email="a-jour@example.fr"))
    output = run()
    assert "1 rappel(s) envoyés." in output
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [mediator.email]
    assert message.subject == f"Les informations de « {stale.name} » sont-elles toujours à jour ?"
    assert f"https://mediation.example/espace/structures/{stale.pk}/modifier/" in message.body
    assert "Ces informations sont à jour" in message.body


def test_never_verified_old_listings_count_too(structure, mediator):
    Structure.objects.filter(pk=structure.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    run()
    assert [m.to for m in mail.outbox] == [[mediator.email]]


def test_dry_run_sends_nothing(stale, mediator):
    output = run("--dry-run")
    assert f"{stale.name} → {mediator.email}" in output
    assert mail.outbox == []
    assert not VerificationReminder.objects.exists()


def test_a_listing_is_reminded_once_a_month_not_every_day(stale):
    run()
    run()
    assert len(mail.outbox) == 1
    VerificationReminder.objects.update(sent_at=timezone.now() - timedelta(days=31))
    run()
    assert len(mail.outbox) == 2


def test_verifying_stops_the_reminders(client, stale, mediator):
    client.force_login(mediator)
    client.post(f"/espace/structures/{stale.pk}/verifier/")
    run()
    assert mail.outbox == []
