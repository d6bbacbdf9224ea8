"""factory_boy factories with French fake data."""

import factory
from factory.django import DjangoModelFactory

from mediation.choices import Status
from mediation.models import ServiceType, Stop, Structure, User
from territories.models import Commune


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Faker("email", locale="fr_FR")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("un mot de passe solide 2026")


def commune(code_insee="36044"):
    """A real commune from the loaded fixture (Châteauroux by default)."""
    return Commune.objects.get(pk=code_insee)


class StructureFactory(DjangoModelFactory):
    class Meta:
        model = Structure
        skip_postgeneration_save = True

    name = factory.Faker("company", locale="fr_FR")
    address = factory.Faker("street_address", locale="fr_FR")
    commune = factory.LazyFunction(commune)
    postal_code = factory.LazyAttribute(lambda o: o.commune.postal_codes[0] if o.commune else "")
    city = factory.LazyAttribute(lambda o: o.commune.name if o.commune else "")
    code_insee = factory.LazyAttribute(lambda o: o.commune.code_insee if o.commune else "")
    latitude = factory.LazyAttribute(lambda o: o.commune.latitude if o.commune else 47.2)
    longitude = factory.LazyAttribute(lambda o: o.commune.longitude if o.commune else 2.0)
    phone = "+33254000000"
    opening_hours = "Mo-Fr 09:00-12:00,14:00-17:00"
    status = Status.PUBLISHED

    @factory.post_generation
    def kinds(self, create, extracted, **kwargs):
        if create:
            self.kinds.set(extracted or [ServiceType.objects.get(slug="espace-public-numerique")])


class StopFactory(DjangoModelFactory):
    class Meta:
        model = Stop

    structure = factory.SubFactory(StructureFactory)
    place = "Place de la mairie"
    commune = factory.LazyFunction(lambda: commune("36018"))
    latitude = factory.LazyAttribute(lambda o: o.commune.latitude)
    longitude = factory.LazyAttribute(lambda o: o.commune.longitude)
    opening_hours = "We[1] 09:00-12:00"


def api_key(user, name="Outil de test"):
    """A new API token of `user`, as the key a partner sends."""
    from mediation.api_tokens import ApiToken

    return ApiToken.issue(user=user, name=name)[1]
