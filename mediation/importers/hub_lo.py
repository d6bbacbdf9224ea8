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
- `c_acces_pmr` oui/non → wheelchair access; `c_materiel_info` → the service
  "Accès internet et matériel informatique" and the equipment note;
  `c_accompagnement_personnel`/`c_formation` → support modes, their details
  → the detailed presentation;
- `c_siren_site` → pivot (SIREN); `c_raison_sociale` → parent structure;
  `c_statut_juridique` "Associatif" → typologie ASSO;
- `c__edit_datemaj` → date of the information (`date_maj` of the export);
- `c_bassin_de_vie` is checked against the commune's bassin (report only).

Ignored because they repeat other columns or are the tool's bookkeeping:
`c_gid`, `c_etiquettes`, `c_sans_etiquette`, `c_b_*`, `c_arr_*`, `c_validation`,
`c__userid_modification`, `c_initial_agent`, `c_epci` (derived from the
commune).
"""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from mediation import choices
from mediation.importers import hours, values
from mediation.importers.base import RowData, RowError, note_line
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
DEFAULT_KIND = "espace-public-numerique"
KIND_TYPOLOGIE = {
    "mediatheque": "BIB",
    "coworking": "TIERS_LIEUX",
    "fablab-makerspace": "TIERS_LIEUX",
}
STATUT_TYPOLOGIE = {"associatif": "ASSO"}

# Free-text public → the standard's closed list (only when the text names a
# specific public; "tout public" names none).
PUBLIC_WORDS = (
    ("jeune", choices.Public.JEUNES),
    ("etudiant", choices.Public.ETUDIANTS),
    ("senior", choices.Public.SENIORS),
    ("famille", choices.Public.FAMILLES),
    ("parent", choices.Public.FAMILLES),
)

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
        latitude=_float(record.get("c_lat_coor1")),
        longitude=_float(record.get("c_long_coor1")),
    )

    # Kinds and typologie.
    categories = array_literal(record.get("c_categories_espace"))
    kinds = {CATEGORY_KINDS[c] for c in categories if c in CATEGORY_KINDS}
    kinds |= {kind for column, kind in FLAG_KINDS.items() if get(column) == "True"}
    typologie = []
    if "Mairie" in categories or get("c_mairie") == "True":
        typologie.append("COMMUNE")
    if "autres" in categories:
        notes.append(note_line("Catégorie du recensement", "autres"))
    for kind in sorted(kinds):
        if kind in KIND_TYPOLOGIE and KIND_TYPOLOGIE[kind] not in typologie:
            typologie.append(KIND_TYPOLOGIE[kind])
    if not kinds:
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
    services, support_modes = [], []
    if _yes(record.get("c_materiel_info")):
        services.append(choices.Service.ACCES_MATERIEL.value)
    if _yes(record.get("c_accompagnement_personnel")):
        support_modes.append(choices.ModaliteAccompagnement.INDIVIDUEL.value)
    if _yes(record.get("c_formation")):
        support_modes.append(choices.ModaliteAccompagnement.ATELIER.value)
    fields["services"] = services
    fields["support_modes"] = support_modes
    fields["equipment_note"] = get("c_materiel_info_detail")
    description = []
    for column, label in (
        ("c_accompagnement_personnel_detail", "Accompagnement"),
        ("c_formation_detail", "Ateliers et formations"),
    ):
        if get(column):
            description.append(f"{label} : {get(column)}")
    fields["description"] = "\n\n".join(description)
    publics = []
    public_free = get("c_varchar_public_cible")
    normalized = normalize_search(public_free)
    if normalized and not re.search(r"\btou[st]\b|grand public", normalized):
        for word, public in PUBLIC_WORDS:
            if word in normalized and public.value not in publics:
                publics.append(public.value)
    fields["publics"] = publics
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
    fields["verified_at"] = _edit_date(record.get("c__edit_datemaj"))

    for column, label in NOTE_COLUMNS.items():
        text = get(column)
        if text and not (column == "c_espace_teletravail" and text.lower() == "non"):
            notes.append(note_line(label, text))
    return row


def _float(value):
    try:
        return float(value) if values.text(value) else None
    except (TypeError, ValueError):
        return None
