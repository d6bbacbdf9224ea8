"""An import's reads and writes in bulk: a few queries per thousand rows, not per row.

The runner maps and checks each row in Python with the model's own rules
(`Structure.full_clean()`); this module gives it what it would have asked the
database row by row, and writes what it decided chunk by chunk, in the
import's transaction:

- before a chunk of rows (`load()`): the places they update, found by
  (source, identifier), a merged record's identifier or the standard's `id`
  (`find_existing()`), with their kinds and their source
  snapshots; the identifiers already taken; the communes are in memory
  (`territories.models.CommuneTable`) for the whole import;
- after it (`flush()`): new places with `bulk_create`, changed ones with
  `bulk_update` (only the fields that changed), one history record for each
  (django-simple-history's `bulk_history_create`, with its kinds), the kinds,
  the snapshots, the tombstones of places back under the same identifier;
- at the end (`finish()`): what the model's signals do after a save, which
  bulk writes do not send — the data version (`versioning.data_changed()`),
  the communes' coverage (`territories.coverage.places_changed()`), the demo
  flag; and, after commit, the planner's statistics of the tables it wrote
  (`refresh_statistics()`). Unchanged rows write nothing but their snapshot's date.

A record's snapshot also keeps a digest of the record as read (`fingerprint()`)
and one of its place as the import left it: a second run of the same file finds
each unchanged row by its digest (`find_unchanged()`), one query a chunk, and
reports it unchanged without mapping nor checking it again.
"""

import datetime
import hashlib
import json
import logging
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from mediation import versioning
from mediation.after_commit import once_after_commit
from mediation.context_processors import forget_demo_flag
from mediation.merges import SourceIdentifier
from mediation.models import Stop, Structure, Tombstone, refresh_kind_ids
from mediation.provenance import KINDS, SourceSnapshot, snapshot_of
from territories import coverage
from territories.models import CommuneTable

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
SOURCE_KEY = next(c for c in Structure._meta.constraints if c.name == "unique_source_id_per_source")


