"""The regional census (Hub-LO export, `c_*` fields) → structures.

How a census row becomes a Structure, column by column:

- `c_nom`, `c_adresse`, `c_postcode` (an integer: zero-padded), `c_city`,
  `c_lat_coor1`/`c_long_coor1` → name, address, postal code, city, position;
- `c_categories_espace` (a PostgreSQL array literal, `{EPN,"Promeneur du net"}`)
  and the same flags again in `c_epn`, `c_msap`… → the 7 kinds; "Mairie" becomes
  the typologie COMMUNE, "autres" is kept in the note; a row with no kind left
  counts as an EPN (as in the demo data) and the report says so;
- `c_telephone`/`c_mobile` → phone in +33 form (the other number in the note);
- `c_courriel` (and e-mails found by mistake in `c_statut_juridique`) → e-mails;
- `c_contacts` (people's addresses) → the note only, never published;
- `c_jours_semaine`, `c_horaire_ouverture`, `c_heure_debut_matin`… (and hours
  typed in `c_public_cible`) → OpenStreetMap hours, see `hours.census_hours()`;
  what is not converted, and `c_autres_horaires`, stays as text;
- `c_acces_pmr` oui/non → wheelchair access;
- the offer (services, publics, support modes, national programmes): see
  "The offer" below and its tables;
- `c_siren_site` → pivot (SIREN); `c_raison_sociale` → parent structure;
  `c_statut_juridique` "Associatif" → typologie ASSO;
- `c__edit_datemaj` → date of the information (`date_maj` of the export);
- `c_bassin_de_vie` is checked against the commune's bassin (report only).

Kinds come from the census's own categories (`c_categories_espace`). The
tags (`c_etiquettes`, repeated as the flags `c_epn`…) disagree with them in 95
rows ("ARTS ET LOISIRS MONTILOIS": category Club-info, tag EPN): the category
wins, the report says so; the tags are only used when the categories name no
kind (only "Mairie" or "autres"). A name that implies another kind ("MSAP
X" without the MSAP category) is reported as "type à vérifier" by the runner,
for every format (`mediation/kind_check.py`).

The offer. The census says little in the standard's words, so each value is
either *stated* (a column says it in other words: `c_materiel_info` oui →
"Accès internet et matériel informatique") or *deduced* (implied by the kind's
label or read in a free text). A deduced value is stored like the others, so
the search finds it ("?service=demarches" lists the France Services), and also
in `Structure.deduced` with its provenance (`{field: [{value, source}]}`):
- the public page shows it marked "à confirmer";
- the mediator's edit form shows "déduit de … — à confirmer" beside it until
  they save the form with it (confirmed) or without it (removed);
- the export and the API's standard fields only carry stated or confirmed
  values (`Structure.stated_values`); the API adds `valeurs_deduites`.
The tables: `STATED` (column oui → value), `KIND_OFFER` (kind → values its
label requires, and why), `TEXT_SERVICES` (words of the `_detail` texts →
services), `TRAINING_DEFAULT` (what "formation : oui" or "accompagnement
personnel : oui" with no telling text implies).

Ignored because they repeat other columns or are the tool's bookkeeping:
`c_gid`, `c_sans_etiquette`, `c_b_*`, `c_arr_*`, `c_validation`,
`c__userid_modification`, `c_initial_agent`, `c_epci` (derived from the
commune).
"""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from mediation import choices, exporters
from mediation.importers import hours, readable, values
from mediation.importers.base import RowData, RowError, note_line, set_coordinates
from territories.models import BassinDeVie, normalize_search

NAME = "hub-lo"
SOURCE = "Recensement régional (Hub-LO)"
REQUIRED_COLUMNS = ("gid", "c_nom", "c_adresse", "c_postcode", "c_city")

PARIS = ZoneInfo("Europe/Paris")

