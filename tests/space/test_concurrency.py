"""Two people edit the same listing: the second save is refused, nothing is lost."""

import pytest
from django.test import Client
from django.urls import reverse

from mediation.models import Structure
from tests.factories import StopFactory
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_client():
    return Client()


def test_second_save_is_refused_and_shows_what_changed(
    client, second_client, structure, mediator, coordinator
):
    url = reverse("space:edit", args=[structure.pk])
    # Both open the edit page on the same version.
    mine = edit_payload(structure, opening_hours="Mo-Fr 08:00-12:00")
    theirs = edit_payload(structure, phone="02 54 99 99 99", summary="Ateliers tous les jours")

    client.force_login(coordinator)
    assert client.post(url, mine).status_code == 302

    second_client.force_login(mediator)
    response = second_client.post(url, theirs)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Quelqu’un a modifié cette fiche pendant que vous la modifiiez" in html
    assert "n’ont pas été enregistrées" in html
    # What changed meanwhile, and by whom.
    assert "Horaires" in html and "Mo-Fr 09:00-12:00,14:00-17:00 → Mo-Fr 08:00-12:00" in html
    assert str(coordinator) in html
    # The second person's input is still in the form.
    assert "02 54 99 99 99" in html and "Ateliers tous les jours" in html
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.opening_hours == "Mo-Fr 08:00-12:00"
    assert structure.summary == ""

    # Having read the message, they save again: the form now carries the new version.
    resent = dict(theirs)
    resent["version"] = response.context["form"]["version"].value()
    assert second_client.post(url, resent).status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.summary == "Ateliers tous les jours"


def test_a_change_from_another_path_also_counts(client, structure, mediator):
    """The admin, the API or an import changed the structure after the page was loaded."""
    payload = edit_payload(structure, summary="Mon texte")
    structure.name = "Nom corrigé par le hub"
    structure.save()
    client.force_login(mediator)
    response = client.post(reverse("space:edit", args=[structure.pk]), payload)
    assert response.status_code == 409
    assert "Nom corrigé par le hub" in response.content.decode()
    assert Structure.objects.get(pk=structure.pk).summary == ""


def test_a_stop_changed_meanwhile_counts_too(client, structure, mediator):
    payload = edit_payload(structure, summary="Mon texte")
    StopFactory(structure=structure, place="Salle des fêtes")
    client.force_login(mediator)
    response = client.post(reverse("space:edit", args=[structure.pk]), payload)
    assert response.status_code == 409
    assert "Étape « Salle des fêtes »" in response.content.decode()


def test_saving_twice_in_a_row_from_fresh_pages_works(client, structure, mediator):
    client.force_login(mediator)
    url = reverse("space:edit", args=[structure.pk])
    assert client.post(url, edit_payload(structure, summary="Un")).status_code == 302
    assert client.post(url, edit_payload(structure, summary="Deux")).status_code == 302
    assert Structure.objects.get(pk=structure.pk).summary == "Deux"
