"""The site answers: home page and admin."""

import pytest

from tests.factories import StructureFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_in_french(client):
    StructureFactory()
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_demo_banner_only_while_demo_data_is_loaded(client):
    StructureFactory()
    assert "Site de démonstration" not in client.get("/").content.decode()
    StructureFactory(is_demo=True)
    assert "Site de démonstration" in client.get("/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/mediation/structure/",
        "/admin/mediation/structure/?bassin=vierzon&departement=18&status=published",
        "/admin/mediation/structure/add/",
        "/admin/mediation/stop/",
        "/admin/mediation/errorreport/",
        "/admin/mediation/servicetype/",
        "/admin/mediation/user/",
        "/admin/territories/commune/?q=chateauroux",
        "/admin/territories/bassindevie/",
        "/admin/territories/department/",
        "/admin/territories/epci/",
    ],
)
def test_admin_pages(client, url):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(url).status_code == 200


def test_structure_form_in_admin_has_a_map(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    structure = StructureFactory()
    page = client.get(f"/admin/mediation/structure/{structure.pk}/change/").content.decode()
    assert 'id="point-map"' in page
    assert "js/point-picker.js" in page  # the same map as the mediators' edit form


def test_admin_moves_a_commune_to_another_bassin(client):
    from territories.models import BassinDeVie, Commune

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    commune = Commune.objects.get(pk="18279")
    other = BassinDeVie.objects.exclude(pk=commune.bassin_id).first()
    url = f"/admin/territories/commune/{commune.pk}/change/"
    data = {
        "code_insee": commune.code_insee,
        "name": commune.name,
        "postal_codes": '["18100"]',
        "department": commune.department_id,
        "epci": commune.epci_id or "",
        "bassin": other.pk,
        "latitude": commune.latitude,
        "longitude": commune.longitude,
        "population": commune.population or "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    commune.refresh_from_db()
    assert commune.bassin == other
    assert commune.bassin_rule == "admin"
