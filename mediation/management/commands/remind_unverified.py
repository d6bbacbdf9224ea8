"""Remind people of listings nobody has verified nor changed for 12 months.

Run daily (cron):

- the mediators of each stale listing get an e-mail, at most once a month per
  listing;
- each coordinator gets, at most once a month, the list of the stale listings
  of their bassins, those without a mediator first (nobody else is told);
  bassins without a coordinator go to the administrators.

A listing is stale when neither its verification date nor the last change
saved by a person is within `VERIFICATION_MAX_AGE`. A mail that fails is
reported and the command goes on with the others; it then exits non-zero.
"""

from collections import defaultdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from mediation.models import (
    Coordination,
    CoordinatorDigest,
    Structure,
    User,
    VerificationReminder,
)
from mediation.space import emails

REMIND_AGAIN_AFTER = timezone.timedelta(days=30)


class Command(BaseCommand):
    help = (
        "Rappelle aux médiateurs de vérifier les fiches ni vérifiées ni modifiées depuis "
        "12 mois, et envoie à chaque coordinateur la liste mensuelle de celles de ses bassins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Affiche les rappels sans les envoyer."
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="Adresse du site pour les liens des e-mails (https://…). "
            "Par défaut : le premier nom de ALLOWED_HOSTS, en https.",
        )

    def handle(self, *args, dry_run=False, base_url="", **options):
        self.dry_run = dry_run
        self.base_url = (base_url or emails.default_base_url()).rstrip("/")
        now = timezone.now()
        stale = list(
            Structure.objects.published()
            .needing_verification(before=now - settings.VERIFICATION_MAX_AGE)
            .select_related("commune__bassin")
            .prefetch_related("memberships__user")
            .order_by("name", "pk")
        )
        self.failures = []
        sent = self.remind_mediators(stale, since=now - REMIND_AGAIN_AFTER)
        digests = self.send_digests(stale, since=now - REMIND_AGAIN_AFTER)
        verb = "seraient envoyés" if dry_run else "envoyés"
        self.stdout.write(
            self.style.SUCCESS(
                f"{sent} rappel(s) {verb}. {digests} liste(s) de coordinateur {verb}."
            )
        )
        if self.failures:
            for label in self.failures:
                self.stderr.write(f"Échec de l’envoi : {label}")
            raise CommandError(
                f"{len(self.failures)} e-mail(s) non envoyé(s) (voir ci-dessus et le journal) ; "
                "les autres sont partis."
            )

    def url(self, name, *args):
        return self.base_url + reverse(name, args=args)

    def remind_mediators(self, structures, *, since):
        recent = set(
            VerificationReminder.objects.filter(sent_at__gt=since).values_list(
                "structure_id", flat=True
            )
        )
        sent = 0
        for structure in structures:
            recipients = sorted(
                m.user.email for m in structure.memberships.all() if m.user.is_active
            )
            if not recipients or structure.pk in recent:
                continue
            if self.dry_run:
                self.stdout.write(f"{structure.name} → {', '.join(recipients)}")
                sent += 1
                continue
            delivered = emails.deliver(
                "reminder",
                to=recipients,
                context={"structure": structure, "url": self.url("space:edit", structure.pk)},
            )
            if not delivered:
                self.failures.append(f"rappel pour « {structure.name} » (n° {structure.pk})")
                continue
            VerificationReminder.objects.create(
                structure=structure, recipients=", ".join(recipients)
            )
            sent += 1
        return sent

    def send_digests(self, structures, *, since):
        """One list per coordinator: the stale listings of all their bassins."""
        coordinators = defaultdict(set)  # bassin id → users
        for coordination in Coordination.objects.filter(user__is_active=True).select_related(
            "user"
        ):
            coordinators[coordination.bassin_id].add(coordination.user)
        admins = set(User.objects.filter(is_active=True, is_staff=True))
        lists = defaultdict(list)  # user → structures
        for structure in structures:
            bassin_id = structure.commune.bassin_id if structure.commune_id else None
            for user in coordinators.get(bassin_id) or admins:
                lists[user].append(structure)
        recent = set(
            CoordinatorDigest.objects.filter(sent_at__gt=since).values_list("user_id", flat=True)
        )
        sent = 0
        for user, places in sorted(lists.items(), key=lambda item: item[0].email):
            if user.pk in recent:
                continue
            orphans = [s for s in places if not s.memberships.all()]
            followed = [s for s in places if s.memberships.all()]
            if self.dry_run:
                self.stdout.write(
                    f"Liste pour {user.email} : {len(places)} fiche(s), "
                    f"dont {len(orphans)} sans médiateur"
                )
                sent += 1
                continue
            delivered = emails.deliver(
                "coordinator_digest",
                to=[user.email],
                context={
                    "user": user,
                    "orphans": [(s, self.url("space:edit", s.pk)) for s in orphans],
                    "followed": [(s, self.url("space:edit", s.pk)) for s in followed],
                    "count": len(places),
                    "max_age_months": settings.VERIFICATION_MAX_AGE.days * 12 // 365,
                    "url": self.url("space:home"),
                },
            )
            if not delivered:
                self.failures.append(f"liste pour {user.email}")
                continue
            CoordinatorDigest.objects.create(user=user, places=len(places))
            sent += 1
        return sent