CATEGORY_KINDS = {
    "EPN": "espace-public-numerique",
    "Médiathèque": "mediatheque",
    "MSAP": "france-services",
    "Club-info": "club-informatique",
    "Coworking": "coworking",
    "Promeneur du net": "promeneur-du-net",
    "Fablab": "fablab-makerspace",
}
FLAG_KINDS = {
    "c_epn": "espace-public-numerique",
    "c_mediatheque": "mediatheque",
    "c_msap": "france-services",
    "c_club_info": "club-informatique",
    "c_coworking": "coworking",
    "c_promeneur": "promeneur-du-net",
    "c_fablab": "fablab-makerspace",
}
# The tags (`c_etiquettes`), used only when a row has no category.
TAG_KINDS = {
    "epn": "espace-public-numerique",
    "mediatheque": "mediatheque",
    "msap": "france-services",
    "club info": "club-informatique",
    "coworking": "coworking",
    "promeneur du net": "promeneur-du-net",
    "pdn": "promeneur-du-net",
    "fablab": "fablab-makerspace",
}
DEFAULT_KIND = "espace-public-numerique"
STATUT_TYPOLOGIE = {"associatif": "ASSO"}

# Free-text public → the standard's closed list (only when the text names a
# specific public; "tout public" names none). Patterns over normalised text.
PUBLIC_WORDS = (
    (r"jeune|\b1[2-8] ?(a )?(25|30) ans", choices.Public.JEUNES),
    (r"etudiant", choices.Public.ETUDIANTS),
    (r"senior|retraite", choices.Public.SENIORS),
    (r"famille|parent|enfant", choices.Public.FAMILLES),
)

Service = choices.Service
Mode = choices.ModaliteAccompagnement

# Stated: a column answered "oui" says this value in other words.
STATED = {
    "c_materiel_info": [("services", Service.ACCES_MATERIEL)],
    "c_accompagnement_personnel": [("support_modes", Mode.INDIVIDUEL)],
}

# Deduced from a kind: what its label requires or what defines it, and why.
# (field, value, why) — `why` is what the mediator reads after "déduit de".
KIND_OFFER = {
    # The France Services charter requires help with administrative procedures
    # (ANTS, CAF, impôts…), a computer with internet for visitors' own use and
    # trained agents who help one person at a time. (The programme "France
    # Services" follows from the kind itself, see `exporters.KIND_DISPOSITIF`.)
    "france-services": [
        ("services", Service.DEMARCHES),
        ("services", Service.ACCES_MATERIEL),
        ("support_modes", Mode.INDIVIDUEL),
    ],
    # An Espace Public Numérique is by definition a public place giving access
    # to computers and the internet.
    "espace-public-numerique": [("services", Service.ACCES_MATERIEL)],
    # Listed in a census of digital mediation for its public computers.
    "mediatheque": [("services", Service.ACCES_MATERIEL)],
    # A coworking space rents desks with an internet connection.
    "coworking": [("services", Service.ACCES_MATERIEL)],
    # A computer club teaches its members to use computers.
    "club-informatique": [("services", Service.OUTILS_QUOTIDIEN)],
    # A FabLab lends digital fabrication machines for personal projects.
    "fablab-makerspace": [
        ("services", Service.LOISIRS),
        ("services", Service.ACCES_MATERIEL),
    ],
    # Promeneurs du Net are youth workers present online for 12-25-year-olds,
    # about their uses and the risks of the internet. The public is only
    # deduced when that is the place's only kind: a France Services that is
    # also a Promeneur du Net still welcomes everyone.
    "promeneur-du-net": [
        ("services", Service.SECURITE),
        ("publics", choices.Public.JEUNES),
        ("support_modes", Mode.DISTANCE),
    ],
}

# Deduced from the words of the `_detail` texts (normalised: no accents or case).
TEXT_SERVICES = (
    (
        r"demarche|administrati|services? publics?|acces aux droits|droits sociaux|\bcaf\b"
        r"|impots|ameli|pole emploi|france services?",
        Service.DEMARCHES,
    ),
    (r"emploi|\bcv\b|lettres? de motivation|insertion", Service.INSERTION_PRO),
    (r"parentalite|aide aux devoirs", Service.PARENTALITE),
    (r"securite|fake news|prevention|harcelement|arnaque", Service.SECURITE),
    (
        r"\b3d\b|photo|video|montage|musique|\bmao\b|creatif|creation|coding|codage"
        r"|programmation|scratch|robotique|jeux? video",
        Service.LOISIRS,
    ),
    (r"culture numerique|reseaux sociaux|education aux medias", Service.COMPREHENSION),
    (
        r"bureautique|traitement de texte|tableur|mails?\b|messagerie|internet|tablette"
        r"|smartphone|ordinateur|informatique|initiation|debutant|\bbases?\b|windows"
        r"|clavier|souris|outils? numerique",
        Service.OUTILS_QUOTIDIEN,
    ),
)
# ("démarches en ligne" are procedures done online, not help given remotely.)
TEXT_MODES = ((r"a distance|visio", Mode.DISTANCE),)
# A detail text that says there is none ("Pas d'accompagnement").
NEGATIVE_TEXT = re.compile(r"^(pas|aucun|non)\b")

