"""The national data standard of "lieux de médiation numérique": 1.0.x and 0.x.

1.0.x (current, 32 columns, "|" between values) is read column by column into
the model. The earlier 0.x shape, still found in published exports (e.g. the
"conseillers numériques" export of January 2023), has other column names
(`courriel`, `publics_accueillis`, `conditions_acces` — sometimes misspelt
`conditions_access` —, `labels_nationaux`, `labels_autres`, `accessibilite`,
`cle_ban`), ";" between values and 15 older service names: each old value is
mapped to its 1.0 equivalent below; what has none is kept in the import note.
"""

import re
from datetime import UTC, date, datetime, time

from mediation import choices, standard
from mediation.exporters import SCHEMA_LABEL_SPELLING
from mediation.importers import readable, values
from mediation.importers.base import RowData, RowError, note_line, set_coordinates
from mediation.importers.hours import from_osm_or_text
from territories.models import normalize_search

NAME = "standard"
LEGACY_NAME = "standard-0.x"
REQUIRED_COLUMNS = standard.REQUIRED

# Columns that exist only in the 0.x shape.
LEGACY_COLUMNS = {
    "courriel",
    "publics_accueillis",
    "conditions_acces",
    "conditions_access",
    "labels_nationaux",
    "labels_autres",
    "accessibilite",
    "cle_ban",
}

S = choices.Service
# 0.x service → 1.0 service (the national cartography's own correspondence).
LEGACY_SERVICES = {
    "Devenir autonome dans les démarches administratives": S.DEMARCHES,
    "Réaliser des démarches administratives avec un accompagnement": S.DEMARCHES,
    "Accompagner les démarches de santé": S.DEMARCHES,
    "Prendre en main un smartphone ou une tablette": S.OUTILS_QUOTIDIEN,
    "Prendre en main un ordinateur": S.OUTILS_QUOTIDIEN,
    "Utiliser le numérique au quotidien": S.OUTILS_QUOTIDIEN,
    "Approfondir ma culture numérique": S.COMPREHENSION,
    "Promouvoir la citoyenneté numérique": S.COMPREHENSION,
    "Favoriser mon insertion professionnelle": S.INSERTION_PRO,
    "Créer et développer mon entreprise": S.INSERTION_PRO,
    "Accéder à une connexion internet": S.ACCES_MATERIEL,
    "Accéder à du matériel": S.ACCES_MATERIEL,
    "S'équiper en matériel informatique": S.MATERIEL_SOLIDAIRE,
    "Créer avec le numérique": S.LOISIRS,
    "Soutenir la parentalité et l'éducation avec le numérique": S.PARENTALITE,
}
# 0.x `publics_accueillis` → (model field, 1.0 value); None: no equivalent.
LEGACY_PUBLICS = {
    "Seniors (+ 65 ans)": ("publics", choices.Public.SENIORS),
    "Familles/enfants": ("publics", choices.Public.FAMILLES),
    "Jeunes (16-26 ans)": ("publics", choices.Public.JEUNES),
    "Uniquement femmes": ("publics", choices.Public.FEMMES),
    "Public langues étrangères": ("specific_support", choices.PriseEnCharge.AUTRES_LANGUES),
    "Déficience visuelle": ("specific_support", choices.PriseEnCharge.DEFICIENCE_VISUELLE),
    "Surdité": ("specific_support", choices.PriseEnCharge.SURDITE),
    "Handicaps mentaux : déficiences limitant les activités d'une personne": (
        "specific_support",
        choices.PriseEnCharge.HANDICAPS_MENTAUX,
    ),
    "Personnes en situation d'illettrisme": ("specific_support", choices.PriseEnCharge.ILLETTRISME),
}
# 0.x `conditions_acces`: the part before " : " names the condition.
LEGACY_FEES = {
    "Gratuit": choices.Frais.GRATUIT,
    "Gratuit sous condition": choices.Frais.GRATUIT_SOUS_CONDITION,
    "Payant": choices.Frais.PAYANT,
}
# 0.x `labels_nationaux` → (model field, 1.0 value).
LEGACY_LABELS = {
    "France Services": ("national_programmes", choices.Dispositif.FRANCE_SERVICES),
    "CNFS": ("national_programmes", choices.Dispositif.CONSEILLERS_NUMERIQUES),
    "Aidants Connect": ("national_programmes", choices.Dispositif.AIDANTS_CONNECT),
    "Grandes écoles du numérique": ("national_programmes", choices.Dispositif.GEN),
    "Point relais CAF": ("national_programmes", choices.Dispositif.CAF),
    "Point numérique CAF": ("national_programmes", choices.Dispositif.CAF),
    "Fabriques de Territoire": ("labels", choices.FormationLabel.FABRIQUES_TERRITOIRE),
}
# 0.x `modalites_accompagnement`: the part before " : ".
LEGACY_SUPPORT = {
    "Seul": choices.ModaliteAccompagnement.AUTONOMIE,
    "Avec de l'aide": choices.ModaliteAccompagnement.INDIVIDUEL,
    "Dans un atelier": choices.ModaliteAccompagnement.ATELIER,
    "A ma place": choices.ModaliteAccompagnement.INDIVIDUEL,
}

