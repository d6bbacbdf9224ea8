"""A commune moved to another bassin changes what its places show: a partner syncing
with updated_since fetches them again."""

import pytest
from django.utils import timezone

from territories.models import BassinDeVie
from tests.factories import StructureFactory, commune

pytestmark = pytest.mark.django_db


def test_places_of_a_commune_moved_to_another_bassin_are_listed_by_updated_since(client):
    place = StructureFactory(name="EPN de Vatan", commune=commune("36230"))
    other = StructureFactory(name="EPN d’Orléans", commune=commune("45234"))
    since = timezone.now().isoformat()
    listed = client.get("/api/v1/structures/", {"updated_since": since}).json()
    assert listed["count"] == 0

    vatan = commune("36230")
    vatan.bassin = BassinDeVie.objects.exclude(pk=vatan.bassin_id).order_by("pk").first()
    vatan.save()  # as the admin does
    listed = client.get("/api/v1/structures/", {"updated_since": since}).json()
    assert [item["id"] for item in listed["results"]] == [place.uid]
    assert listed["results"][0]["bassin_de_vie"] == vatan.bassin.slug
    assert other.uid not in {item["id"] for item in listed["results"]}
