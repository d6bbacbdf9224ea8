"""`python manage.py import_structures FILE [--format …] [--dry-run] [--replace-demo] [--report FILE]`."""

from django.core.management.base import BaseCommand, CommandError

from mediation.importers import FORMATS, DemoWorkError, ImportFileError, Outcome, run_import


class Command(BaseCommand):
    help = (
        "Importe des lieux : recensement régional (Hub-LO, JSON), standard national 1.0.x "
        "(CSV ou JSON) ou sa version 0.x. Le format est détecté s’il n’est pas indiqué. "
        "Les structures de démonstration sont supprimées dès qu’un lieu est importé ; si des "
        "personnes y ont travaillé (médiateurs, modifications, signalements), l’import est "
        "refusé et dit ce qui serait perdu, sauf avec --replace-demo."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier à importer (.json ou .csv).")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            dest="file_format",
            help="Format du fichier (détecté sinon).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Tout vérifier sans rien enregistrer."
        )
        parser.add_argument(
            "--geocode",
            action="store_true",
            help="Situer les lieux sans position d’après leur adresse (Base Adresse Nationale).",
        )
        parser.add_argument(
            "--replace-demo",
            action="store_true",
            help="Supprimer les structures de démonstration même si des personnes y ont "
            "travaillé (médiateurs, modifications, signalements).",
        )
        parser.add_argument(
            "--source",
            default="",
            help="Qui a collecté les données, pour les lignes dont la colonne « source » est "
            "vide (sans elle, un tel fichier est refusé).",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Remplacer aussi les valeurs que des personnes ont modifiées depuis le dernier "
            "import (sinon elles sont gardées et signalées comme conflits).",
        )
        parser.add_argument(
            "--report", metavar="FICHIER", help="Écrire le rapport ligne à ligne en CSV."
        )

    def handle(
        self,
        *args,
        file,
        file_format=None,
        dry_run=False,
        geocode=False,
        replace_demo=False,
        source="",
        overwrite=False,
        report=None,
        **options,
    ):
        try:
            result = run_import(
                file,
                file_format=file_format,
                dry_run=dry_run,
                geocode=geocode,
                replace_demo=replace_demo,
                source=source,
                overwrite=overwrite,
            )
        except DemoWorkError as error:
            for line in error.lost:
                self.stderr.write(f"  {line}")
            raise CommandError(
                f"Import refusé : {len(error.lost)} structures de démonstration portent le "
                "travail de personnes (ci-dessus), qu’un import supprimerait. Relancez avec "
                "--replace-demo pour les supprimer quand même."
            ) from error
        except ImportFileError as error:
            raise CommandError(f"Fichier refusé : {error}") from error
        verbose = options["verbosity"] > 1
        for row in result.results:
            if row.outcome == Outcome.REJECTED or row.conflicts or (verbose and row.messages):
                style = self.style.ERROR if row.outcome == Outcome.REJECTED else self.style.WARNING
                details = " ; ".join(row.messages)
                self.stdout.write(
                    style(f"ligne {row.line} « {row.name} » : {row.outcome} — {details}")
                )
        if report:
            result.write_csv(report)
            self.stdout.write(f"Rapport détaillé : {report}")
        prefix = "Simulation (rien n’est enregistré) — " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + result.summary() + "."))
        if result.demo_removed:
            verb = "seraient supprimées" if dry_run else "supprimées"
            self.stdout.write(f"{result.demo_removed} structures de démonstration {verb}.")
        if not result.accepted:
            raise CommandError("Aucun lieu n’a pu être importé.")
