"""Loading real data never deletes people's work on demo places without saying so."""

import json

import pytest
from django.core.management import CommandError, call_command

from mediation.importers import DemoWorkError, run_import
from mediation.models import ErrorReport, Membership, Structure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def census_extract(hub_lo_path, tmp_path):
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps(json.loads(hub_lo_path.read_text())[:3]))
    return path


@pytest.fixture
def demo_with_work():
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    demo = list(Structure.objects.demo().order_by("uid")[:3])
    Membership.objects.create(user=UserFactory(), structure=demo[0])
    demo[1].phone = "+33254000000"
    demo[1].save()
    ErrorReport.objects.create(structure=demo[2], message="Fermé le lundi")
    return demo


def test_an_import_refuses_to_delete_demo_places_people_worked_on(census_extract, demo_with_work):
    with pytest.raises(DemoWorkError) as refused:
        run_import(census_extract)
    lost = refused.value.lost
    assert f"{demo_with_work[0].name} : 1 médiateur" in lost
    assert f"{demo_with_work[1].name} : 1 modification" in lost
    assert f"{demo_with_work[2].name} : 1 signalement" in lost
    assert len(lost) == 3
    assert Structure.objects.count() == Structure.objects.demo().count() == 293
    assert Membership.objects.count() == 1


def test_the_command_lists_what_would_be_lost_and_replace_demo_goes_ahead(
    census_extract, demo_with_work, capsys
):
    with pytest.raises(CommandError, match="--replace-demo"):
        call_command("import_structures", str(census_extract))
    assert f"{demo_with_work[0].name} : 1 médiateur" in capsys.readouterr().err
    assert Structure.objects.demo().count() == 293

    call_command("import_structures", str(census_extract), "--replace-demo")
    assert "293 structures de démonstration supprimées" in capsys.readouterr().out
    assert not Structure.objects.demo().exists()
    assert Structure.objects.count() == 3
    assert not Membership.objects.exists()


def test_untouched_demo_places_are_replaced_without_asking(census_extract):
    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    report = run_import(census_extract)
    assert report.demo_removed == 293
    assert Structure.objects.count() == 3
