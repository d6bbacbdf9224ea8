"""Run an import: read the file, detect its format, write each row in its own savepoint.

The whole import runs in one transaction; each row in a savepoint, so a bad
row is rolled back alone and never leaves a half-written structure, and the
demo structures are deleted in the same transaction as the rows' success.
`--dry-run` does everything, then rolls the transaction back.

A row finds the structure it updates by its source and its identifier in
that source (`source`, `source_id`), else by the standard's `id` kept in
`uid` (re-importing our own export). Writing goes through `Structure.save()`,
so every change is in the history, marked as an import (see `date_maj`).
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Count

from mediation import choices, csvfiles, geocoding, kind_check
from mediation.exporters import IMPORT_CHANGE_REASON
from mediation.importers import hub_lo, standard
from mediation.importers.base import DemoWorkError, ImportFileError, RowError, note_line
from mediation.models import (
    ErrorReport,
    Invitation,
    JoinRequest,
    Membership,
    ServiceType,
    Stop,
    Structure,
    planar_distance,
)
from territories.models import BassinDeVie, Commune, normalize_search

FORMATS = (hub_lo.NAME, standard.NAME, standard.LEGACY_NAME)
FORMAT_LABELS = {
    hub_lo.NAME: "recensement régional (Hub-LO)",
    standard.NAME: "standard national 1.0.x",
    standard.LEGACY_NAME: "standard national 0.x",
}


class Outcome:
    CREATED = "créée"
    UPDATED = "mise à jour"
    UNCHANGED = "inchangée"
    REJECTED = "rejetée"


@dataclass
class RowResult:
    line: int
    source_id: str
    name: str
    outcome: str
    messages: list = field(default_factory=list)


@dataclass
class ImportReport:
    path: str
    format: str
    dry_run: bool
    results: list = field(default_factory=list)
    demo_removed: int = 0

    def count(self, outcome):
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def accepted(self):
        return len(self.results) - self.count(Outcome.REJECTED)

    def summary(self):
        parts = [
            f"{self.count(o)} {o}{'s' if self.count(o) > 1 else ''}"
            for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REJECTED)
        ]
        return f"{len(self.results)} lignes ({FORMAT_LABELS[self.format]}) : " + ", ".join(parts)

    def write_csv(self, path):
        csvfiles.write_file(
            path,
            ["ligne", "identifiant", "nom", "résultat", "détails"],
            (
                [r.line, r.source_id, r.name, r.outcome, " ; ".join(r.messages)]
                for r in self.results
            ),
        )


# --- Reading and detection ----------------------------------------------------


def read_records(path):
    """The file's rows as dicts, and its columns. Raises ImportFileError."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ImportFileError(
            f"Impossible de lire le fichier « {path} » : {error.strerror}."
        ) from error
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "Le fichier n’est pas encodé en UTF-8 (enregistrez-le en « CSV UTF-8 »)."
        ) from error
    if not content.strip():
        raise ImportFileError("Le fichier est vide.")
    if content.lstrip()[:1] in "[{":
        return _read_json(content)
    return _read_csv(content)


def _read_json(content):
    try:
        data = json.loads(content)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"Le fichier n’est pas un JSON valide (ligne {error.lineno}, colonne {error.colno} : "
            f"{error.msg})."
        ) from error
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ImportFileError(
                "Le JSON doit être une liste de lieux (un tableau d’objets), "
                "ou un objet contenant une seule liste."
            )
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportFileError("Le JSON doit être une liste de lieux (un tableau d’objets).")
    if not data:
        raise ImportFileError("Le fichier ne contient aucun lieu.")
    columns = []
    for item in data:
        columns.extend(k for k in item if k not in columns)
    return columns, data


def _read_csv(content):
    first_line = content.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    if len(set(columns)) != len(columns):
        raise ImportFileError("L’en-tête du CSV contient deux fois la même colonne.")
    reader.fieldnames = columns
    records = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as error:
        raise ImportFileError(f"CSV illisible à la ligne {reader.line_num} : {error}.") from error
    if not records:
        raise ImportFileError("Le fichier ne contient aucun lieu (seulement un en-tête).")
    return columns, records


def detect_format(columns, records):
    """The format name of a file from its columns (and, for 0.x, its values)."""
    if "c_nom" in columns:
        return hub_lo.NAME
    if set(standard.REQUIRED_COLUMNS) <= set(columns):
        return standard.LEGACY_NAME if standard.is_legacy(columns, records) else standard.NAME
    raise ImportFileError(
        "Format non reconnu : ni le recensement régional (colonnes c_nom, c_adresse…), "
        "ni le standard national (colonnes id, nom, adresse, code_postal, commune…). "
        f"Colonnes trouvées : {', '.join(columns[:12])}{'…' if len(columns) > 12 else ''}."
    )


