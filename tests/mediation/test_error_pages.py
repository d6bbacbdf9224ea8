"""Error pages speak French and lead somewhere (tests run with DEBUG off)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_french_404_with_a_way_back(client):
    response = client.get("/lieux/n-existe-pas/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="fr">' in page
    assert "Cette page n’existe pas" in page
    assert 'href="/"' in page
    # A search box right there: the person goes on without going back.
    assert '<form method="get" action="/"' in page and 'name="q"' in page


def test_expired_form_is_explained_in_french():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/espace/connexion/", {"username": "a@b.fr", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Le formulaire a expiré" in page
    assert "Rien n’a été enregistré" in page


def test_server_error_page_is_french(client):
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert '<html lang="fr">' in page
    assert "Ce n’est pas de votre faute" in page
