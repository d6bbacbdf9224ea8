"""`make run` loads the data on every start: the second time changes nothing."""

import pytest
from django.core.management import call_command

from mediation.models import ServiceType, Stop, Structure
from territories.models import BassinDeVie, Commune, Department

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "departments": Department.objects.count(),
        "bassins": BassinDeVie.objects.count(),
        "communes": Commune.objects.count(),
        "kinds": ServiceType.objects.count(),
        "structures": sorted(Structure.objects.values_list("uid", "updated_at")),
        "stops": Stop.objects.count(),
        "history": Structure.history.count(),
    }


def test_loading_twice_changes_nothing():
    call_command("load_initial_data", verbosity=0)
    first = snapshot()
    assert first["departments"] == 6
    assert first["bassins"] == 23
    assert first["communes"] == 1754
    assert first["kinds"] == 7
    assert len(first["structures"]) == 293

    call_command("load_initial_data", verbosity=0)
    assert snapshot() == first


def test_loading_keeps_an_administrators_correction():
    commune = Commune.objects.get(pk="18279")
    other = BassinDeVie.objects.exclude(pk=commune.bassin_id).first()
    commune.bassin = other
    commune.save()
    call_command("load_initial_data", verbosity=0)
    commune.refresh_from_db()
    assert commune.bassin == other


def test_demo_data_is_not_loaded_over_real_data():
    from tests.factories import StructureFactory

    StructureFactory(source="hub-lo", source_id="1")
    call_command("load_initial_data", verbosity=0)
    assert Structure.objects.count() == 1
    assert not Structure.objects.demo().exists()