def check_columns(file_format, columns):
    required = hub_lo.REQUIRED_COLUMNS if file_format == hub_lo.NAME else standard.REQUIRED_COLUMNS
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportFileError(
            f"Colonnes obligatoires absentes pour le format « {FORMAT_LABELS[file_format]} » : "
            f"{', '.join(missing)}."
        )


# --- Writing ------------------------------------------------------------------


def demo_work():
    """What deleting the demo structures would lose: one French line per structure.

    Mediators, join requests, invitations, error reports and any change after
    the fixture was loaded are people's work, even on a demo place.
    """
    demo_pks = Structure.objects.demo().values("pk")
    # (singular, plural, records, structure key, records left by loading the
    # fixture: one per structure for its kinds).
    sources = (
        ("médiateur", "médiateurs", Membership.objects, "structure_id", 0),
        (
            "demande de rattachement",
            "demandes de rattachement",
            JoinRequest.objects,
            "structure_id",
            0,
        ),
        ("invitation", "invitations", Invitation.objects, "structure_id", 0),
        ("signalement", "signalements", ErrorReport.objects, "structure_id", 0),
        ("modification", "modifications", Structure.history, "id", 1),
        ("modification d’étape", "modifications d’étapes", Stop.history, "structure_id", 0),
    )
    found = {}
    for singular, plural, manager, key, loaded in sources:
        rows = (
            manager.filter(**{f"{key}__in": demo_pks})
            .values_list(key)
            .annotate(n=Count("*"))
            .order_by()
        )
        for pk, n in rows:
            n -= loaded
            if n > 0:
                found.setdefault(pk, []).append(f"{n} {singular if n == 1 else plural}")
    names = dict(Structure.objects.filter(pk__in=found).values_list("pk", "name"))
    return [f"{names[pk]} : {', '.join(parts)}" for pk, parts in sorted(found.items())]


def run_import(path, *, file_format=None, dry_run=False, geocode=False, replace_demo=False):
    """Import `path`; returns an `ImportReport`. Raises ImportFileError for a bad file.

    With `geocode`, places without a position are located from their address
    (BAN, else the commune's point); off by default so that an import keeps
    exactly what the file says. Real places replace the demo structures; when
    people have worked on them (mediators, edits, reports…) the import is
    refused with the list of what would be lost, unless `replace_demo`.
    """
    if not replace_demo:
        lost = demo_work()
        if lost:
            raise DemoWorkError(lost)
    columns, records = read_records(path)
    if file_format is None:
        file_format = detect_format(columns, records)
    elif file_format not in FORMATS:
        raise ImportFileError(
            f"Format inconnu : « {file_format} » (formats : {', '.join(FORMATS)})."
        )
    check_columns(file_format, columns)
    report = ImportReport(path=str(path), format=file_format, dry_run=dry_run)
    kinds = {kind.slug: kind for kind in ServiceType.objects.all()}
    with transaction.atomic():
        seen = {}
        for line, record in enumerate(records, start=1):
            report.results.append(
                _import_record(file_format, record, line, seen, kinds, geocode=geocode)
            )
        if report.accepted:
            # Deleted in the same transaction as the rows' success (see demo_work).
            report.demo_removed = Structure.objects.demo().count()
            Structure.objects.demo().delete()
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import_record(file_format, record, line, seen, kinds, *, geocode=False):
    name = str(record.get("c_nom") or record.get("nom") or "").strip()
    if None in record:  # a CSV line with more cells than the header
        return RowResult(
            line, "", name, Outcome.REJECTED, ["ligne avec plus de cellules que d’en-têtes"]
        )
    try:
        if file_format == hub_lo.NAME:
            row = hub_lo.to_row(record, line)
        else:
            row = standard.to_row(record, line, legacy=file_format == standard.LEGACY_NAME)
    except RowError as error:
        return RowResult(line, "", name, Outcome.REJECTED, [str(error)])
    key = (row.source, row.source_id)
    if key in seen:
        return RowResult(
            line,
            row.source_id,
            name,
            Outcome.REJECTED,
            [f"identifiant « {row.source_id} » déjà présent à la ligne {seen[key]}"],
        )
    seen[key] = line
    try:
        with transaction.atomic():
            outcome = apply_row(
                row,
                kinds=kinds,
                change_reason=f"{IMPORT_CHANGE_REASON} {file_format}",
                geocode=geocode,
            )
    except RowError as error:
        return RowResult(line, row.source_id, name, Outcome.REJECTED, [str(error), *row.remarks])
    except ValidationError as error:
        return RowResult(line, row.source_id, name, Outcome.REJECTED, _messages(error))
    except DatabaseError as error:
        return RowResult(
            line, row.source_id, name, Outcome.REJECTED, [f"erreur de la base : {error}"]
        )
    return RowResult(line, row.source_id, name, outcome, row.remarks)


