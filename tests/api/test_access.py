"""Who may read, how fast, and what is never shown."""

import pytest

from mediation.models import ErrorReport
from tests.factories import StopFactory, StructureFactory, UserFactory, api_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/types/"


def test_anonymous_clients_are_limited_to_60_requests_a_minute(client):
    for _ in range(60):
        assert client.get(URL).status_code == 200
    response = client.get(URL)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_partner_token_gives_a_higher_rate(client):
    partner = UserFactory()
    key = api_key(partner)
    for _ in range(80):
        assert client.get(URL, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    # Anonymous clients from the same address are counted separately.
    assert client.get(URL).status_code == 200


def test_a_wrong_token_is_refused_clearly(client):
    response = client.get(URL, HTTP_AUTHORIZATION="Token faux")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_no_personal_data_of_accounts_in_any_output(client):
    person = UserFactory(email="marie.dupont@exemple.fr", first_name="Marie", last_name="Dupontel")
    key = api_key(person)
    structure = StructureFactory(name="Lieu public", proposed_by=person)
    StopFactory(structure=structure)
    ErrorReport.objects.create(
        structure=structure, message="erreur", email="marie.dupont@exemple.fr", author=person
    )
    structure.name = "Lieu public modifié"
    structure.save()  # history now records the change
    urls = [
        "/api/v1/",
        "/api/v1/structures/",
        f"/api/v1/structures/{structure.uid}/",
        "/api/v1/structures/geojson/",
        "/api/v1/lieux-mediation-numerique.csv",
        "/api/v1/lieux-mediation-numerique.json",
        "/api/v1/types/",
        "/api/v1/bassins/",
        "/api/v1/communes/?q=chateauroux",
        "/api/v1/schema/",
    ]
    for url in urls:
        for headers in ({}, {"HTTP_AUTHORIZATION": f"Token {key}"}):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            body = response.getvalue().decode("utf-8").lower()
            for secret in ("marie.dupont", "dupontel", key.lower()):
                assert secret not in body, (url, secret)
    assert "Lieu public modifié" in client.get("/api/v1/structures/").content.decode()
