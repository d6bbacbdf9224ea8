"""Enforce the retention periods of personal data (mediation/privacy.py).

Run daily (cron). `--dry-run` counts what would go without touching anything.
"""

from django.core.management.base import BaseCommand

from mediation import privacy


class Command(BaseCommand):
    help = (
        "Supprime les données personnelles dont la durée de conservation est passée "
        "(journaux de connexion, sessions expirées, e-mails des signalements traités…)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Compter seulement, sans rien effacer."
        )

    def handle(self, *, dry_run, **options):
        verb = "à purger" if dry_run else "purgé(s)"
        total = 0
        for label, rows in privacy.purge(dry_run=dry_run):
            total += rows
            self.stdout.write(f"{label} : {rows} {verb}")
        summary = f"{total} élément(s) {verb}."
        self.stdout.write(self.style.SUCCESS(summary + (" (essai à blanc)" if dry_run else "")))