def _messages(error):
    if hasattr(error, "error_dict"):
        return [
            f"{Structure._meta.get_field(k).verbose_name if k != '__all__' else 'lieu'} : {m}"
            for k, ms in error.message_dict.items()
            for m in ms
        ]
    return list(error.messages)


def find_existing(row):
    """The structure this row updates, or None (demo structures never match).

    A place merged from two records answers to both records' identifiers
    (`SourceIdentifier`, see `duplicates.merge()`).
    """
    real = Structure.objects.filter(is_demo=False)
    return (
        real.filter(source=row.source, source_id=row.source_id).first()
        or real.filter(
            other_source_ids__source=row.source, other_source_ids__source_id=row.source_id
        ).first()
        or (real.filter(uid=row.uid, source=row.source).first() if row.uid else None)
    )


def _snapshot(structure):
    return {
        f.attname: getattr(structure, f.attname)
        for f in Structure._meta.concrete_fields
        if f.attname not in ("updated_at",)
    }


# Fields whose bad value is moved to the note rather than rejecting the row.
SALVAGEABLE = {
    "phone",
    "emails",
    "websites",
    "appointment_url",
    "acceslibre_url",
    "summary",
    "opening_hours",
    "pivot",
    "parent_structure",
    "address_complement",
    "typologie",
    "other_labels",
    "equipment_note",
}


def apply_row(row, *, kinds, change_reason, geocode=False):
    """Create or update the structure of `row`; returns the Outcome. Raises RowError."""
    structure = find_existing(row)
    created = structure is None
    if created:
        structure = Structure(status=choices.Status.PUBLISHED, source_id=row.source_id)
        if row.uid and not Structure.objects.filter(uid=row.uid).exists():
            structure.uid = row.uid
        elif row.uid:
            row.remarks.append(f"identifiant « {row.uid} » déjà utilisé : un autre est attribué")
        before, old_kinds = None, set()
    else:
        before = _snapshot(structure)
        old_kinds = set(structure.kinds.values_list("slug", flat=True))
    for name, value in row.fields.items():
        setattr(structure, name, value)
    note_lines = [] if created else structure.import_note.splitlines()
    note_lines += [line for line in row.notes if line not in note_lines]
    structure.import_note = "\n".join(note_lines)
    structure.commune = None
    _resolve_commune(structure, row)
    _check_position(structure, row, geocode=geocode)
    _locate(structure, row, geocode=geocode)
    _clean(structure, row)

    new_kinds = set(row.kinds) if row.replace_kinds else old_kinds | set(row.kinds)
    if not new_kinds:
        new_kinds = {standard.DEFAULT_KIND}
        row.remarks.append("aucun type de lieu déductible : compté comme EPN")
    for slug in kind_check.kinds_to_check(structure.name, new_kinds):
        row.remarks.append(
            f"type à vérifier : le nom évoque « {kinds[slug].name if slug in kinds else slug} », "
            "absent des types du lieu"
        )
    unknown = new_kinds - set(kinds)
    if unknown:
        raise RowError(f"Types de lieu absents de la base : {', '.join(sorted(unknown))}.")
    _check_bassin(structure, row)
    if not created and _snapshot(structure) == before and new_kinds == old_kinds:
        return Outcome.UNCHANGED
    structure._change_reason = change_reason
    structure.save()
    if new_kinds != old_kinds:
        structure.kinds.set([kinds[slug] for slug in sorted(new_kinds)])
    return Outcome.CREATED if created else Outcome.UPDATED


