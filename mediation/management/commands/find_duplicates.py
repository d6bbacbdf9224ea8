"""List the published places that probably appear twice (see mediation/duplicates.py)."""

from django.core.management.base import BaseCommand

from mediation import csvfiles
from mediation.duplicates import probable_duplicates


class Command(BaseCommand):
    help = "Liste les doublons probables parmi les lieux publiés (même commune, même adresse…)."

    def add_arguments(self, parser):
        parser.add_argument("--csv", metavar="FICHIER", help="Écrit aussi la liste en CSV.")

    def handle(self, *args, **options):
        path = options["csv"]
        pairs = probable_duplicates()
        for pair in pairs:
            self.stdout.write(
                f"« {pair.first.name} » ({pair.first.source or '?'}) et "
                f"« {pair.second.name} » ({pair.second.source or '?'}), "
                f"{pair.first.commune.name} : {' ; '.join(pair.reasons)}"
            )
        if path:
            self.write_csv(path, pairs)
        across = sum(not pair.same_source for pair in pairs)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(pairs)} doublon(s) probable(s), dont {across} entre deux sources."
            )
        )

    def write_csv(self, path, pairs):
        csvfiles.write_file(
            path,
            ["id_1", "nom_1", "source_1", "id_2", "nom_2", "source_2", "commune", "raisons"],
            (
                [
                    pair.first.uid,
                    pair.first.name,
                    pair.first.source,
                    pair.second.uid,
                    pair.second.name,
                    pair.second.source,
                    pair.first.commune.name,
                    " ; ".join(pair.reasons),
                ]
                for pair in pairs
            ),
        )
