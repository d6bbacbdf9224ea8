"""`python manage.py export_structures [--format csv|json] [--output FILE]`."""

from django.core.management.base import BaseCommand

from mediation import exporters


class Command(BaseCommand):
    help = (
        "Exporte les lieux publiés au format du standard national des lieux de médiation "
        f"numérique {exporters.STANDARD_VERSION} (CSV ou JSON)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("csv", "json"), default="csv", dest="file_format")
        parser.add_argument(
            "--output", "-o", metavar="FICHIER", help="Fichier à écrire (sortie standard sinon)."
        )

    def handle(self, *args, file_format="csv", output=None, **options):
        records = list(exporters.standard_records())
        if file_format == "csv":
            data = exporters.standard_csv(records).encode("utf-8")
        else:
            data = exporters.standard_json(records)
        if output:
            with open(output, "wb") as handle:
                handle.write(data)
            self.stderr.write(self.style.SUCCESS(f"{len(records)} lieux exportés dans {output}."))
        else:
            self.stdout.write(data.decode("utf-8"), ending="")
