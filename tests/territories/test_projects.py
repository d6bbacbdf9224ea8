"""The bassin's "Projet numérique de territoire": written by its coordinators, sanitised,
shown on the bassin page, its history kept."""

import pytest

from mediation.memberships import Coordination
from territories.models import TerritoryProject
from tests.factories import UserFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def bassin():
    return commune("36088").bassin


@pytest.fixture
def coordinator(bassin):
    user = UserFactory(email="coordination@issoudun.example")
    Coordination.objects.create(user=user, bassin=bassin)
    return user


def test_coordinator_writes_the_project_shown_on_the_bassin_page(client, bassin, coordinator):
    client.force_login(coordinator)
    url = f"/territoires/bassins/{bassin.slug}/projet/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "presentation": "Un **bus numérique** pour les villages.\n\n"
            "- ateliers\n- permanences\n\n"
            "<script>alert(1)</script> [piège](javascript:alert(1)) [site](https://exemple.fr)",
            "partners": "Département de l’Indre\nCAF de l’Indre\n",
            "actions": "Former 10 aidants\n",
        },
    )
    assert response.status_code == 302
    page = client.get(bassin.get_absolute_url()).content.decode()
    assert "<strong>bus numérique</strong>" in page
    assert "<li>ateliers</li>" in page
    assert "<script>alert" not in page and "javascript:" not in page
    assert 'href="https://exemple.fr"' in page
    assert "<li>CAF de l’Indre</li>" in page and "<li>Former 10 aidants</li>" in page
    client.post(url, {"presentation": "Deuxième version.", "partners": "", "actions": ""})
    project = TerritoryProject.objects.get(bassin=bassin)
    assert [h.presentation[:17] for h in project.history.all()] == [
        "Deuxième version.",
        "Un **bus numériqu",
    ]
    assert project.history.first().history_user == coordinator


def test_only_the_bassins_coordinators_may_write_it(client, bassin, coordinator):
    url = f"/territoires/bassins/{bassin.slug}/projet/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(email="mediateur@exemple.fr"))
    assert client.get(url).status_code == 403
    other = commune("45234").bassin
    client.force_login(coordinator)
    assert client.get(f"/territoires/bassins/{other.slug}/projet/").status_code == 403
    assert client.get(url)["Cache-Control"].startswith(("max-age=0", "private", "no-cache"))
