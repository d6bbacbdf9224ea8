"""Run an import: read the file, detect its format, check each row, write them in bulk.

The whole import runs in one transaction, so the demo structures are deleted
in the same transaction as the rows' success. `--dry-run` does everything,
then rolls the transaction back. A row is checked in Python, entirely, before
anything of it is written (`Structure.full_clean()`, the model's own rules):
a bad row is rejected alone and never leaves a half-written structure. The
file is read a chunk at a time (`mediation.importers.files`), and each chunk
read and written in bulk (`mediation.importers.batch`): a few queries per
thousand rows, so that a national file of 100,000 places takes minutes in
bounded memory. A row whose place lies outside the region is rejected first,
before any other work (a national file is mostly such rows); the report adds
what else the mapping found wrong with it. A row read exactly as at the last
import, onto a place nobody changed since, is unchanged without being checked
again (`ImportBatch.find_unchanged()`).

A row finds the structure it updates by its source and its identifier in
that source (`source`, `source_id`), else by the standard's `id` kept in
`uid` (re-importing our own export). Every change is in the history, marked
as an import; an unchanged row writes nothing. The information is dated with
the source's own date (`Structure.information_updated_at`), never with the
day of the import.
"""

import re
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from mediation import choices, csvfiles, geocoding, kind_check
from mediation.importers import hub_lo, standard, values
from mediation.importers.base import DemoWorkError, ImportFileError, RowError, note_line
from mediation.importers.batch import ImportBatch, field_values, server_binding
from mediation.importers.files import open_import_file
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
from mediation.personal_data import is_person_name
from mediation.provenance import (
    IMPORT_CHANGE_REASON,
    KINDS,
    ImportConflict,
    last_change_by_person,
    same_value,
    still_deduced,
    who,
)
from territories.models import BassinDeVie, normalize_search

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
    # Fields whose person's value was kept over the file's (or overwritten).
    conflicts: int = 0


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
        conflicts = sum(r.conflicts for r in self.results)
        if conflicts:
            parts.append(
                f"{conflicts} champ{'s' if conflicts > 1 else ''} modifié"
                f"{'s' if conflicts > 1 else ''} par des personnes depuis le dernier import "
                "(voir les conflits d’import)"
            )
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