def _chunks(items, size=BATCH_SIZE):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ImportBatch:
    """What an import reads before a chunk of rows and writes after it."""

    # Rows read, checked and written together: bounded memory, few queries.
    CHUNK = 2000

    def __init__(self, *, kinds, change_reason, options=None):
        self.kinds = kinds  # slug → ServiceType
        # What decides a row's result besides its record (see `fingerprint()`).
        self.rules = [
            code_digest(),
            options or {},
            sorted(kinds),
            settings.GEOCODER,
            settings.SITE_NAME,
        ]
        self.slug_of_kind = {kind.pk: slug for slug, kind in kinds.items()}
        self.change_reason = change_reason
        self.communes = CommuneTable.load()
        self.new_uids = set()
        self.written = False
        self._reset()

    def _reset(self):
        self.by_key, self.by_other_key, self.by_uid = {}, {}, {}
        self.taken_uids, self.demo_keys = set(), set()
        self.through = {}  # structure pk → {kind slug: through row id}
        self.snapshots = {}  # structure pk → {(source, source_id): SourceSnapshot}
        self.created, self.updated = [], {}  # updated: pk → (structure, before)
        self.new_kinds = {}  # id(structure) → (structure, kinds to set)
        # (id(structure), source, source_id) → (structure, values, fingerprint, remarks)
        self.snapshot_values = {}
        self.kept = []  # the snapshots of unchanged rows (`keep()`)

    # --- Reading -------------------------------------------------------------------

    def load(self, rows):
        """Read, for these rows, what `find_existing()`, the uid check and the
        snapshots need (a few queries, whatever the number of rows)."""
        self._reset()
        ids = {row.source_id for row in rows}
        uids = {row.uid for row in rows if row.uid}
        # The source in the filter: the (source, source_id) index answers.
        sources = {row.source for row in rows}
        found = {}
        for part in _chunks(ids):
            keyed = Structure.objects.filter(source__in=sources, source_id__in=part)
            for structure in keyed.exclude(source_id=""):
                if structure.is_demo:
                    self.demo_keys.add((structure.source, structure.source_id))
                else:
                    found.setdefault(structure.pk, structure)
                    self.by_key[(structure.source, structure.source_id)] = structure.pk
            for source, source_id, pk in SourceIdentifier.objects.filter(
                source__in=sources, source_id__in=part, structure__is_demo=False
            ).values_list("source", "source_id", "structure_id"):
                self.by_other_key[(source, source_id)] = pk
        for part in _chunks(uids):
            taken = Structure.objects.filter(uid__in=part).values_list("uid", "pk", "is_demo")
            for uid, pk, is_demo in taken:
                self.taken_uids.add(uid)
                if not is_demo:
                    self.by_uid[uid] = pk
        # Each place once (the standard's `id` is both its identifier and its uid).
        missing = {*self.by_other_key.values(), *self.by_uid.values()} - set(found)
        for part in _chunks(missing):
            found.update((s.pk, s) for s in Structure.objects.filter(pk__in=part))
        self.found = found
        through = Structure.kinds.through.objects
        for part in _chunks(found):
            for row_id, pk, kind_id in through.filter(structure_id__in=part).values_list(
                "id", "structure_id", "servicetype_id"
            ):
                self.through.setdefault(pk, {})[self.slug_of_kind[kind_id]] = row_id
            for snapshot in SourceSnapshot.objects.filter(structure_id__in=part):
                key = (snapshot.source, snapshot.source_id)
                self.snapshots.setdefault(snapshot.structure_id, {})[key] = snapshot

    def fingerprint(self, record):
        """The digest of a record as read, and of what else decides its result: the
        import's format and options, the code that maps and checks a row, the kinds."""
        return digest([self.rules, record])

    def find_unchanged(self, fingerprints):
        """{fingerprint: SourceSnapshot} of the records an import brought exactly so
        (the same `fingerprint()`), onto a place still as that import left it (nobody
        changed it since, see `place_digest()`) and described by that record only. The
        import's result for such a row would be the same as then: nothing changes."""
        found = {}
        for part in _chunks(set(fingerprints)):
            for snapshot in SourceSnapshot.objects.filter(row_fingerprint__in=part):
                found[snapshot.row_fingerprint] = snapshot
        if not found:
            return {}
        pks = {snapshot.structure_id for snapshot in found.values()}
        names = ["id", *(name for name in field_values(Structure()) if name != "id")]
        places, kinds, records = {}, {}, {}
        for part in _chunks(pks):
            for row in Structure.objects.filter(pk__in=part, is_demo=False).values_list(*names):
                places[row[0]] = dict(zip(names, row, strict=True))
            through = Structure.kinds.through.objects.filter(structure_id__in=part)
            for pk, kind_id in through.values_list("structure_id", "servicetype_id"):
                kinds.setdefault(pk, []).append(self.slug_of_kind[kind_id])
            counted = SourceSnapshot.objects.filter(structure_id__in=part).values_list(
                "structure_id"
            )
            records.update(counted.annotate(n=Count("*")).order_by())
        return {
            fingerprint: snapshot
            for fingerprint, snapshot in found.items()
            if snapshot.structure_id in places
            and records[snapshot.structure_id] == 1
            and snapshot.place_fingerprint
            == place_digest(places[snapshot.structure_id], kinds.get(snapshot.structure_id, ()))
        }

    def keep(self, snapshot):
        """An unchanged row (`find_unchanged()`): only its snapshot's date is written."""
        self.kept.append(snapshot.pk)

    def find_existing(self, row):
        """The structure this row updates, or None (demo structures never match).

        By (source, identifier in the source); a place merged from two records answers
        to both records' identifiers (`SourceIdentifier`, see `duplicates.merge()`);
        else by the standard's `id` kept in `uid`, our own export naming the directory
        as the source of the places entered here."""
        sources = [row.source, *([""] if row.source == settings.SITE_NAME else [])]
        key = (row.source, row.source_id)
        pk = self.by_key.get(key) or self.by_other_key.get(key)
        if pk is None and row.uid and row.uid in self.by_uid:
            structure = self.found[self.by_uid[row.uid]]
            pk = structure.pk if structure.source in sources else None
        return self.found[pk] if pk is not None else None

    def uid_is_free(self, uid):
        return uid not in self.taken_uids and uid not in self.new_uids

    def kinds_of(self, structure):
        """The slugs of the kinds a place has (as this import left them so far)."""
        if id(structure) in self.new_kinds:
            return set(self.new_kinds[id(structure)][1])
        return set(self.through.get(structure.pk, ()))

    def snapshot_of(self, structure, *, source, source_id):
        """`provenance.snapshot_of()` from what `load()` read."""
        pending = self.snapshot_values.get((id(structure), source, source_id))
        if pending is not None:
            return pending[1]
        snapshots = self.snapshots.get(structure.pk)
        if snapshots:
            snapshot = snapshots.get((source, source_id))
            return snapshot.values if snapshot is not None else None
        # None at all: the last import in the history (places imported before snapshots).
        return snapshot_of(structure, source=source, source_id=source_id)

    def check_unique(self, structure, *, created, loaded_source):
        """The model's uniqueness rules, checked against what `load()` read (the same
        error as `full_clean()`); a place whose source changes asks the database."""
        if created:
            if (structure.source, structure.source_id) in self.demo_keys:
                raise ValidationError({NON_FIELD_ERRORS: [SOURCE_KEY.violation_error_message]})
        elif structure.source != loaded_source:
            structure.validate_constraints()

    # --- Writing -------------------------------------------------------------------

    def add(
        self,
        structure,
        *,
        created,
        changed,
        before,
        kinds,
        source,
        source_id,
        snapshot,
        fingerprint="",
        remarks=(),
    ):
        """Keep a row's result for `flush()`: the place (when `changed`), its kinds (when
        they change), what its record (`source`, `source_id`) brought (`snapshot`), the
        record's `fingerprint()` and the report's `remarks`."""
        if changed and created:
            self.created.append(structure)
            if structure.uid:
                self.new_uids.add(structure.uid)
        elif changed:
            self.updated.setdefault(structure.pk, (structure, before))
        if kinds is not None:
            self.new_kinds[id(structure)] = (structure, sorted(kinds))
        self.snapshot_values[(id(structure), source, source_id)] = (
            structure,
            snapshot,
            fingerprint,
            list(remarks),
        )

    def flush(self):
        """Write the chunk's places, history, kinds and snapshots."""
        now = timezone.now()
        self._assign_slugs(self.created)
        updated = [structure for structure, _before in self.updated.values()]
        fields = set()
        for structure, before in self.updated.values():
            structure.prepare_save()
            structure.updated_at = now
            fields |= {
                name for name, value in field_values(structure).items() if before[name] != value
            }
        for structure in self.created:
            structure.prepare_save()
        Structure.objects.bulk_create(self.created, batch_size=BATCH_SIZE)
        _update(updated, sorted(fields | {"updated_at"}))
        self._write_kinds()
        history = Structure.history
        records = history.bulk_history_create(
            self.created, batch_size=BATCH_SIZE, default_change_reason=self.change_reason
        ) + history.bulk_history_create(
            updated, batch_size=BATCH_SIZE, update=True, default_change_reason=self.change_reason
        )
        self._write_kinds_history(records)
        self._write_snapshots(now)
        written = self.created + updated
        for part in _chunks(s.uid for s in written):
            Tombstone.objects.filter(uid__in=part).delete()
        self.written = self.written or bool(written)
        self._reset()

    def finish(self):
        """What the signals of `Structure.save()` would have done, once for the import."""
        if not self.written:
            return
        versioning.data_changed()
        coverage.places_changed()
        forget_demo_flag()
        once_after_commit("planner_statistics", refresh_statistics)

    def _assign_slugs(self, structures):
        """`Structure.unique_slug()` for many places: one query for their first choices."""
        wanted = {}
        for structure in structures:
            if not structure.slug:
                wanted.setdefault(structure.unique_slug_base(), []).append(structure)
        taken = set()
        for part in _chunks(wanted):
            taken.update(Structure.objects.filter(slug__in=part).values_list("slug", flat=True))
        for base, places in wanted.items():
            for structure in places:
                structure.slug = base if base not in taken else structure.unique_slug(avoid=taken)
                taken.add(structure.slug)

    def _write_kinds(self):
        through = Structure.kinds.through
        removed, added, changed = [], [], set()
        for structure, wanted in self.new_kinds.values():
            current = self.through.setdefault(structure.pk, {})
            gone = [current.pop(slug) for slug in list(current) if slug not in wanted]
            new = [slug for slug in wanted if slug not in current]
            removed += gone
            added += [
                through(structure_id=structure.pk, servicetype_id=self.kinds[slug].pk)
                for slug in new
            ]
            if gone or new:
                changed.add(structure.pk)
                structure.kind_ids = [
                    str(pk) for pk in sorted(self.kinds[slug].pk for slug in wanted)
                ]
        for part in _chunks(removed):
            through.objects.filter(pk__in=part).delete()
        for row in through.objects.bulk_create(added, batch_size=BATCH_SIZE):
            self.through[row.structure_id][self.slug_of_kind[row.servicetype_id]] = row.pk
        refresh_kind_ids(changed)  # what the kinds' signals do, which bulk writes skip
        self.written = self.written or bool(removed or added)

    def _write_kinds_history(self, records):
        """Each history record holds the place's kinds, as simple_history's own does."""
        model = Structure.history.model.kinds.model
        rows = [
            model(
                id=row_id,
                structure_id=record.id,
                servicetype_id=self.kinds[slug].pk,
                history_id=record.history_id,
            )
            for record in records
            for slug, row_id in sorted(self.through.get(record.id, {}).items())
        ]
        model.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    def _write_snapshots(self, now):
        new, changed, touched = [], [], list(self.kept)
        for (_id, source, source_id), entry in self.snapshot_values.items():
            structure, values, fingerprint, remarks = entry
            place = place_digest(field_values(structure), self.through.get(structure.pk, ()))
            snapshot = self.snapshots.get(structure.pk, {}).get((source, source_id))
            if snapshot is None:
                new.append(
                    SourceSnapshot(
                        structure=structure,
                        source=source,
                        source_id=source_id,
                        values=values,
                        row_fingerprint=fingerprint,
                        place_fingerprint=place,
                        remarks=remarks,
                    )
                )
                continue
            kept = (snapshot.values, snapshot.row_fingerprint, snapshot.place_fingerprint)
            if kept != (values, fingerprint, place) or snapshot.remarks != remarks:
                snapshot.values, snapshot.imported_at = values, now
                snapshot.row_fingerprint, snapshot.place_fingerprint = fingerprint, place
                snapshot.remarks = remarks
                changed.append(snapshot)
            else:
                touched.append(snapshot.pk)
        SourceSnapshot.objects.bulk_create(new, batch_size=BATCH_SIZE)
        SourceSnapshot.objects.bulk_update(changed, SNAPSHOT_FIELDS, batch_size=BATCH_SIZE)
        for part in _chunks(touched, 5 * BATCH_SIZE):
            SourceSnapshot.objects.filter(pk__in=part).update(imported_at=now)


