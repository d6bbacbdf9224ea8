"""Rules a structure must follow whatever the path that writes it."""

import pytest
from django.core.exceptions import ValidationError

from mediation.choices import Public, Service
from mediation.models import Structure
from tests.factories import StopFactory, StructureFactory

pytestmark = pytest.mark.django_db


def test_commune_and_bassin_are_derived_from_the_insee_code():
    structure = StructureFactory.build(commune=None, code_insee="18279", postal_code="18100")
    structure.save()
    assert structure.commune.name == "Vierzon"
    assert structure.bassin.name == "Vierzon"


def test_commune_is_derived_from_postal_code_and_name_when_insee_code_is_missing():
    structure = StructureFactory.build(
        commune=None, code_insee="", postal_code="18200", city="ST AMAND MONTROND"
    )
    structure.save()
    assert structure.commune.name == "Saint-Amand-Montrond"
    assert structure.code_insee == "18197"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "3600", "5 chiffres"),
        ("postal_code", "ABCDE", "5 chiffres"),
        ("code_insee", "360440", "code INSEE"),
        ("code_insee", "2C001", "code INSEE"),
        ("opening_hours", "lundi 9h-12h", "Horaires illisibles"),
        ("latitude", 91.0, "latitude"),
        ("longitude", -181.0, "longitude"),
    ],
)
def test_bad_values_are_refused_with_a_french_message(field, value, message):
    structure = StructureFactory.build(**{field: value})
    with pytest.raises(ValidationError) as error:
        structure.save()
    assert message in str(error.value)
    assert not Structure.objects.filter(name=structure.name).exists()
    # Forms and the admin say the same thing through full_clean().
    with pytest.raises(ValidationError) as error:
        structure.full_clean()
    assert field in error.value.message_dict


def test_valid_opening_hours_are_accepted():
    structure = StructureFactory(opening_hours="Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00")
    structure.full_clean()


def test_stop_opening_hours_are_validated():
    with pytest.raises(ValidationError):
        StopFactory(opening_hours="chaque premier mercredi")


def test_multi_valued_fields_filter_on_every_database():
    both = StructureFactory(
        services=[Service.DEMARCHES, Service.OUTILS_QUOTIDIEN], publics=[Public.SENIORS]
    )
    one = StructureFactory(services=[Service.OUTILS_QUOTIDIEN])
    StructureFactory(services=[])

    assert set(Structure.objects.filter(services__has=Service.OUTILS_QUOTIDIEN)) == {both, one}
    assert list(Structure.objects.filter(services__has=Service.DEMARCHES)) == [both]
    assert list(Structure.objects.filter(publics__has="Seniors")) == [both]
    # A value is matched whole, never as a part of another one.
    assert not Structure.objects.filter(services__has="Aide").exists()
    both.refresh_from_db()
    assert both.services == [Service.DEMARCHES, Service.OUTILS_QUOTIDIEN]


def test_multi_valued_field_refuses_values_outside_the_standard():
    structure = StructureFactory.build(services=["Cours de cuisine"])
    with pytest.raises(ValidationError) as error:
        structure.full_clean()
    assert "ne fait pas partie des valeurs possibles" in str(error.value)


def test_source_identifier_is_unique_within_a_source():
    StructureFactory(source="hub-lo", source_id="42")
    StructureFactory(source="autre", source_id="42")
    with pytest.raises(ValidationError):
        StructureFactory.build(source="hub-lo", source_id="42").validate_constraints()


def test_slugs_are_unique():
    a = StructureFactory(name="Espace numérique", city="Vierzon")
    b = StructureFactory(name="Espace numérique", city="Vierzon")
    assert a.slug != b.slug


def test_changes_are_recorded_in_the_history():
    structure = StructureFactory(name="Avant")
    structure.name = "Après"
    structure.save()
    latest = structure.history.first()
    diff = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in diff.changes] == [("name", "Avant", "Après")]