def detect_format(columns, records):
    """The format name of a file from its columns (and, for 0.x, its values)."""
    if "c_nom" in columns:
        return hub_lo.NAME
    if set(standard.REQUIRED_COLUMNS) <= set(columns):
        return standard.LEGACY_NAME if standard.is_legacy(columns, records) else standard.NAME
    # Name what is missing for the format the file resembles most.
    missing = {
        name: [c for c in required if c not in columns]
        for name, required in (
            (standard.NAME, standard.REQUIRED_COLUMNS),
            (hub_lo.NAME, hub_lo.REQUIRED_COLUMNS),
        )
    }
    closest = min(missing, key=lambda name: len(missing[name]))
    raise ImportFileError(
        "Format non reconnu : ni le recensement régional (colonnes c_nom, c_adresse…), "
        f"ni le standard national (colonnes {', '.join(standard.REQUIRED_COLUMNS)}…). "
        f"Pour le {FORMAT_LABELS[closest]}, il manque les colonnes : "
        f"{', '.join(missing[closest])}. "
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


def run_import(
    path,
    *,
    file_format=None,
    dry_run=False,
    geocode=False,
    replace_demo=False,
    source="",
    overwrite=False,
):
    """Import `path`; returns an `ImportReport`. Raises ImportFileError for a bad file.

    With `geocode`, places without a position are located from their address
    (BAN, else the commune's point); off by default so that an import keeps
    exactly what the file says. Real places replace the demo structures; when
    people have worked on them (mediators, edits, reports…) the import is
    refused with the list of what would be lost, unless `replace_demo`.

    Places are keyed by (source, identifier in the source): rows whose file
    names no source take `source`, and without it the file is refused. A field
    a person changed since the source last brought it keeps the person's value
    and is reported as a conflict (see `mediation.provenance`), unless
    `overwrite`.
    """
    if not replace_demo:
        lost = demo_work()
        if lost:
            raise DemoWorkError(lost)
    import_file = open_import_file(path)
    if file_format is None:
        file_format = detect_format(import_file.columns, import_file.sample)
    elif file_format not in FORMATS:
        raise ImportFileError(
            f"Format inconnu : « {file_format} » (formats : {', '.join(FORMATS)})."
        )
    check_columns(file_format, import_file.columns)
    if file_format != hub_lo.NAME:
        _check_sources(import_file, source)
    report = ImportReport(path=str(path), format=file_format, dry_run=dry_run)
    kinds = {kind.slug: kind for kind in ServiceType.objects.all()}
    records = import_file.records(source=values.text(source) if file_format != hub_lo.NAME else "")
    with transaction.atomic(), server_binding():
        batch = ImportBatch(
            kinds=kinds,
            change_reason=f"{IMPORT_CHANGE_REASON} {file_format}",
            options={"format": file_format, "geocode": geocode, "overwrite": overwrite},
        )
        seen = {}
        # The file is read a chunk at a time: memory is that of a chunk.
        line = 1
        while chunk := list(islice(records, batch.CHUNK)):
            report.results += _import_chunk(
                file_format, chunk, line, seen, batch, geocode=geocode, overwrite=overwrite
            )
            line += len(chunk)
        batch.finish()
        if report.accepted:
            # Deleted in the same transaction as the rows' success (see demo_work).
            report.demo_removed = Structure.objects.demo().count()
            Structure.objects.demo().delete()
        if dry_run:
            transaction.set_rollback(True)
    return report


# Characters no text of the directory holds: NUL (which PostgreSQL refuses)
# and the other C0 controls but tab and line breaks. A line break where the
# model wants one line (a name, an address) is refused by the model's rules,
# with the same French message as on the edit page.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_cells(record):
    """(record without control characters, names of the columns that had some)."""
    cleaned, columns = {}, []
    for column, value in record.items():
        if isinstance(value, str) and CONTROL.search(value):
            value = CONTROL.sub("", value)
            columns.append(str(column))
        cleaned[column] = value
    return cleaned, columns


def _limit(model_field):
    """The model's length limit of a field: max_length, else its MaxLengthValidator."""
    limits = [model_field.max_length or 0] + [
        v.limit_value for v in model_field.validators if isinstance(v, MaxLengthValidator)
    ]
    return max(limits) or MULTI_VALUE_MAX


# A multi-valued cell ("a|b|c") has no length of its own in the model.
MULTI_VALUE_MAX = 10_000
# No cell of any column may be longer than the longest text the model holds.
CELL_MAX = max(_limit(f) for f in Structure._meta.concrete_fields)
# Each field's limit, computed once (a file has 100,000 rows of 30 values).
FIELD_LIMITS = {f.name: _limit(f) for f in Structure._meta.concrete_fields}


def check_sizes(record):
    """A cell longer than any field of the directory rejects the row (same in CSV and JSON)."""
    for column, value in record.items():
        size = len(value) if isinstance(value, str) else len(str(value))
        if size > CELL_MAX:
            raise RowError(f"Colonne « {column} » : {size} caractères, au plus {CELL_MAX}.")


def check_field_sizes(row):
    """Each value must fit its field (the model's max_length): else the row is rejected."""
    for name, value in row.fields.items():
        if isinstance(value, list):
            value = "|".join(value)
        if not isinstance(value, str):
            continue
        model_field = Structure._meta.get_field(name)
        limit = FIELD_LIMITS.get(name) or _limit(model_field)
        if len(value) > limit:
            raise RowError(
                f"{model_field.verbose_name.capitalize()} : {len(value)} caractères, "
                f"au plus {limit}."
            )


def _check_sources(import_file, source):
    """Rows without a `source` take `source`; without one the file is refused.

    Two files whose rows name no source would otherwise share the empty source,
    and the second would overwrite the first's places that have the same `id`.
    """
    missing = import_file.without_source
    if missing and not values.text(source):
        shown = ", ".join(str(n) for n in missing[:10]) + ("…" if len(missing) > 10 else "")
        raise ImportFileError(
            f"La colonne « source » est vide ou absente ({len(missing)} ligne"
            f"{'s' if len(missing) > 1 else ''} : {shown}). Les lieux sont reconnus par leur "
            "source et leur identifiant : indiquez qui a collecté ces données avec "
            "--source « Nom de la source »."
        )


def _import_chunk(file_format, records, first_line, seen, batch, *, geocode, overwrite):
    """The results of these rows: each checked and mapped, then the chunk written.

    A row read exactly as at the last import, onto a place nobody has changed
    since, is unchanged without being mapped and checked again: its result is the
    last one (`ImportBatch.find_unchanged()`)."""
    read = []  # (line, record, why it is outside the region, fingerprint)
    for line, record in enumerate(records, start=first_line):
        outside = (
            outside_region(record, batch.communes)
            if file_format != hub_lo.NAME and None not in record
            else ""
        )
        fingerprint = batch.fingerprint(record) if None not in record and not outside else ""
        read.append((line, record, outside, fingerprint))
    unchanged = batch.find_unchanged([item[3] for item in read if item[3]])
    mapped = []
    for line, record, outside, fingerprint in read:
        snapshot = unchanged.get(fingerprint)
        if snapshot is not None:
            mapped.append(_unchanged(record, line, seen, snapshot, batch))
        else:
            mapped.append(_map_record(file_format, record, line, seen, outside, fingerprint))
    batch.load([item[0] for item in mapped if isinstance(item, tuple)])
    results = []
    for item in mapped:
        if isinstance(item, RowResult):
            results.append(item)
            continue
        row, name = item
        try:
            outcome = apply_row(row, batch=batch, geocode=geocode, overwrite=overwrite)
        except RowError as error:
            result = RowResult(
                row.line, row.source_id, name, Outcome.REJECTED, [str(error), *row.remarks]
            )
        except ValidationError as error:
            result = RowResult(row.line, row.source_id, name, Outcome.REJECTED, _messages(error))
        else:
            result = RowResult(
                row.line, row.source_id, name, outcome, row.remarks, conflicts=row.conflicts
            )
        results.append(result)
    batch.flush()
    return results


def _unchanged(record, line, seen, snapshot, batch):
    """The RowResult of a row the last import brought as it is (`snapshot`, its record's)."""
    name = _name(record)
    key = (snapshot.source, snapshot.source_id)
    if key in seen:
        return _duplicate(line, snapshot.source_id, name, seen[key])
    seen[key] = line
    batch.keep(snapshot)
    return RowResult(line, snapshot.source_id, name, Outcome.UNCHANGED, list(snapshot.remarks))


def _name(record):
    return str(record.get("c_nom") or record.get("nom") or "").strip()


def outside_region(record, communes):
    """The reason a standard row's place is surely outside the region, or "".

    Nothing of the region matches its INSEE code, its postal code, its postal
    code's department, nor its commune's name: none of the ways
    `_resolve_commune()` finds a commune could succeed (checked first, on the
    raw cells: a national file is mostly such rows)."""
    postal_code = values.postal_code(record.get("code_postal"))
    if not postal_code:
        return ""  # an invalid postal code gets its own message
    city = values.text(record.get("commune"))
    if (
        communes.get(values.text(record.get("code_insee")))
        or communes.with_postal_code(postal_code)
        or communes.in_department(postal_code[:2])
        or communes.with_name(city)
    ):
        return ""
    return (
        f"Aucune commune de la région ne correspond à « {postal_code} {city} » "
        "(lieu hors de la région ?)."
    )


def _map_record(file_format, record, line, seen, outside, fingerprint):
    """(RowData, name) of a record, or the RowResult rejecting it. `outside`: why the
    record is surely outside the region (`outside_region()`), or ""."""
    name = _name(record)
    if None in record:  # a CSV line with more cells than the header
        return RowResult(
            line, "", name, Outcome.REJECTED, ["ligne avec plus de cellules que d’en-têtes"]
        )
    if outside:
        key = (values.text(record.get("source")), values.text(record.get("id")))
        if key[1] and key in seen:
            return _duplicate(line, key[1], name, seen[key])
        seen[key] = line
        # Said first; what else is wrong with the row follows (mapping only, no model check).
        try:
            others = _to_row(file_format, record, line).remarks
        except RowError as error:
            others = [str(error)]
        return RowResult(line, key[1], name[:200], Outcome.REJECTED, [outside, *others])
    try:
        row = _to_row(file_format, record, line)
    except RowError as error:
        return RowResult(line, "", name[:200], Outcome.REJECTED, [str(error)])
    row.fingerprint = fingerprint
    key = (row.source, row.source_id)
    if key in seen:
        return _duplicate(line, row.source_id, name, seen[key])
    seen[key] = line
    return row, name


def _to_row(file_format, record, line):
    """The RowData of a record, by its format's mapping. Raises RowError."""
    record, cleaned = clean_cells(record)
    check_sizes(record)
    if file_format == hub_lo.NAME:
        row = hub_lo.to_row(record, line)
    else:
        row = standard.to_row(record, line, legacy=file_format == standard.LEGACY_NAME)
    check_field_sizes(row)
    if cleaned:
        row.remarks.append(f"caractères de contrôle retirés ({', '.join(cleaned)})")
    if is_person_name(row.fields.get("parent_structure")):
        # A sole trader's own name, as SIRENE writes it: personal data, not published.
        row.fields["parent_structure"] = ""
        row.remarks.append("structure parente : nom d’une personne (format Insee), non repris")
    return row


def _duplicate(line, source_id, name, first_line):
    return RowResult(
        line,
        source_id,
        name,
        Outcome.REJECTED,
        [f"identifiant « {source_id} » déjà présent à la ligne {first_line}"],
    )


def _messages(error):
    if hasattr(error, "error_dict"):
        return [
            f"{Structure._meta.get_field(k).verbose_name if k != '__all__' else 'lieu'} : {m}"
            for k, ms in error.message_dict.items()
            for m in ms
        ]
    return list(error.messages)


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


def apply_row(row, *, batch, geocode=False, overwrite=False):
    """Create or update the structure of `row` in `batch` (an `ImportBatch` that has
    loaded the row's place); returns the Outcome. Raises RowError."""
    kinds = batch.kinds
    structure = batch.find_existing(row)
    created = structure is None
    if created:
        structure = Structure(status=choices.Status.PUBLISHED, source_id=row.source_id)
        if row.uid and batch.uid_is_free(row.uid):
            structure.uid = row.uid
        elif row.uid:
            row.remarks.append(f"identifiant « {row.uid} » déjà utilisé : un autre est attribué")
        before, old_kinds, snapshot = None, set(), None
    else:
        before = field_values(structure)
        old_kinds = batch.kinds_of(structure)
        snapshot = batch.snapshot_of(structure, source=row.source, source_id=row.source_id)
    structure.commune_table = batch.communes
    overwritten = []  # fields whose pending conflicts the file's value settles
    # A record merged into this place (`duplicates.merge()`) updates it, under its own name.
    own_record = created or (structure.source, structure.source_id) == (row.source, row.source_id)
    fields = dict(row.fields)
    source_date = fields.pop("information_updated_at", None)
    held = {}  # field → the file's value, where a person's value is kept
    for name, value in fields.items():
        if name == "source" and not own_record:
            continue
        if name == "deduced":
            value = still_deduced(value, current=structure.deduced, snapshot=snapshot)
        if (
            name not in ALWAYS_FROM_SOURCE
            and _changed_by_person(snapshot, name, getattr(structure, name))
            and not same_value(value, getattr(structure, name))
        ):
            if not overwrite:
                held[name] = value
                continue
            overwritten.append(name)
        setattr(structure, name, value)
    # The information is dated by its source, never by this import; a source
    # without a date leaves the date unknown (or as it was). A newer date (a
    # person's change, kept above) is never moved back.
    if source_date is None:
        row.remarks.append("date de mise à jour absente de la source")
    dates = [d for d in (source_date, structure.information_updated_at) if d]
    structure.set_information_date(max(dates) if dates else None)
    note_lines = [] if created else structure.import_note.splitlines()
    note_lines += [line for line in row.notes if line not in note_lines]
    structure.import_note = "\n".join(note_lines)
    structure.commune = None
    _resolve_commune(structure, row, batch.communes)
    _lone_coordinate(structure, row)
    _check_position(structure, row, geocode=geocode)
    _locate(structure, row, geocode=geocode)
    _clean(structure, row)
    batch.check_unique(structure, created=created, loaded_source=before and before["source"])

    source_kinds = set(row.kinds) if row.replace_kinds else old_kinds | set(row.kinds)
    if not source_kinds:
        source_kinds = {standard.DEFAULT_KIND}
        row.remarks.append("aucun type de lieu déductible : compté comme EPN")
    for slug in kind_check.kinds_to_check(structure.name, source_kinds):
        row.remarks.append(
            f"type à vérifier : le nom évoque « {kinds[slug].name if slug in kinds else slug} », "
            "absent des types du lieu"
        )
    unknown = source_kinds - set(kinds)
    if unknown:
        raise RowError(f"Types de lieu absents de la base : {', '.join(sorted(unknown))}.")
    new_kinds = source_kinds
    if _changed_by_person(snapshot, KINDS, sorted(old_kinds)) and source_kinds != old_kinds:
        if overwrite:
            overwritten.append(KINDS)
        else:
            held[KINDS] = sorted(source_kinds)
            new_kinds = old_kinds
    _check_bassin(structure, row)
    source_values = {name: getattr(structure, name) for name in fields} | {
        KINDS: sorted(source_kinds)
    }
    source_values.update(held)
    if "deduced" in fields:  # what the file deduced, before people's confirmations
        source_values["deduced"] = fields["deduced"]
    changed = created or field_values(structure) != before or new_kinds != old_kinds
    for name in overwritten:
        _report_overwrite(structure, row, name)
    _hold(structure, row, held, current_kinds=old_kinds)
    batch.add(
        structure,
        created=created,
        changed=changed,
        before=before,
        kinds=new_kinds if new_kinds != old_kinds else None,
        source=row.source,
        source_id=row.source_id,
        snapshot=_jsonable(source_values),
        # A row with conflicts is checked again next time: a coordinator may decide them.
        fingerprint="" if row.conflicts else row.fingerprint,
        remarks=row.remarks,
    )
    if not changed:
        return Outcome.UNCHANGED
    return Outcome.CREATED if created else Outcome.UPDATED


# Bookkeeping of the source itself, never a person's value to keep.
ALWAYS_FROM_SOURCE = {"source", "deduced"}


def _changed_by_person(snapshot, name, current):
    """True when `name` differs from what the source brought last (a person changed it)."""
    return snapshot is not None and name in snapshot and not same_value(current, snapshot[name])


def _jsonable(data):
    return {k: list(v) if isinstance(v, tuple | set) else v for k, v in data.items()}


def _shown(value):
    if isinstance(value, list | tuple):
        return " | ".join(str(v) for v in value) or "(vide)"
    return "(vide)" if value in (None, "") else str(value)


def _label(name):
    if name == KINDS:
        return "types de structure"
    return str(Structure._meta.get_field(name).verbose_name)


def _by_whom(structure, name):
    user, when = last_change_by_person(structure, name)
    date = f" le {timezone.localtime(when):%d/%m/%Y à %H:%M}" if when else ""
    return user, when, f"modifiée par {who(user, structure)}{date}"


def _report_overwrite(structure, row, name):
    _user, _when, by = _by_whom(structure, name)
    row.conflicts += 1
    row.remarks.append(f"{_label(name)} : valeur du fichier imposée (--overwrite), elle était {by}")
    ImportConflict.objects.filter(
        structure=structure, field=name, state=ImportConflict.State.PENDING
    ).update(state=ImportConflict.State.TAKEN, decided_at=timezone.now())


def _hold(structure, row, held, *, current_kinds):
    """Report each kept value and leave it to a coordinator (one pending conflict per field)."""
    for name, value in held.items():
        current = sorted(current_kinds) if name == KINDS else getattr(structure, name)
        user, when, by = _by_whom(structure, name)
        row.conflicts += 1
        decided = [
            c
            for c in ImportConflict.objects.filter(
                structure=structure, field=name, source=row.source, state=ImportConflict.State.KEPT
            )
            if c.source_value == value
        ]
        if decided:
            row.remarks.append(
                f"{_label(name)} : valeur gardée : {by}, choix confirmé par un coordinateur "
                f"(le fichier dit « {_shown(value)} »)"
            )
            continue
        ImportConflict.objects.update_or_create(
            structure=structure,
            field=name,
            source=row.source,
            state=ImportConflict.State.PENDING,
            defaults={
                "source_value": value,
                "kept_value": current,
                "changed_by": user,
                "changed_at": when,
                "detected_at": timezone.now(),
            },
        )
        row.remarks.append(
            f"{_label(name)} : valeur gardée : {by} (le fichier dit « {_shown(value)} » ; "
            "conflit à trancher par un coordinateur)"
        )


def _resolve_commune(structure, row, communes):
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
    department = communes.in_department(structure.postal_code[:2])
    same_name = [
        c
        for c in department
        if c.search_text.startswith(wanted) and normalize_search(c.name) == wanted
    ]
    prefixed = [c for c in department if c.search_text.startswith(wanted + " ")]
    how = "par son nom"
    commune = same_name[0] if len(same_name) == 1 else None
    if commune is None and len(prefixed) == 1:
        commune, how = prefixed[0], "par le début de son nom (commune nouvelle ?)"
    if commune is None and settings.GEOCODER != "off":
        place = geocoding.ban_lookup(
            f"{structure.address}, {structure.postal_code} {structure.city}"
        )
        if place and place.citycode:
            commune = communes.get(place.citycode)
            how = "par la Base Adresse Nationale"
    if commune is None and structure.latitude is not None and structure.longitude is not None:
        # Among the postal code's communes near the place, the most populated:
        # a commune nouvelle usually is, and its reference point may be far
        # from the old village's centre.
        nearby = [
            c
            for c in communes.with_postal_code(structure.postal_code)
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


def _lone_coordinate(structure, row):
    """A latitude without a longitude (or the reverse) is kept in the note, not used."""
    latitude, longitude = structure.latitude, structure.longitude
    if (latitude is None) == (longitude is None):
        return
    kept = f"latitude {latitude}" if latitude is not None else f"longitude {longitude}"
    line = note_line("Position incomplète, écartée", kept)
    if line not in structure.import_note.splitlines():
        structure.import_note = "\n".join(part for part in (structure.import_note, line) if part)
    row.remarks.append(f"position incomplète ({kept}), gardée en note")
    structure.latitude = structure.longitude = None
    row.position_rejected = True


def _locate(structure, row, *, geocode):
    if structure.latitude is not None and structure.longitude is not None:
        return
    if row.position_rejected and not geocode and structure.commune is not None:
        commune = structure.commune
        structure.latitude, structure.longitude = commune.latitude, commune.longitude
        row.remarks.append(
            f"position remplacée par le point de la commune ({commune.name}), à vérifier"
        )
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
            # The commune comes from the commune table; uniqueness is checked by the
            # batch against what it loaded (`ImportBatch.check_unique()`).
            structure.full_clean(
                exclude=["slug", "commune"], validate_unique=False, validate_constraints=False
            )
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