# The tables an import fills, whose statistics the searches' plans depend on.
ANALYZED = (Structure, Structure.kinds.through, Stop, SourceSnapshot)
# Rows SQLite reads per index to estimate it: ANALYZE then takes milliseconds
# at any size, and its estimates are as good for choosing between indexes.
SQLITE_ANALYSIS_LIMIT = 1000


def refresh_statistics():
    """ANALYZE the tables an import wrote, so that the planner knows their new size.

    PostgreSQL's autovacuum would do it some time later; SQLite never does, and
    without statistics it chose a worse index for the search page at 100,000
    places (11 ms became 52 ms). A failure is logged, not raised: the import is
    committed, and only the plans wait for the next one."""
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            for model in ANALYZED:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA analysis_limit = 0")
    except DatabaseError:
        logger.warning(
            "Statistiques du planificateur non rafraîchies après l’import.", exc_info=True
        )


SNAPSHOT_FIELDS = ["values", "imported_at", "row_fingerprint", "place_fingerprint", "remarks"]


@contextmanager
def server_binding():
    """On PostgreSQL, the bulk writes' values go apart from their SQL (server-side
    binding, psycopg's C adapters) while the import runs: Django's default binding
    quotes each value into the SQL text in Python, and an INSERT of 500 places
    (`bulk_create()` sends one array a column) cost more than checking them."""
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    ):
        yield
        return
    # The PostgreSQL backend, loaded only there.
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    previous, raw.cursor_factory = raw.cursor_factory, ServerBindingCursor
    try:
        yield
    finally:
        raw.cursor_factory = previous


