"""Versions of the directory's data, for the ETag / Last-Modified validators.

Cache validators must never lie: whatever a list, an export, the GeoJSON or the
map's markers show — a place, its stops, its kinds, its commune and the commune's
bassin — changing it, or deleting a place, must change them.

- Everything built from many places carries the version of the whole directory:
  one row (`DataVersion`) whose counter and date move after every committed
  change of those models, from any path (admin, API, forms, imports, fixtures).
  Reading it is one primary-key query, in every process, so a change made by
  another server shows at once. Its date is the `Last-Modified`, so a deletion
  moves it too (a maximum of `updated_at` would not).
- One place's detail carries `structure_etag()`: its history version (its own
  saves and its stops'), plus what it shows of other rows (kinds, commune,
  bassin). The API's `If-Match` on PATCH compares against the same function.

Writes that bypass model signals (`QuerySet.update()`, `bulk_create()`, raw SQL)
must call `data_changed()` themselves, as the communes' distances to help do
(territories/coverage.py): pages and lists show them too.

What kept per version may be carried over to the next one rather than built
again (the map's grid, mediation/markers.py) needs to know what a version's
transaction changed: its writers note it in `pending_changes()`, and the move
sends it with the previous and the new stamps (`version_moved`). A write that
says nothing of what it changed (`data_changed()` called directly) changed
everything, for all that is kept.
"""

import hashlib

from django.db import IntegrityError, connection, connections, models, router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal
from django.utils import timezone
from django.utils.http import quote_etag

from mediation.after_commit import once_after_commit, waiting

SINGLETON = 1
# Models whose rows a list, an export or a detail shows (`app_label.Model`).
WATCHED = (
    "mediation.Structure",
    "mediation.Stop",
    "mediation.ServiceType",
    "territories.Commune",
    "territories.BassinDeVie",
    "territories.Department",
    "territories.TerritoryProject",  # shown on its bassin's page
)


class DataVersion(models.Model):
    """The version of the published directory: a single row, moved by every change."""

    counter = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "mediation"
        verbose_name = "version des données"

    def __str__(self):
        return f"version {self.counter} du {self.changed_at:%d/%m/%Y %H:%M:%S}"


_READS = {}  # database alias → (sql, params, reading): the version row's statement


def _read(alias):
    """The version row of database `alias`, or None, by a statement compiled once per
    database: every list, export and page reads it, and building the ORM's query
    took several times longer than running it."""
    from mediation import statements  # mediation.models, which statements reads, imports us

    kept = _READS.get(alias)
    if kept is None:
        query = DataVersion.objects.filter(pk=SINGLETON).values_list("counter", "changed_at")
        compiler = query.query.get_compiler(using=alias)
        kept = _READS[alias] = (*compiler.as_sql(), statements.reader(compiler))
    sql, params, reading = kept
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    for counter, changed_at in statements.converted(fetched, reading, connection):
        return DataVersion.from_db(
            alias, ["id", "counter", "changed_at"], [SINGLETON, counter, changed_at]
        )
    return None


def _current():
    version = _read(router.db_for_read(DataVersion))
    if version is None:
        try:
            with transaction.atomic():
                version = DataVersion.objects.create(pk=SINGLETON, counter=1)
        except IntegrityError:  # created meanwhile by another request
            version = DataVersion.objects.get(pk=SINGLETON)
    return version


def _stamp(version):
    # The date in the stamp too: a restored or rebuilt database counts from 1 again.
    return f"{version.counter}:{version.changed_at.isoformat()}"


def stamp_counter(stamp):
    """The counter of a stamp (`_stamp`): which of two versions is the later."""
    return int(stamp.split(":", 1)[0])


def structures_version():
    """(stamp, last modified or None) of everything built from many places.

    `last modified` is left out while its second is not over: a change later in
    the same second would get the same HTTP date, and If-Modified-Since a 304.
    The ETag (`stamp`) still validates such a response.
    """
    version = _current()
    stamp = _stamp(version)
    changed_at = version.changed_at
    if int(changed_at.timestamp()) >= int(timezone.now().timestamp()):
        changed_at = None
    return stamp, changed_at


# Sent once the version has moved, with `previous` (the stamp it moved from, None
# when unknown), `stamp` (the new one) and `changes` (the `Changes` noted by the
# transaction, None for "anything may have changed"): what is kept per version
# may be prepared for the new one (mediation/markers.py keeps the map's grid ready).
version_moved = Signal()