# The columns read here by a rule of their own (in `to_row`); every other column
# of `mediation.standard` is plain text or, when multi-valued, a list checked
# against its closed list of values.
OWN_RULES = {
    "id",
    "pivot",
    "code_postal",
    "code_insee",
    "latitude",
    "longitude",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "source",
    "date_maj",
    "fiche_acces_libre",
    "prise_rdv",
}
LIST_COLUMNS = tuple(c for c in standard.COLUMNS if c.multiple and c.name not in OWN_RULES)
TEXT_COLUMNS = tuple(c for c in standard.COLUMNS if not c.multiple and c.name not in OWN_RULES)
KNOWN_COLUMNS = set(standard.NAMES) | LEGACY_COLUMNS

# Kinds deduced from what the standard says (it has no "kind" column).
KIND_FROM_PROGRAMME = {
    choices.Dispositif.FRANCE_SERVICES: "france-services",
    choices.Dispositif.PROMENEURS: "promeneur-du-net",
}
KIND_FROM_TYPOLOGIE = {"BIB": "mediatheque"}
DEFAULT_KIND = "espace-public-numerique"

SUMMARY_MAX = 280


OSM_COMMENT = re.compile(r'\s*"([^"]*)"')


def split_hours_comment(value):
    """(hours, note) of a `horaires` cell whose note is an OpenStreetMap comment.

    The inverse of `exporters.hours_with_note()`: the site's own export puts the
    hours note in a comment on each rule (`unknown "…"` without hours).
    """
    comments = list(dict.fromkeys(OSM_COMMENT.findall(value or "")))
    if not comments:
        return value, ""
    hours = OSM_COMMENT.sub("", value).strip()
    return ("" if hours == "unknown" else hours), " ; ".join(c.strip() for c in comments)


def is_legacy(columns, records):
    """True for the 0.x shape: its own columns, or its older service names."""
    if LEGACY_COLUMNS & set(columns):
        return True
    for record in records[:50]:
        services = str(record.get("services") or "")
        if any(old in services for old in LEGACY_SERVICES):
            return True
    return False


def _choice_lookup(column):
    """Accent-, case- and spacing-insensitive lookup of a closed list's values."""
    table = {normalize_search(value): value for value in column.values}
    for documented, schema_form in SCHEMA_LABEL_SPELLING.items():
        if documented in column.values:
            table[normalize_search(schema_form)] = documented
    return table


LOOKUPS = {column.name: _choice_lookup(column) for column in LIST_COLUMNS if column.values}


def _closed_values(items, column, row):
    kept = []
    for item in items:
        value = LOOKUPS[column].get(normalize_search(item))
        if value is None:
            row.notes.append(note_line(f"Valeur non reconnue ({column})", item))
            row.remarks.append(
                f"{column} : « {item} » ne fait pas partie du standard, gardé en note"
            )
        elif value not in kept:
            kept.append(value)
    return kept


def _add(fields, name, value):
    if value not in fields.setdefault(name, []):
        fields[name].append(value)


def _date_maj(value, row):
    value = values.text(value)
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        row.remarks.append(f"date_maj illisible : « {value} »")
        return None
    # Noon UTC: the same calendar date in every French time zone.
    return datetime.combine(day, time(12), tzinfo=UTC)


