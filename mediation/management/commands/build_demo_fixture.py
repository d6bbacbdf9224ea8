"""Write fixtures/demo_structures.json: 293 fictitious structures shaped like the census."""

import csv
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mediation.demo import build_demo_fixture, load_commune_facts, with_commune_facts

COMMUNES = Path("territories") / "communes_bassins.csv"
CENSUS = Path("hub-lo") / "hub-lo.json"


class Command(BaseCommand):
    help = (
        "Construit le jeu de démonstration (293 structures fictives réparties comme le "
        "recensement régional) et l’écrit dans une fixture JSON stable."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            type=Path,
            default=settings.BASE_DIR.parent / "shared" / "data",
            help="Dossier des données de référence (contient territories/ et hub-lo/).",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=settings.BASE_DIR / "fixtures" / "demo_structures.json",
            help="Fichier JSON à écrire.",
        )
        parser.add_argument("--seed", type=int, default=2023, help="Graine du tirage.")

    def handle(self, *args, source, output, seed, **options):
        missing = [
            str(source / path) for path in (COMMUNES, CENSUS) if not (source / path).is_file()
        ]
        if missing:
            raise CommandError(
                "Données de référence introuvables : " + ", ".join(missing) + ". "
                "Indiquez le dossier avec --source."
            )
        with (source / COMMUNES).open(encoding="utf-8", newline="") as handle:
            communes = list(csv.DictReader(handle))
        census = json.loads((source / CENSUS).read_text(encoding="utf-8"))
        try:
            facts = load_commune_facts(
                territories_fixture=settings.BASE_DIR / "fixtures" / "territories.json"
            )
        except LookupError as error:
            raise CommandError(str(error)) from error

        try:
            objects = build_demo_fixture(
                communes=with_commune_facts(communes, facts), census=census, seed=seed
            )
        except ValueError as error:
            raise CommandError(f"Jeu de démonstration incohérent : {error}") from error

        text = json.dumps(objects, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        structures = sum(obj["model"] == "mediation.structure" for obj in objects)
        self.stdout.write(
            self.style.SUCCESS(
                f"{structures} structures de démonstration et {len(objects) - structures} "
                f"étapes itinérantes écrites dans {output}."
            )
        )