def _resolve_commune(structure, row):
    """The commune of a row. Raises RowError when none of the region fits.

    In order: INSEE code, else postal code + name (`Structure.resolve_commune`);
    the same name in the postal code's department (CEDEX codes, wrong postal
    codes); a name that starts like it (communes nouvelles: "Auneau" →
    "Auneau-Bleury-Saint-Symphorien"); the BAN's answer for the address; the
    most populated commune of the postal code near the place (reported, to be
    checked). A row that none of these place in the region is rejected: the
    directory is regional.
    """
    if structure.resolve_commune():
        return
    wanted = normalize_search(structure.city)
    department = Commune.objects.filter(department_id=structure.postal_code[:2])
    same_name = [
        c
        for c in department.filter(search_text__startswith=wanted)
        if normalize_search(c.name) == wanted
    ]
    prefixed = list(department.filter(search_text__startswith=wanted + " "))
    how = "par son nom"
    commune = same_name[0] if len(same_name) == 1 else None
    if commune is None and len(prefixed) == 1:
        commune, how = prefixed[0], "par le début de son nom (commune nouvelle ?)"
    if commune is None and settings.GEOCODER != "off":
        place = geocoding.ban_lookup(
            f"{structure.address}, {structure.postal_code} {structure.city}"
        )
        if place and place.citycode:
            commune = Commune.objects.filter(pk=place.citycode).first()
            how = "par la Base Adresse Nationale"
    if commune is None and structure.latitude is not None and structure.longitude is not None:
        # Among the postal code's communes near the place, the most populated:
        # a commune nouvelle usually is, and its reference point may be far
        # from the old village's centre.
        nearby = [
            c
            for c in Commune.objects.matching(structure.postal_code)
            if planar_distance(structure.latitude, structure.longitude, c.latitude, c.longitude)
            <= 12
        ]
        if nearby:
            commune = max(nearby, key=lambda c: c.population or 0)
            how = "d’après le code postal et la position du lieu, à vérifier"
    if commune is None:
        raise RowError(
            f"Aucune commune de la région ne correspond à « {structure.postal_code} "
            f"{structure.city} » (lieu hors de la région ?)."
        )
    row.remarks.append(f"commune trouvée {how} : {commune.name} ({commune.code_insee})")
    structure.commune = commune
    structure.code_insee = commune.code_insee


# No commune of the region reaches this far from its reference point. A point
# farther away is the source's geocoding error: the census puts 16 places in
# other regions, up to 600 km from their commune, where the map and `near=`
# would show them.
MAX_KM_FROM_COMMUNE = 20


def _check_position(structure, row, *, geocode):
    """A point far from the place's commune is set aside (kept in the note).

    It is replaced by the geocoder's answer with --geocode, else by the
    commune's reference point: approximate, reported, but in the right town."""
    commune = structure.commune
    if structure.latitude is None or structure.longitude is None or commune is None:
        return
    distance = planar_distance(
        structure.latitude, structure.longitude, commune.latitude, commune.longitude
    )
    if distance <= MAX_KM_FROM_COMMUNE:
        return
    line = note_line("Position d’origine, écartée", f"{structure.latitude}, {structure.longitude}")
    if line not in structure.import_note.splitlines():
        structure.import_note = "\n".join(part for part in (structure.import_note, line) if part)
    row.remarks.append(f"position à {distance:.0f} km de {commune.name}, écartée (gardée en note)")
    structure.latitude = structure.longitude = None
    if not geocode:
        structure.latitude, structure.longitude = commune.latitude, commune.longitude
        row.remarks.append("remplacée par le point de la commune, à vérifier (ou --geocode)")


def _locate(structure, row, *, geocode):
    if structure.latitude is not None and structure.longitude is not None:
        return
    if not geocode:
        row.remarks.append(
            "position inconnue : le lieu n’apparaîtra pas sur la carte (voir --geocode)"
        )
        return
    place = geocoding.locate(
        f"{structure.address}, {structure.postal_code} {structure.city}",
        citycode=structure.code_insee or None,
    )
    if place is None:
        row.remarks.append("position inconnue : le lieu n’apparaîtra pas sur la carte")
        return
    structure.latitude, structure.longitude = place.latitude, place.longitude
    row.remarks.append(
        "position géocodée" + ("" if place.precise else " (centre de la commune seulement)")
    )


def _clean(structure, row):
    """Check the row by the model's own rules, as every path does (`Structure.full_clean()`,
    `mediation/validators.py`); a bad optional value goes to the note, anything else rejects."""
    for _attempt in range(3):
        try:
            structure.full_clean(exclude=["slug"])
            return
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                raise RowError(" ".join(error.messages)) from error
            fatal = [name for name in error.error_dict if name not in SALVAGEABLE]
            if fatal:
                raise RowError(" ; ".join(_messages(error))) from error
            for name in error.error_dict:
                model_field = Structure._meta.get_field(name)
                value = getattr(structure, name)
                line = note_line(model_field.verbose_name.capitalize(), value)
                if line not in structure.import_note.splitlines():
                    structure.import_note = "\n".join(
                        part for part in (structure.import_note, line) if part
                    )
                row.remarks.append(f"{model_field.verbose_name} refusé, gardé en note : {value}")
                setattr(structure, name, [] if isinstance(value, list) else "")
    raise RowError("Données invalides.")


def _check_bassin(structure, row):
    if not row.bassin_name:
        return
    bassin = hub_lo.resolve_bassin(row.bassin_name)
    if bassin is None:
        row.remarks.append(f"bassin de vie inconnu : « {row.bassin_name} »")
    elif structure.commune and structure.commune.bassin_id != bassin.pk:
        commune_bassin = BassinDeVie.objects.only("name").get(pk=structure.commune.bassin_id)
        row.remarks.append(
            f"bassin du recensement « {bassin.name} », bassin de la commune « {commune_bassin.name} »"
        )