# "formation : oui" (and "accompagnement personnel : oui") in a census of
# digital mediation means help with digital tools: when the detail text names
# no service, that is the service deduced (for "accompagnement", only when the
# kind names no help either). "formation" also implies workshops.
TRAINING_DEFAULT = Service.OUTILS_QUOTIDIEN

# Free-text columns kept in the note, with a French label.
NOTE_COLUMNS = {
    "c_contacts": "Contacts",
    "c_espace_teletravail": "Espace de télétravail",
    "c_accompagnement_teletravail": "Télétravail (précisions)",
    "c_premier_financeur": "Premier financeur",
    "c_second_financeur": "Second financeur",
    "c_financeur_secondaires": "Financeurs secondaires",
    "c_photo": "Photo (fichier non repris)",
}


def array_literal(value):
    """`{EPN,"Promeneur du net"}` → ["EPN", "Promeneur du net"]."""
    inner = values.text(value).strip().removeprefix("{").removesuffix("}")
    if not inner:
        return []
    return [item.strip() for item in next(csv.reader(io.StringIO(inner))) if item.strip()]


def resolve_bassin(name):
    """The BassinDeVie named `name` in the census (accents and case ignored), or None."""
    wanted = normalize_search(name)
    if not wanted:
        return None
    for bassin in BassinDeVie.objects.only("pk", "name"):
        if normalize_search(bassin.name) == wanted:
            return bassin
    return None


def _yes(value):
    return values.text(value).lower() == "oui"


def _edit_date(value):
    value = values.text(value)
    if not value:
        return None
    try:
        return datetime.strptime(value[:19], "%Y/%m/%d %H:%M:%S").replace(tzinfo=PARIS)
    except ValueError:
        return None


