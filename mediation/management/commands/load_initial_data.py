"""Load the committed fixtures into an empty database; change nothing otherwise.

`make run` calls this on every start, so it must be idempotent and must never
undo an administrator's work: each table is only filled when it is empty, and
the demo structures only when no real structure has been loaded.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from mediation.models import ServiceType, Structure
from territories import coverage
from territories.models import Commune, CommuneCoverage

FIXTURES_DIR = "fixtures"


class Command(BaseCommand):
    help = "Charge les territoires, les types de structure et, si besoin, les données de démonstration."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-demo", action="store_true", help="Ne pas charger les structures de démonstration."
        )

    @transaction.atomic
    def handle(self, *args, no_demo=False, **options):
        loaded = []
        if not Commune.objects.exists():
            call_command("loaddata", f"{FIXTURES_DIR}/territories.json", verbosity=0)
            loaded.append("territoires")
        if not ServiceType.objects.exists():
            call_command("loaddata", f"{FIXTURES_DIR}/service_types.json", verbosity=0)
            loaded.append("types de structure")
        if not no_demo and not Structure.objects.exists():
            call_command("loaddata", f"{FIXTURES_DIR}/demo_structures.json", verbosity=0)
            loaded.append("structures de démonstration")
        if loaded or not CommuneCoverage.objects.exists():
            # Fixtures load raw, without the signals that keep the figures current.
            coverage.compute()
        if loaded:
            self.stdout.write(self.style.SUCCESS(f"Chargé : {', '.join(loaded)}."))
        else:
            self.stdout.write(self.style.SUCCESS("Données déjà présentes : rien à charger."))
