"""Recompute every commune's distance to help (normally done after each change of places)."""

import time

from django.core.management.base import BaseCommand

from territories import coverage


class Command(BaseCommand):
    help = "Recalcule la distance de chaque commune au lieu de médiation numérique le plus proche."

    def add_arguments(self, parser):
        parser.add_argument(
            "--region", action="store_true", help="Affiche ensuite les chiffres de la région."
        )

    def handle(self, *args, region=False, **options):
        started = time.perf_counter()
        count = coverage.compute()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Couverture recalculée pour {count} communes en {elapsed:.2f} s.")
        )
        if region:
            portrait = coverage.portrait()
            self.stdout.write(coverage.lead_sentence(portrait))
            for share in portrait.shares.values():
                figures = ", ".join(
                    f"{km} km : {share.percent(km)} %" for km in coverage.THRESHOLDS_KM
                )
                self.stdout.write(f"  {share.label} — {figures}")
            self.stdout.write("Zones blanches les plus peuplées (plus de 10 km d’un lieu) :")
            largest = sorted(portrait.zones_blanches, key=lambda c: -(c.commune.population or 0))[
                :5
            ]
            for c in largest:
                self.stdout.write(
                    f"  {c.commune.name} ({c.commune_id}) : {c.commune.population} habitants, "
                    f"{c.nearest_km} km"
                )