def to_row(record, line):
    """Map one census row (dict) to a `RowData`."""
    get = lambda column: values.text(record.get(column))  # noqa: E731
    gid = get("gid") or get("c_gid")
    if not gid:
        raise RowError("Identifiant « gid » manquant.")
    name = get("c_nom")
    if not name:
        raise RowError("Nom du lieu (« c_nom ») manquant.")
    address = get("c_adresse")
    if not address:
        raise RowError("Adresse (« c_adresse ») manquante.")
    postal_code = values.postal_code(record.get("c_postcode"))
    if not postal_code:
        raise RowError(f"Code postal invalide : « {get('c_postcode')} ».")

    row = RowData(
        line=line,
        source=SOURCE,
        source_id=gid,
        uid=f"hub-lo-{gid}",
        fields={},
        bassin_name=get("c_bassin_de_vie"),
    )
    fields = row.fields
    notes = row.notes
    fields.update(
        name=name,
        address=address,
        postal_code=postal_code,
        city=get("c_city"),
        code_insee="",
        source=SOURCE,
    )
    set_coordinates(row, record.get("c_lat_coor1"), record.get("c_long_coor1"))
    readable.tidy(row)

    # Kinds and typologie.
    categories = array_literal(record.get("c_categories_espace"))
    kinds = _kinds(record, categories, row)
    typologie = []
    if "Mairie" in categories or get("c_mairie") == "True":
        typologie.append("COMMUNE")
    if "autres" in categories:
        notes.append(note_line("Catégorie du recensement", "autres"))
    typologie = exporters.with_kind_codes(typologie, sorted(kinds), exporters.KIND_TYPOLOGIE)
    defaulted = not kinds
    if defaulted:
        kinds = {DEFAULT_KIND}
        row.remarks.append("aucun type de lieu dans le recensement : compté comme EPN")
    row.kinds = sorted(kinds)

    statut = get("c_statut_juridique")
    found_emails = values.emails(statut)
    if found_emails:
        row.remarks.append("e-mail trouvé dans « statut juridique », repris dans les courriels")
    elif statut:
        code = STATUT_TYPOLOGIE.get(statut.lower())
        if code and code not in typologie:
            typologie.append(code)
        elif not code:
            notes.append(note_line("Statut juridique", statut))
    fields["typologie"] = typologie

    # Contact.
    phones = []
    for column in ("c_telephone", "c_mobile"):
        raw = get(column)
        if not raw:
            continue
        clean = values.phone(raw)
        if clean:
            phones.append(clean)
        else:
            notes.append(note_line("Téléphone", raw))
            row.remarks.append(f"téléphone non reconnu, gardé en note : « {raw} »")
    fields["phone"] = phones[0] if phones else ""
    for other in phones[1:]:
        if other != fields["phone"]:
            notes.append(note_line("Autre téléphone", other))
    courriel = get("c_courriel")
    fields["emails"] = values.emails(courriel) + [
        e for e in found_emails if e not in values.emails(courriel)
    ]
    if courriel and not values.emails(courriel):
        notes.append(note_line("Courriel", courriel))
    site = get("c_site_web")
    fields["websites"] = [values.url(site)] if values.url(site) else []
    if site and not fields["websites"]:
        notes.append(note_line("Site web", site))

    # Hours.
    converted, remark = hours.census_hours(get)
    fields["opening_hours"] = converted.opening_hours
    fields["opening_hours_note"] = converted.note
    if remark:
        row.remarks.append(remark)
    public_text = get("c_public_cible")
    if hours.looks_like_hours(public_text):
        public_text = ""  # hours typed in the wrong column: handled above

    # Offer.
    offer = Offer()
    _offer(record, categories, row.kinds, defaulted, offer)
    fields["equipment_note"] = get("c_materiel_info_detail")
    description = []
    for column, label in (
        ("c_accompagnement_personnel_detail", "Accompagnement"),
        ("c_formation_detail", "Ateliers et formations"),
    ):
        if get(column):
            description.append(f"{label} : {get(column)}")
    fields["description"] = "\n\n".join(description)
    public_free = get("c_varchar_public_cible")
    normalized = normalize_search(public_free)
    if normalized and not re.search(r"\btou[st]\b|grand public", normalized):
        for pattern, public in PUBLIC_WORDS:
            if re.search(pattern, normalized):
                offer.state("publics", public)
    fields.update(offer.fields())
    for label, text in (("Public visé", public_free), ("Public cible", public_text)):
        if text:
            notes.append(note_line(label, text))

    pmr = get("c_acces_pmr").lower()
    fields["wheelchair_accessible"] = {"oui": True, "non": False}.get(pmr)

    # Identity and provenance.
    fields["pivot"] = values.siren_or_siret(record.get("c_siren_site"))
    parent = get("c_raison_sociale")
    fields["parent_structure"] = (
        parent if normalize_search(parent) != normalize_search(name) else ""
    )
    fields["information_updated_at"] = _edit_date(record.get("c__edit_datemaj"))

    for column, label in NOTE_COLUMNS.items():
        text = get(column)
        if text and not (column == "c_espace_teletravail" and text.lower() == "non"):
            notes.append(note_line(label, text))
    return row


KIND_NAMES = {
    "espace-public-numerique": "Espace Public Numérique",
    "mediatheque": "Médiathèque",
    "france-services": "France Services",
    "club-informatique": "Club informatique",
    "coworking": "Espace de coworking",
    "promeneur-du-net": "Promeneur du Net",
    "fablab-makerspace": "FabLab",
}
COLUMN_NAMES = {
    "c_materiel_info": "« matériel informatique : oui »",
    "c_accompagnement_personnel": "« accompagnement personnel : oui »",
    "c_formation": "« formation : oui »",
    "c_espace_teletravail": "« espace de télétravail : oui »",
    "c_accompagnement_personnel_detail": "la précision sur l’accompagnement",
    "c_formation_detail": "la précision sur les formations",
}


