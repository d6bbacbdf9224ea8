"""Partners learn of the places that left the directory.

A partner mirroring the directory asks `/api/v1/structures/?updated_since=T`
for what was created or changed since T, and `/api/v1/structures/retraits/
?updated_since=T` for what left it since T: one record per place, `{"id",
"statut", "date"}`, where `statut` is

- `supprime`: deleted (a `Tombstone` row, written when the place is deleted);
- `archive`: archived by a coordinator, the place still exists but is not shown;
- `non_publie`: back to draft (or not yet published): not shown either.

A place published again appears in the list again (its `modifie_le` moves) and
no longer among the withdrawals, so a mirror that applies both answers, in this
order, equals the full list (tests/api/test_sync.py replays it).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from mediation import choices
from mediation.models import Structure, Tombstone

DELETED, ARCHIVED, UNPUBLISHED = "supprime", "archive", "non_publie"
STATUS_OF = {choices.Status.ARCHIVED: ARCHIVED}


@dataclass(frozen=True)
class Withdrawal:
    uid: str
    status: str
    date: datetime

    def as_json(self):
        return {"id": self.uid, "statut": self.status, "date": self.date.isoformat()}


def withdrawals(since=None):
    """Places withdrawn (deleted, archived, unpublished) since `since`, oldest first."""
    tombstones = Tombstone.objects.all()
    hidden = Structure.objects.exclude(status=choices.Status.PUBLISHED)
    if since is not None:
        tombstones = tombstones.filter(deleted_at__gte=since)
        hidden = hidden.filter(updated_at__gte=since)
    found = [
        Withdrawal(uid, DELETED, date) for uid, date in tombstones.values_list("uid", "deleted_at")
    ]
    found += [
        Withdrawal(uid, STATUS_OF.get(status, UNPUBLISHED), date)
        for uid, status, date in hidden.values_list("uid", "status", "updated_at")
    ]
    return sorted(found, key=lambda w: (w.date, w.uid))


def withdrawal_of(uid):
    """The withdrawal of the place `uid` if it was deleted or archived, else None."""
    tombstone = Tombstone.objects.filter(uid=uid).first()
    if tombstone is not None:
        return Withdrawal(uid, DELETED, tombstone.deleted_at)
    archived = Structure.objects.filter(uid=uid, status=choices.Status.ARCHIVED).first()
    if archived is not None:
        return Withdrawal(uid, ARCHIVED, archived.updated_at)
    return None


@receiver(post_delete, sender=Structure, dispatch_uid="tombstone-on-delete")
def bury(sender, instance, **kwargs):
    Tombstone.objects.update_or_create(uid=instance.uid, defaults={"deleted_at": timezone.now()})


@receiver(post_save, sender=Structure, dispatch_uid="tombstone-on-save")
def revive(sender, instance, **kwargs):
    Tombstone.objects.filter(uid=instance.uid).delete()
