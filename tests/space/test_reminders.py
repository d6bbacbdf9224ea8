"""`remind_unverified`: listings unverified for 12 months remind their mediators and coordinators."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from mediation.models import CoordinatorDigest, Membership, Structure, VerificationReminder
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


class FailingForOneBackend(EmailBackend):
    """A mail server that refuses mail to one address only."""

    def send_messages(self, messages):
        if any("refuse@example.fr" in m.to for m in messages):
            raise ConnectionRefusedError("boîte refusée")
        return super().send_messages(messages)


def test_a_failing_place_is_reported_and_the_others_are_still_reminded(settings, stale):
    settings.EMAIL_BACKEND = "tests.space.test_reminders.FailingForOneBackend"
    broken = StructureFactory(name="Atelier A", verified_at=timezone.now() - timedelta(days=500))
    Membership.objects.create(structure=broken, user=UserFactory(email="refuse@example.fr"))
    err = StringIO()
    with pytest.raises(CommandError, match="1 e-mail"):
        call_command(
            "remind_unverified", "--base-url", "https://m.example", stdout=StringIO(), stderr=err
        )
    assert "rappel pour « Atelier A »" in err.getvalue()
    assert [m.subject for m in mail.outbox] == [
        f"Les informations de « {stale.name} » sont-elles toujours à jour ?"
    ]
    # The failed one is not marked as reminded: the next run tries it again.
    assert list(VerificationReminder.objects.values_list("structure", flat=True)) == [stale.pk]


def test_a_change_saved_by_a_person_counts_as_fresh(stale, mediator):
    stale.refresh_from_db()  # still verified 400 days ago: only the person's change is new
    stale.phone = "+33254000001"
    stale._history_user = mediator
    stale.save()
    run()
    assert mail.outbox == []


def test_an_import_does_not_count_as_a_person_checking(stale, mediator):
    stale.refresh_from_db()
    stale.phone = "+33254000001"
    stale.save()  # no user: a script or an import
    run()
    assert [m.to for m in mail.outbox] == [[mediator.email]]


@pytest.fixture
def orphan(structure):
    """A stale place of the same bassin with nobody to remind."""
    return StructureFactory(
        name="Médiathèque sans médiateur",
        commune=structure.commune,
        verified_at=timezone.now() - timedelta(days=800),
    )


def test_each_coordinator_gets_a_monthly_list_of_the_stale_places_of_their_bassins(
    stale, orphan, coordinator, other_coordinator, other_structure
):
    Structure.objects.filter(pk=other_structure.pk).update(verified_at=timezone.now())
    output = run()
    assert "1 liste(s) de coordinateur envoyés." in output
    digest = next(m for m in mail.outbox if m.to == [coordinator.email])
    assert digest.subject == "2 fiches de votre territoire à vérifier"
    orphans, followed = digest.body.split("AVEC MÉDIATEUR")
    assert "SANS MÉDIATEUR (1)" in orphans
    assert "Médiathèque sans médiateur" in orphans
    assert f"https://mediation.example/espace/structures/{orphan.pk}/modifier/" in orphans
    assert stale.name in followed
    # The other bassin is fresh: its coordinator gets nothing.
    assert not [m for m in mail.outbox if m.to == [other_coordinator.email]]

    mail.outbox.clear()
    run()
    assert mail.outbox == []  # once a month
    CoordinatorDigest.objects.update(sent_at=timezone.now() - timedelta(days=31))
    run()
    assert [m.to for m in mail.outbox] == [[coordinator.email]]


def test_places_of_a_bassin_without_coordinator_go_to_the_administrators(orphan, admin_user):
    run()
    assert [m.to for m in mail.outbox] == [[admin_user.email]]
    assert "Médiathèque sans médiateur" in mail.outbox[0].body