class Changes:
    """What the current transaction changed, as its writers noted it: `positions`,
    (latitude, longitude) pairs where something shown on the map changed, and
    `structures`, ids of places changed (their stops are where they are shown
    too). Past `limit` notes, or once `everything()` is said, it holds "anything
    may have changed": a large write is carried over by building anew."""

    limit = 256

    def __init__(self):
        self.positions, self.structures, self.all = set(), set(), False

    def position(self, latitude, longitude):
        if not self.all and latitude is not None and longitude is not None:
            self.positions.add((float(latitude), float(longitude)))
            self._bounded()

    def structure(self, pk):
        if not self.all and pk is not None:
            self.structures.add(pk)
            self._bounded()

    def everything(self):
        self.all = True
        self.positions, self.structures = set(), set()

    def _bounded(self):
        if len(self.positions) + len(self.structures) > self.limit:
            self.everything()


def pending_changes():
    """The `Changes` this connection's current transaction has noted so far (or,
    outside a transaction, the write being made): the next move takes them."""
    changes = getattr(connection, "_version_changes", None)
    if changes is None:
        changes = connection._version_changes = Changes()
    return changes


def move_version():
    """Move the version now (tests call it: their transactions never commit).

    The changes noted since the last move go with it; none noted means that
    anything may have changed. The counter moves first, so the version it moved
    from is read under the row's lock: two moves at once each know their own.
    """
    changes, connection._version_changes = getattr(connection, "_version_changes", None), None
    if changes is not None and changes.all:
        changes = None
    previous = None
    try:
        with transaction.atomic():
            moved = DataVersion.objects.filter(pk=SINGLETON)
            if moved.update(counter=models.F("counter") + 1):
                before = moved.get()
                previous = f"{before.counter - 1}:{before.changed_at.isoformat()}"
                moved.update(changed_at=timezone.now())
            version = _current()
    except Exception:
        # The writes are committed but the version did not move: what they changed
        # is lost with the notes, so the next move says "anything may have".
        pending_changes().everything()
        raise
    version_moved.send(
        sender=DataVersion, previous=previous, stamp=_stamp(version), changes=changes
    )


def data_changed(*, map_unchanged=False, **kwargs):
    """Move the version once the current transaction commits.

    After commit, not before: a reader who sees the new version then also sees
    the new rows, and no writer holds a lock on the version row while it works.
    A rolled back transaction moves nothing. An import saving 10,000 rows in one
    transaction moves it once: every save queues the same pending move.

    Called directly (a bulk write, not a model's signal), anything may have
    changed, unless the caller says the map's places did not (`map_unchanged`).
    """
    if "signal" not in kwargs:
        changes = pending_changes()
        if not map_unchanged:
            changes.everything()
    once_after_commit("data_version", move_version)


def has_uncommitted_changes():
    """Whether this connection changed watched rows in a transaction not yet committed.

    Its own reads see those rows, but the version has not moved yet: anything kept
    per version (mediation/response_cache.py) must be computed afresh meanwhile.
    """
    return waiting("data_version")


def _m2m_changed(action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        data_changed(signal=m2m_changed)


for _model in WATCHED:
    post_save.connect(data_changed, sender=_model, dispatch_uid=f"version-save-{_model}")
    post_delete.connect(data_changed, sender=_model, dispatch_uid=f"version-delete-{_model}")
m2m_changed.connect(
    _m2m_changed, sender="mediation.Structure_kinds", dispatch_uid="version-structure-kinds"
)


def structure_etag(structure):
    """The quoted ETag of one place's detail, and the version `If-Match` must name.

    "<history token>.<digest>": the history token (see mediation.space.history)
    moves with every save of the place or of its stops; the digest covers what
    the detail shows of other rows — kinds, commune, bassin, the stops' communes.
    """
    from mediation.space.history import version_token

    commune = structure.commune
    shown = [
        structure.pk,
        structure.updated_at.isoformat() if structure.updated_at else "",
        sorted(structure.kinds.values_list("slug", flat=True)),
        [commune.pk, commune.name, commune.department_id, commune.bassin.slug] if commune else None,
        sorted(structure.stops.values_list("pk", "commune__name")),
    ]
    digest = hashlib.sha1(repr(shown).encode()).hexdigest()[:12]
    return quote_etag(f"{version_token(structure)}.{digest}")
