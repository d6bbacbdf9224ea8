"""The coordinator's dashboard: what needs doing in their bassins, each a link to act."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mediation.memberships import Coordination
from mediation.models import ErrorReport, Structure
from territories import coverage
from tests.factories import StructureFactory, UserFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    user = UserFactory(email="coordination@issoudun.example")
    Coordination.objects.create(user=user, bassin=commune("36088").bassin)
    return user


def old(structure, *, years=2):
    then = timezone.now() - timedelta(days=365 * years)
    Structure.objects.filter(pk=structure.pk).update(created_at=then, verified_at=then)
    return structure


def test_dashboard_lists_what_needs_doing_in_the_coordinators_bassins(client, coordinator):
    stale = old(StructureFactory(name="Lieu vérifié en 2024", commune=commune("36088")))
    fresh = StructureFactory(
        name="Lieu à jour", commune=commune("36088"), verified_at=timezone.now()
    )
    no_hours = StructureFactory(
        name="Lieu sans horaires",
        commune=commune("36171"),
        opening_hours="",
        verified_at=timezone.now(),
    )
    no_phone = StructureFactory(
        name="Lieu sans téléphone", commune=commune("36230"), phone="", verified_at=timezone.now()
    )
    elsewhere = old(StructureFactory(name="Lieu d’Orléans", commune=commune("45234")))
    ErrorReport.objects.create(structure=fresh, message="Le numéro a changé.")
    coverage.compute()
    client.force_login(coordinator)
    response = client.get("/espace/tableau-de-bord/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert f'href="/espace/structures/{stale.pk}/modifier/">Lieu vérifié en 2024</a>' in page
    assert "Lieu à jour</a>, Issoudun — " not in page  # verified: not to verify
    assert f'href="/espace/structures/{no_hours.pk}/modifier/">Lieu sans horaires</a>' in page
    assert f'href="/espace/structures/{no_phone.pk}/modifier/">Lieu sans téléphone</a>' in page
    assert elsewhere.name not in page
    assert "1 signalement d’erreur à traiter" in page
    assert "Lancer la campagne de mise à jour" in page
    far = coverage.portrait(commune("36088").bassin).zones_blanches
    assert far, "the Issoudun bassin has communes more than 10 km from these few places"
    assert far[0].commune.name in page
    assert f'href="/territoires/communes/{far[0].commune_id}/affiche.pdf"' in page
    assert 'href="/espace/tableau-de-bord/"' in client.get("/espace/").content.decode()


def test_dashboard_is_for_coordinators_only(client):
    client.force_login(UserFactory(email="mediatrice@exemple.fr"))
    assert client.get("/espace/tableau-de-bord/").status_code == 403
    client.logout()
    assert client.get("/espace/tableau-de-bord/").status_code == 302
