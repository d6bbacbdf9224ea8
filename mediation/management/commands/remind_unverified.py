"""E-mail the mediators of listings nobody has verified for 12 months.

Run daily (cron): a structure is reminded at most once a month.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mediation.models import Structure, VerificationReminder
from mediation.space import emails

REMIND_AGAIN_AFTER = 30  # days


class Command(BaseCommand):
    help = "Rappelle aux médiateurs de vérifier les fiches non vérifiées depuis 12 mois."

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
        now = timezone.now()
        base_url = (base_url or self.default_base_url()).rstrip("/")
        stale = now - settings.VERIFICATION_MAX_AGE
        recently = now - timezone.timedelta(days=REMIND_AGAIN_AFTER)
        structures = (
            Structure.objects.published()
            .filter(Q(verified_at__lt=stale) | Q(verified_at__isnull=True, created_at__lt=stale))
            .filter(memberships__isnull=False)
            .exclude(verification_reminders__sent_at__gt=recently)
            .distinct()
            .order_by("name")
        )
        sent = 0
        for structure in structures:
            recipients = emails.mediators_of(structure)
            if not recipients:
                continue
            if dry_run:
                self.stdout.write(f"{structure.name} → {', '.join(recipients)}")
                sent += 1
                continue
            emails.send(
                "reminder",
                to=recipients,
                context={
                    "structure": structure,
                    "url": base_url + reverse("space:edit", args=[structure.pk]),
                },
            )
            VerificationReminder.objects.create(
                structure=structure, recipients=", ".join(recipients)
            )
            sent += 1
        verb = "seraient envoyés" if dry_run else "envoyés"
        self.stdout.write(self.style.SUCCESS(f"{sent} rappel(s) {verb}."))

    def default_base_url(self):
        hosts = [host for host in settings.ALLOWED_HOSTS if host not in {"*", ""}]
        host = hosts[0].lstrip(".") if hosts else "localhost:8000"
        scheme = "http" if settings.DEBUG else "https"
        return f"{scheme}://{host}"
