"""Back up the database (pg_dump custom format, or SQLite's online backup)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mediation.backup import BackupError, backup


class Command(BaseCommand):
    help = "Sauvegarde la base (PostgreSQL : pg_dump --format=custom ; SQLite : copie à chaud)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="Fichier à écrire (par défaut : sauvegardes/mediation-AAAAMMJJ-HHMMSS.dump).",
        )

    def handle(self, *args, output=None, **options):
        output = output or f"sauvegardes/mediation-{timezone.now():%Y%m%d-%H%M%S}.dump"
        try:
            size = backup(output=output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {output} ({size:,} octets)."))