def _kinds(record, categories, row):
    """Kinds from the census's categories; its tags only when it has none (see above)."""
    from_categories = {CATEGORY_KINDS[c] for c in categories if c in CATEGORY_KINDS}
    from_tags = {kind for column, kind in FLAG_KINDS.items() if record.get(column) == "True"}
    for tag in values.text(record.get("c_etiquettes")).split(","):
        if normalize_search(tag) in TAG_KINDS:
            from_tags.add(TAG_KINDS[normalize_search(tag)])
    if not from_categories:  # none, or only "Mairie"/"autres"
        return from_tags
    if from_tags and from_tags != from_categories:
        row.remarks.append(
            "étiquettes du recensement ("
            + ", ".join(sorted(KIND_NAMES[k] for k in from_tags))
            + ") différentes de ses catégories : catégories retenues"
        )
    return from_categories


class Offer:
    """Values of the offer's fields, each stated or deduced (with its provenance)."""

    FIELDS = ("services", "publics", "support_modes", "national_programmes")

    def __init__(self):
        self.values = {name: [] for name in self.FIELDS}
        self.sources = {name: {} for name in self.FIELDS}  # value → why, while deduced

    def state(self, field_name, value):
        value = str(value)
        if value not in self.values[field_name]:
            self.values[field_name].append(value)
        self.sources[field_name].pop(value, None)  # stated wins over deduced

    def deduce(self, field_name, value, source):
        value = str(value)
        if value in self.values[field_name]:
            return
        self.values[field_name].append(value)
        self.sources[field_name][value] = source

    def fields(self):
        fields = {name: self.values[name] for name in self.FIELDS}
        fields["deduced"] = {
            name: [{"value": v, "source": why} for v, why in self.sources[name].items()]
            for name in self.FIELDS
            if self.sources[name]
        }
        return fields


def _offer(record, categories, kinds, defaulted, offer):
    """Fill `offer` from the census row: stated columns, kinds' labels, free texts."""
    get = lambda column: values.text(record.get(column))  # noqa: E731
    for column, stated in STATED.items():
        if _yes(record.get(column)):
            for field_name, value in stated:
                offer.state(field_name, value)
    if "Promeneur du net" in categories:
        offer.state("national_programmes", choices.Dispositif.PROMENEURS)
    for slug in kinds:
        label = KIND_NAMES.get(slug, slug)
        source = f"type « {label} » attribué par défaut" if defaulted else f"type « {label} »"
        for field_name, value in KIND_OFFER.get(slug, ()):
            if field_name == "publics" and len(kinds) > 1:
                continue
            offer.deduce(field_name, value, source)
    for column, yes_column in (
        ("c_accompagnement_personnel_detail", "c_accompagnement_personnel"),
        ("c_formation_detail", "c_formation"),
    ):
        text = normalize_search(get(column))
        found = False
        if text and not NEGATIVE_TEXT.match(text):
            for pattern, service in TEXT_SERVICES:
                if re.search(pattern, text):
                    offer.deduce("services", service, COLUMN_NAMES[column])
                    found = True
            for pattern, mode in TEXT_MODES:
                if re.search(pattern, text):
                    offer.deduce("support_modes", mode, COLUMN_NAMES[column])
        # "accompagnement : oui" alone adds nothing to a place whose kind
        # already says what the help is about (France Services: procedures).
        helps = set(offer.values["services"]) - {Service.ACCES_MATERIEL.value}
        if (
            _yes(record.get(yes_column))
            and not found
            and (column == "c_formation_detail" or not helps)
        ):
            offer.deduce("services", TRAINING_DEFAULT, COLUMN_NAMES[yes_column])
    if _yes(record.get("c_formation")):
        offer.deduce("support_modes", Mode.ATELIER, COLUMN_NAMES["c_formation"])
    if _yes(record.get("c_materiel_info")):
        offer.deduce("support_modes", Mode.AUTONOMIE, COLUMN_NAMES["c_materiel_info"])
    if _yes(record.get("c_espace_teletravail")):
        offer.deduce("services", Service.ACCES_MATERIEL, COLUMN_NAMES["c_espace_teletravail"])
