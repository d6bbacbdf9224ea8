"""`python manage.py data_quality [--csv FICHIER|-]`: the directory's quality, per bassin."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from mediation import csvfiles, quality
from mediation.quality import Figures

CSV_HEADER = [
    "territoire",
    "lieux_publies",
    "avec_service",
    "part_avec_service",
    "avec_horaires_osm",
    "part_avec_horaires_osm",
    "avec_telephone",
    "part_avec_telephone",
    "verifies_12_mois",
    "part_verifies_12_mois",
    "doublons_probables",
    "types_a_verifier",
    "contacts_personnels_a_confirmer",
]


class Command(BaseCommand):
    help = (
        "Qualité des données publiées, par bassin de vie et pour la région : part des lieux "
        "avec un service, des horaires lisibles, un téléphone, vérifiés depuis moins de "
        "12 mois ; doublons probables et types à vérifier."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv",
            metavar="FICHIER",
            help="Écrire les chiffres en CSV dans FICHIER (« - » : sur la sortie standard).",
        )

    def handle(self, *args, csv=None, **options):
        report = quality.measure()
        if csv:
            self.write_csv(report, csv)
            if csv != "-":
                self.stdout.write(self.style.SUCCESS(f"Chiffres écrits dans {csv}."))
            return
        self.stdout.write(
            f"Qualité des données publiées, le {timezone.localtime(report.measured_at):%d/%m/%Y} "
            "(parts en % des lieux publiés)\n"
        )
        for figures in report.rows:
            self.write_text(figures)
        region = report.region
        self.stdout.write(
            self.style.SUCCESS(
                f"{region.places} lieux publiés ; {region.share('with_service'):.1f} % avec au "
                f"moins un service, {region.duplicates} doublons probables, "
                f"{region.kinds_to_check} types à vérifier."
            )
        )

    def write_text(self, figures):
        lines = [f"{figures.territory} — {figures.places} lieux publiés"]
        for attribute, label in Figures.COLUMNS:
            lines.append(
                f"  {label} : {getattr(figures, attribute)} ({figures.share(attribute):.1f} %)"
            )
        lines.append(f"  doublons probables restants : {figures.duplicates}")
        lines.append(f"  types à vérifier : {figures.kinds_to_check}")
        lines.append(f"  contacts personnels ? (à confirmer) : {figures.personal_contacts}")
        self.stdout.write("\n".join(lines) + "\n")

    def write_csv(self, report, path):
        if path == "-":
            self.write_rows(report, sys.stdout)
            return
        with open(path, "w", newline="", encoding="utf-8") as handle:
            self.write_rows(report, handle)

    def write_rows(self, report, handle):
        writer = csvfiles.Writer(handle, CSV_HEADER)
        writer.writeheader()
        for figures in report.rows:
            row = [figures.territory, figures.places]
            for attribute, _label in Figures.COLUMNS:
                row += [getattr(figures, attribute), f"{figures.share(attribute):.1f}"]
            writer.writerow(
                [*row, figures.duplicates, figures.kinds_to_check, figures.personal_contacts]
            )
