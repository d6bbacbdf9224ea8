"""`manage.py data_quality`: what a coordinator reads before trusting the directory."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mediation import choices, quality
from mediation.kind_check import kinds_to_check
from mediation.models import ServiceType, Structure
from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db


def kind(slug):
    return ServiceType.objects.get(slug=slug)


@pytest.fixture
def issoudun_places():
    """Four published places around Issoudun (bassin Issoudun) and one draft."""
    issoudun = commune("36088")
    StructureFactory(
        name="France Services Issoudun",
        commune=issoudun,
        services=[choices.Service.DEMARCHES],
        verified_at=timezone.now() - timedelta(days=30),
        kinds=[kind("france-services")],
    )
    StructureFactory(name="MSAP Vatan", commune=commune("36230"), phone="", opening_hours="")
    StructureFactory(
        name="Médiathèque Albert Camus",
        commune=issoudun,
        verified_at=timezone.now() - timedelta(days=800),
        kinds=[kind("mediatheque")],
    )
    StructureFactory(name="Club informatique", commune=issoudun, opening_hours="")
    StructureFactory(name="Brouillon", commune=issoudun, status=choices.Status.DRAFT)
    return issoudun


def test_figures_per_bassin_add_up_to_the_region(issoudun_places):
    report = quality.measure()
    bassin = next(f for f in report.bassins if f.territory == issoudun_places.bassin.name)
    assert bassin.places == 4  # the draft is not counted
    assert bassin.with_service == 1
    assert bassin.with_hours == 2
    assert bassin.with_phone == 3
    assert bassin.verified_recently == 1
    assert bassin.share("with_service") == 25.0
    # "MSAP Vatan" is listed as an EPN: its kind is to be checked.
    assert bassin.kinds_to_check == 1
    assert report.region.places == sum(f.places for f in report.bassins) == 4
    assert len(report.bassins) == 23


def test_probable_duplicates_are_counted_in_their_bassin(issoudun_places):
    StructureFactory(
        name="FRANCE SERVICES ISSOUDUN",
        commune=issoudun_places,
        address=Structure.objects.get(name="France Services Issoudun").address,
        source="autre source",
    )
    report = quality.measure()
    bassin = next(f for f in report.bassins if f.territory == issoudun_places.bassin.name)
    assert bassin.duplicates == 1
    assert report.region.duplicates == 1


def test_personal_looking_contacts_are_counted_until_confirmed(issoudun_places):
    mobile = StructureFactory(
        name="Atelier chez Martine", commune=issoudun_places, phone="+33612345678"
    )
    StructureFactory(name="Club du mardi", commune=issoudun_places, emails=["club.mardi@gmail.com"])
    bassin = next(
        f for f in quality.measure().bassins if f.territory == issoudun_places.bassin.name
    )
    assert bassin.personal_contacts == 2
    Structure.objects.filter(pk=mobile.pk).update(public_contact_confirmed=True)
    report = quality.measure()
    assert report.region.personal_contacts == 1
    out = io.StringIO()
    call_command("data_quality", stdout=out)
    assert "contacts personnels ? (à confirmer) : 1" in out.getvalue()


def test_command_prints_text_and_csv(issoudun_places, tmp_path):
    out = io.StringIO()
    call_command("data_quality", stdout=out)
    text = out.getvalue()
    assert "Issoudun — 4 lieux publiés" in text
    assert "avec au moins un service : 1 (25.0 %)" in text
    assert "Région Centre-Val de Loire — 4 lieux publiés" in text

    path = tmp_path / "qualite.csv"
    call_command("data_quality", csv=str(path), stdout=io.StringIO())
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 24  # 23 bassins and the region
    region = rows[-1]
    assert region["territoire"] == "Région Centre-Val de Loire"
    assert region["lieux_publies"] == "4"
    assert region["part_avec_service"] == "25.0"
    assert region["types_a_verifier"] == "1"
    assert region["contacts_personnels_a_confirmer"] == "0"


@pytest.mark.parametrize(
    ("name", "kinds", "expected"),
    [
        ("MSAP BOULLERET", ["promeneur-du-net"], ["france-services"]),
        ("MSAP BOULLERET", ["france-services", "promeneur-du-net"], []),
        ("Maison France Services de Lignières", ["espace-public-numerique"], ["france-services"]),
        ("BIBLIOTHÈQUE LE PATIO", ["espace-public-numerique"], ["mediatheque"]),
        ("Médiathèque Équinoxe", ["mediatheque"], []),
        ("Co-working de la gare", ["fablab-makerspace"], ["coworking"]),
        ("CAMSAP", ["espace-public-numerique"], []),  # a word inside a word is not a kind
    ],
)
def test_a_name_that_contradicts_the_kind_is_to_be_checked(name, kinds, expected):
    assert kinds_to_check(name, kinds) == expected
    place = StructureFactory(name=name, kinds=[kind(slug) for slug in kinds])
    assert Structure.objects.kind_to_check().filter(pk=place.pk).exists() == bool(expected)