def to_row(record, line, *, legacy=False):
    """Map one standard record (dict of column → cell) to a `RowData`."""
    separators = ";|" if legacy else "|"
    get = lambda column: values.text(record.get(column))  # noqa: E731
    source_id = get("id")
    if not source_id:
        raise RowError("Identifiant « id » manquant.")
    row = RowData(
        line=line,
        source=get("source"),
        source_id=source_id,
        uid=source_id,
        fields={},
        replace_kinds=False,
    )
    fields = row.fields
    for column in TEXT_COLUMNS:
        fields[column.attribute] = get(column.name)
    if not fields["name"]:
        raise RowError("Nom du lieu (« nom ») manquant.")
    if not fields["address"]:
        raise RowError("Adresse (« adresse ») manquante.")
    readable.tidy(row)
    fields["source"] = row.source
    fields["postal_code"] = values.postal_code(record.get("code_postal"))
    if not fields["postal_code"]:
        raise RowError(f"Code postal invalide : « {get('code_postal')} ».")
    fields["code_insee"] = get("code_insee")
    if fields["code_insee"] and not re.fullmatch(
        r"([013-9]\d|2[AB1-9])\d{3}", fields["code_insee"]
    ):
        row.notes.append(note_line("code_insee", fields["code_insee"]))
        fields["code_insee"] = ""
    set_coordinates(row, record.get("latitude"), record.get("longitude"))

    pivot = get("pivot")
    fields["pivot"] = (
        pivot if re.fullmatch(r"[a-zA-Z0-9]{9,14}", pivot) and set(pivot) - {"0"} else ""
    )
    if pivot and not fields["pivot"] and set(pivot) - {"0"}:
        row.notes.append(note_line("pivot", pivot))

    raw_phone = get("telephone")
    fields["phone"] = values.phone(raw_phone)
    if raw_phone and not fields["phone"]:
        row.notes.append(note_line("Téléphone", raw_phone))
        row.remarks.append(f"téléphone non reconnu, gardé en note : « {raw_phone} »")

    email_cell = get("courriel" if legacy and "courriels" not in record else "courriels")
    fields["emails"] = values.emails(email_cell)
    leftover = re.sub(values.EMAIL, "", email_cell).strip(" |;,")
    if leftover:
        row.notes.append(note_line("Courriels", email_cell))

    fields["websites"] = []
    for item in values.split(get("site_web"), separators):
        clean = values.url(item)
        if clean:
            fields["websites"].append(clean)
        else:
            row.notes.append(note_line("Site web", item))
    for column, attribute in (
        ("prise_rdv", "appointment_url"),
        ("fiche_acces_libre", "acceslibre_url"),
    ):
        raw = get(column) or (get("accessibilite") if column == "fiche_acces_libre" else "")
        fields[attribute] = values.url(raw)
        if raw and not fields[attribute]:
            row.notes.append(note_line(column, raw))

    hours, comment = split_hours_comment(get("horaires"))
    converted = from_osm_or_text(hours)
    fields["opening_hours"] = converted.opening_hours
    fields["opening_hours_note"] = "\n".join(n for n in (converted.note, comment) if n)
    if hours and not converted.opening_hours:
        row.remarks.append("horaires hors format OpenStreetMap, gardés en texte")

    summary = get("presentation_resume")
    fields["summary"] = summary
    if len(summary) > SUMMARY_MAX:
        # 0.x allowed 500 characters: the full text goes to the detailed presentation.
        fields["summary"] = ""
        fields["description"] = "\n\n".join(p for p in (summary, fields["description"]) if p)
        row.remarks.append(
            "présentation courte de plus de 280 caractères, mise en présentation détaillée"
        )

    for list_column in LIST_COLUMNS:
        column, attribute = list_column.name, list_column.attribute
        items = values.split(record.get(column), separators)
        if legacy and column == "services":
            fields[attribute] = []
            for item in items:
                if item in LEGACY_SERVICES:
                    _add(fields, attribute, LEGACY_SERVICES[item].value)
                else:
                    for value in _closed_values([item], column, row):
                        _add(fields, attribute, value)
            continue
        if legacy and column == "modalites_accompagnement":
            fields[attribute] = []
            for item in items:
                key = item.split(" : ")[0].strip()
                if key in LEGACY_SUPPORT:
                    _add(fields, attribute, LEGACY_SUPPORT[key].value)
                else:
                    for value in _closed_values([item], column, row):
                        _add(fields, attribute, value)
            continue
        if list_column.values is None:
            fields[attribute] = items
        else:
            fields[attribute] = _closed_values(items, column, row)

    if legacy:
        _legacy_columns(record, row, separators)

    row.fields["information_updated_at"] = _date_maj(record.get("date_maj"), row)
    for column, value in record.items():
        if column not in KNOWN_COLUMNS and values.text(value):
            row.notes.append(note_line(column, value))

    row.kinds = _kinds(fields)
    return row


def _legacy_columns(record, row, separators):
    fields = row.fields
    for item in values.split(record.get("publics_accueillis"), separators):
        target = LEGACY_PUBLICS.get(item)
        if target:
            _add(fields, target[0], target[1].value)
        else:
            row.notes.append(note_line("Public accueilli", item))
    conditions = record.get("conditions_acces") or record.get("conditions_access")
    for item in values.split(conditions, separators):
        key = item.split(" : ")[0].strip()
        if key in LEGACY_FEES:
            _add(fields, "fees", LEGACY_FEES[key].value)
        else:
            row.notes.append(note_line("Conditions d’accès", item))
    for item in values.split(record.get("labels_nationaux"), separators):
        target = LEGACY_LABELS.get(item)
        if target:
            _add(fields, target[0], target[1].value)
        elif item not in fields["other_labels"]:
            fields["other_labels"].append(item)
    for item in values.split(record.get("labels_autres"), separators):
        if item not in fields["other_labels"]:
            fields["other_labels"].append(item)
    cle_ban = values.text(record.get("cle_ban"))
    if cle_ban:
        row.notes.append(note_line("Clé BAN", cle_ban))


def _kinds(fields):
    kinds = []
    for programme in fields.get("national_programmes", []):
        if programme in KIND_FROM_PROGRAMME:
            kinds.append(KIND_FROM_PROGRAMME[programme])
    for code in fields.get("typologie", []):
        if code in KIND_FROM_TYPOLOGIE:
            kinds.append(KIND_FROM_TYPOLOGIE[code])
    return sorted(set(kinds))
