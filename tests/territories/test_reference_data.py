"""The committed territory fixture describes the whole region, and nothing else."""

import pytest

from territories.models import BassinDeVie, Commune, Department

pytestmark = pytest.mark.django_db

# Région Centre-Val de Loire, with a small margin.
LAT_MIN, LAT_MAX = 46.3, 48.95
LON_MIN, LON_MAX = 0.0, 3.15


def test_counts():
    assert Department.objects.count() == 6
    assert BassinDeVie.objects.count() == 23
    assert Commune.objects.count() == 1754


def test_departments_of_the_region():
    assert sorted(Department.objects.values_list("code", flat=True)) == [
        "18",
        "28",
        "36",
        "37",
        "41",
        "45",
    ]


def test_every_commune_has_a_bassin_and_a_point_in_the_region():
    for commune in Commune.objects.all():
        assert commune.bassin_id, commune
        assert LAT_MIN < commune.latitude < LAT_MAX, commune
        assert LON_MIN < commune.longitude < LON_MAX, commune
        assert commune.postal_codes, commune
        assert commune.code_insee[:2] == commune.department_id


def test_every_bassin_has_its_pole_communes_and_an_outline():
    for bassin in BassinDeVie.objects.prefetch_related("poles"):
        poles = list(bassin.poles.all())
        assert poles, bassin
        assert all(pole.bassin_id == bassin.pk for pole in poles), bassin
        assert bassin.outline["type"] in {"Polygon", "MultiPolygon"}
        assert bassin.presentation


def test_argenton_le_blanc_has_two_poles():
    bassin = BassinDeVie.objects.get(name__startswith="Argenton")
    assert bassin.poles.count() == 2


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("chateauroux", "Châteauroux"),
        ("CHÂTEAUROUX", "Châteauroux"),
        ("st amand montrond", "Saint-Amand-Montrond"),
        ("saint-amand", "Saint-Amand-Montrond"),
        ("36000", "Châteauroux"),
    ],
)
def test_communes_are_found_the_way_people_type_them(typed, expected):
    assert expected in {c.name for c in Commune.objects.matching(typed)}


def test_outlines_stay_light():
    """Every outline together must stay under 300 KB so that maps load on slow lines."""
    import json

    size = sum(
        len(json.dumps(outline, separators=(",", ":")))
        for model in (BassinDeVie, Department)
        for outline in model.objects.values_list("outline", flat=True)
    )
    assert size < 300_000
