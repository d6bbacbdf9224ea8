"""The demonstration data: 293 fictitious structures shaped like the regional census."""

import csv
import json
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from mediation import demo
from mediation.models import Stop, Structure
from mediation.opening_hours import validate_opening_hours

SHARED_DATA = settings.BASE_DIR.parent / "shared" / "data"
FIXTURES = settings.BASE_DIR / "fixtures"
DEMO_FIXTURE = FIXTURES / "demo_structures.json"

needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "hub-lo" / "hub-lo.json").is_file(),
    reason="../shared/data (recensement Hub-LO, table des communes) absent de ce poste ; "
    "ces tests tournent en CI.",
)


@pytest.fixture(scope="module")
def sources():
    with (SHARED_DATA / "territories" / "communes_bassins.csv").open(encoding="utf-8") as handle:
        communes = list(csv.DictReader(handle))
    census = json.loads((SHARED_DATA / "hub-lo" / "hub-lo.json").read_text(encoding="utf-8"))
    facts = demo.load_commune_facts(territories_fixture=FIXTURES / "territories.json")
    return demo.with_commune_facts(communes, facts), census


def structures_of(objects):
    return [obj for obj in objects if obj["model"] == "mediation.structure"]


@needs_shared_data
def test_generator_is_deterministic_and_follows_the_census_mix(sources):
    communes, census = sources
    first = demo.build_demo_fixture(communes=communes, census=census)
    second = demo.build_demo_fixture(communes=communes, census=census)
    assert first == second

    structures = structures_of(first)
    assert len(structures) == 293
    produced = Counter(kind for obj in structures for kind in obj["fields"]["kinds"])
    for kind, expected in demo.expected_kind_counts(census).items():
        assert abs(produced[kind] - expected) <= 2, (kind, produced[kind], expected)
    several = sum(len(obj["fields"]["kinds"]) > 1 for obj in structures)
    assert 0.10 * 293 <= several <= 0.15 * 293


@needs_shared_data
def test_each_bassin_gets_its_census_share(sources):
    communes, census = sources
    bassin_of = {row["code_insee"]: row["bassin"] for row in communes}
    structures = structures_of(demo.build_demo_fixture(communes=communes, census=census))
    produced = Counter(bassin_of[obj["fields"]["commune"]] for obj in structures)
    named = [row["c_bassin_de_vie"] for row in census if row["c_bassin_de_vie"]]
    for bassin, count in Counter(named).items():
        assert abs(produced[bassin] - 293 * count / len(named)) < 1, bassin


@needs_shared_data
def test_committed_fixture_is_what_the_command_writes(tmp_path):
    output = tmp_path / "demo.json"
    call_command("build_demo_fixture", source=SHARED_DATA, output=output, verbosity=0)
    assert output.read_bytes() == DEMO_FIXTURE.read_bytes(), (
        "fixtures/demo_structures.json est périmé : relancez `python manage.py build_demo_fixture`."
    )


def test_command_explains_missing_sources(tmp_path):
    with pytest.raises(CommandError, match="introuvables"):
        call_command("build_demo_fixture", source=tmp_path, output=tmp_path / "out.json")


@pytest.mark.django_db
def test_demo_fixture_loads_into_a_consistent_directory():
    call_command(
        "loaddata",
        FIXTURES / "service_types.json",
        FIXTURES / "territories.json",
        DEMO_FIXTURE,
        verbosity=0,
    )
    structures = Structure.objects.select_related("commune__department")
    assert structures.count() == 293
    assert structures.published().count() == 293
    assert structures.demo().count() == 293

    for structure in structures:
        commune = structure.commune
        assert commune.department_id == structure.postal_code[:2], structure
        assert structure.postal_code in commune.postal_codes, structure
        assert abs(structure.latitude - commune.latitude) < 0.05, structure
        assert abs(structure.longitude - commune.longitude) < 0.05, structure
        validate_opening_hours(structure.opening_hours)
    for stop in Stop.objects.select_related("commune", "structure__commune"):
        validate_opening_hours(stop.opening_hours)
        assert stop.commune.department_id == stop.structure.commune.department_id

    with_stops = Structure.objects.filter(stops__isnull=False).distinct()
    assert with_stops.exists()
    assert all(s.itinerance == ["Itinérant"] for s in with_stops)
    several_kinds = [s for s in structures.prefetch_related("kinds") if s.kinds.count() > 1]
    assert several_kinds
    assert structures.exclude(labels=[]).exists()
    assert structures.filter(wheelchair_accessible=True).exists()
    assert structures.filter(national_programmes__has="France Services").exists()
