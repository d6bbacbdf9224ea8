"""`python manage.py export_structures [--format csv|json] [--output FILE] [--colonnes-regionales]`."""

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
        parser.add_argument(
            "--colonnes-regionales",
            action="store_true",
            dest="regional",
            help="Ajoute après les 32 colonnes du standard celles de l’annuaire (dont verifie_le "
            "et modifie_le) : le fichier n’est alors plus strictement au schéma du standard.",
        )

    def handle(self, *args, file_format="csv", output=None, regional=False, **options):
        # Written piece by piece: memory stays the same whatever the number of places.
        count = 0

        def counted(records):
            nonlocal count
            for record in records:
                count += 1
                yield record

        records = counted(exporters.standard_records(regional=regional))
        columns = exporters.WITH_REGIONAL_FIELDS if regional else exporters.STANDARD_FIELDS
        if file_format == "csv":
            chunks = (
                text.encode("utf-8")
                for text in exporters.standard_csv_chunks(records, columns=columns)
            )
        else:
            chunks = exporters.standard_json_chunks(records, columns=columns)
        if output:
            with open(output, "wb") as handle:
                handle.writelines(chunks)
            self.stderr.write(self.style.SUCCESS(f"{count} lieux exportés dans {output}."))
        else:
            for chunk in chunks:
                self.stdout.write(chunk.decode("utf-8"), ending="")