def _update(structures, attnames):
    """`bulk_update()` of `attnames`, as one statement run for each place: Django's
    bulk_update builds a CASE per field and row, and costs more than the rows' checks."""
    if not structures:
        return
    meta = Structure._meta
    columns = [meta.get_field(name) for name in attnames]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(column.column)} = %s" for column in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [c.get_db_prep_save(getattr(s, c.attname), connection) for c in columns] + [s.pk]
                for s in structures
            ],
        )


def field_values(structure):
    """The place's stored values (attribute → value) but its modification date and
    `kind_ids` (its kinds, which `_write_kinds()` writes and digests apart)."""
    return {
        f.attname: getattr(structure, f.attname)
        for f in Structure._meta.concrete_fields
        if f.attname not in ("updated_at", "kind_ids")
    }


def place_digest(values, kinds):
    """The digest of a place's stored values (`field_values()`) and kinds (slugs)."""
    return digest([values, {KINDS: sorted(kinds)}])


def digest(data):
    """A short digest of JSON-like data (dates in UTC: the same instant, the same digest)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=_canonical)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _canonical(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).isoformat()
    return str(value)


@cache
def code_digest():
    """A digest of the code of the apps (`mediation`, `territories`): when the way rows
    are mapped or checked changes, no row is taken as unchanged from an older import."""
    root = Path(__file__).resolve().parents[2]
    hashed = hashlib.blake2b(digest_size=16)
    for path in sorted((*root.glob("mediation/**/*.py"), *root.glob("territories/**/*.py"))):
        hashed.update(str(path.relative_to(root)).encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()
