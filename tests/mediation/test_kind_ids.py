"""Each place's `kind_ids`, the column the kind filter reads (issue 14), says what
the kinds' table says, whatever path changed the kinds."""

import pytest

from mediation.importers import Outcome, run_import
from mediation.models import ServiceType, Structure, refresh_kind_ids
from tests.factories import StructureFactory
from tests.importers.test_standard import place, write_csv

pytestmark = pytest.mark.django_db


def kind(slug):
    return ServiceType.objects.get(slug=slug)


def stored(structure):
    """The place's `kind_ids` as the database holds it, as ints."""
    return sorted(
        int(pk) for pk in Structure.objects.values_list("kind_ids", flat=True).get(pk=structure.pk)
    )


def found(*slugs):
    return set(Structure.objects.of_kinds(slugs).values_list("name", flat=True))


def test_a_places_kinds_added_removed_set_and_cleared():
    epn, mediatheque = kind("espace-public-numerique"), kind("mediatheque")
    library = StructureFactory(name="Bibliothèque", kinds=[mediatheque])
    assert stored(library) == [mediatheque.pk]
    library.kinds.add(epn)
    assert stored(library) == sorted([epn.pk, mediatheque.pk])
    assert found("espace-public-numerique") == found("mediatheque") == {"Bibliothèque"}
    library.kinds.remove(mediatheque)
    assert stored(library) == [epn.pk]
    assert found("mediatheque") == set()
    library.kinds.set([mediatheque])
    assert stored(library) == [mediatheque.pk]
    library.kinds.clear()
    assert stored(library) == []
    assert library.kind_ids == []  # the copy in memory follows, for its next save


def test_a_kind_deleted_leaves_its_places():
    coworking = kind("coworking")
    office = StructureFactory(name="Bureau partagé", kinds=[coworking, kind("fablab-makerspace")])
    coworking.delete()
    assert stored(office) == [kind("fablab-makerspace").pk]


def test_saving_a_copy_read_before_a_change_of_kinds_keeps_the_new_kinds():
    # A form saves the place after another request changed its kinds.
    epn, mediatheque = kind("espace-public-numerique"), kind("mediatheque")
    place_ = StructureFactory(name="Médiathèque", kinds=[epn])
    stale = Structure.objects.get(pk=place_.pk)
    place_.kinds.set([mediatheque])
    stale.phone = "02 54 00 00 01"
    stale.save()
    assert stored(place_) == [mediatheque.pk]
    assert found("mediatheque") == {"Médiathèque"}


def test_either_of_two_kinds():
    StructureFactory(name="Club", kinds=[kind("club-informatique")])
    StructureFactory(name="Atelier", kinds=[kind("fablab-makerspace")])
    StructureFactory(name="Espace", kinds=[kind("espace-public-numerique")])
    assert found("club-informatique", "fablab-makerspace") == {"Club", "Atelier"}
    assert found("no-such-kind") == set()


def test_an_import_writes_the_kinds_it_brings(tmp_path):
    path = write_csv(
        tmp_path / "lieux.csv",
        [place(), place(id="lieu-2", nom="Mairie", dispositif_programmes_nationaux="")],
    )
    report = run_import(path)
    assert report.count(Outcome.CREATED) == 2
    france_services = kind("france-services")
    imported = Structure.objects.get(uid="lieu-1")
    assert stored(imported) == [france_services.pk]
    assert found("france-services") == {imported.name}
    again = run_import(path)  # nothing changed: nothing to write
    assert again.count(Outcome.UNCHANGED) == 2


def test_refreshing_every_place_rebuilds_the_column_from_the_kinds_table():
    # What the migration that made the column does on a filled base.
    epn = kind("espace-public-numerique")
    first, second = StructureFactory(kinds=[epn]), StructureFactory(kinds=[kind("mediatheque")])
    Structure.objects.update(kind_ids="")
    assert stored(first) == stored(second) == []
    refresh_kind_ids()
    assert stored(first) == [epn.pk]
    assert stored(second) == [kind("mediatheque").pk]


def test_a_fixture_loaded_again_keeps_the_kind_ids():
    # loaddata writes the row as the file has it (no kind_ids), and its kinds
    # unchanged send no signal: the saved row must not lose its kind_ids.
    from django.core import serializers

    mediatheque = kind("mediatheque")
    library = StructureFactory(kinds=[mediatheque])
    document = serializers.serialize("python", [library])
    del document[0]["fields"]["kind_ids"]
    for loaded in serializers.deserialize("python", document):
        loaded.save()
    assert stored(library) == [mediatheque.pk]
