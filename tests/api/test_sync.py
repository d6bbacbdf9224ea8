"""A partner's mirror built only from incremental syncs equals the full export.

Replays what happens to a directory between syncs — creations, edits,
archives, publications again, deletions, a place re-created under its id —
and after each round compares the mirror with a full read, for the list and
for the national standard's JSON export, on SQLite and PostgreSQL alike.
"""

import json

import pytest
from django.utils import timezone

from mediation import choices
from mediation.models import Structure
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/structures/"
EXPORT = "/api/v1/lieux-mediation-numerique.json"
WITHDRAWALS = "/api/v1/structures/retraits/"


def read_all(client, url, params=None):
    """Every record of a list (following pages) or an export."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    data = json.loads(response.getvalue())
    if isinstance(data, list):
        return data
    records = data["results"]
    while data["next"]:
        data = client.get(data["next"]).json()
        records += data["results"]
    return records


class Mirror:
    """What a partner keeps: records by id, brought up to date by `sync()`."""

    def __init__(self, client, url):
        self.client, self.url, self.records, self.since = client, url, {}, None

    def sync(self):
        started = timezone.now()
        since = {"updated_since": self.since.isoformat()} if self.since else {}
        paging = {"page_size": 2} if self.url == LIST else {}
        for record in read_all(self.client, self.url, since | paging):
            self.records[record["id"]] = record
        for gone in read_all(self.client, WITHDRAWALS, since | {"page_size": 2}):
            self.records.pop(gone["id"], None)
        self.since = started

    def full(self):
        return {record["id"]: record for record in read_all(self.client, self.url)}


def edit(place, **changes):
    for name, value in changes.items():
        setattr(place, name, value)
    place.save()


def rounds():
    """Each round changes the directory; the mirrors sync after each."""
    places = {}

    def create():
        for i in range(5):
            places[i] = StructureFactory(uid=f"lieu-{i}", name=f"Lieu {i}")
        StructureFactory(uid="brouillon", status=choices.Status.DRAFT)

    def edit_some():
        edit(places[0], name="Lieu 0 renommé", phone="+33247000000")
        edit(places[1], opening_hours="Mo 09:00-12:00", opening_hours_note="Sur rendez-vous")

    def archive_and_delete():
        edit(places[2], status=choices.Status.ARCHIVED)
        places[3].delete()
        StructureFactory(uid="nouveau", name="Nouveau lieu")

    def publish_again_and_recreate():
        edit(places[2], status=choices.Status.PUBLISHED, name="Lieu 2 de retour")
        StructureFactory(uid="lieu-3", name="Lieu 3 recréé")
        edit(Structure.objects.get(uid="brouillon"), status=choices.Status.PUBLISHED)

    def unpublish_and_delete_everything_else():
        edit(places[0], status=choices.Status.DRAFT)
        Structure.objects.filter(uid__in=["lieu-4", "nouveau"]).delete()

    return [
        create,
        edit_some,
        archive_and_delete,
        publish_again_and_recreate,
        unpublish_and_delete_everything_else,
    ]


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_a_mirror_of_incremental_syncs_equals_the_full_read(client, url):
    mirror = Mirror(client, url)
    mirror.sync()  # empty directory
    for change in rounds():
        change()
        mirror.sync()
        assert mirror.records == mirror.full(), change.__name__
    assert sorted(mirror.records) == ["brouillon", "lieu-1", "lieu-2", "lieu-3"]
