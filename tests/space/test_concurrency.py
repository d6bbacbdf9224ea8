"""Two people edit the same listing: each one's changes are kept, a clash is theirs to settle."""

import pytest
from django.test import Client
from django.urls import reverse

from mediation.models import Stop, Structure
from tests.factories import StopFactory
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_client():
    return Client()


def edit_url(structure):
    return reverse("space:edit", args=[structure.pk])


@pytest.fixture
def bus_stop(structure):
    stop = StopFactory(structure=structure, place="Salle des fêtes", note="Devant la mairie")
    structure.save()  # as the edit page does: the version follows its stops
    return stop


def test_defect_1_the_coordinators_notes_survive_the_mediators_phone(
    client, second_client, structure, bus_stop, mediator, coordinator
):
    # Both open the edit page on the same version.
    theirs = edit_payload(
        structure,
        opening_hours_note="Fermé en août",
        **{"stops-0-note": "Derrière l’église"},
    )
    mine = edit_payload(structure, phone="02 54 99 99 99")
    client.force_login(coordinator)
    assert client.post(edit_url(structure), theirs).status_code == 302

    second_client.force_login(mediator)
    # The first preview lists the mediator's change only, and says what was kept.
    preview = dict(mine, action="preview")
    response = second_client.post(edit_url(structure), preview)
    changes = [change.label for change in response.context["changes"]]
    assert changes == ["Téléphone"]
    html = response.content.decode()
    assert "Quelqu’un a modifié cette fiche pendant que vous la modifiiez" in html
    assert "Fermé en août" in html and str(coordinator) in html

    # Saving the page as it was first loaded: the merge, not an overwrite.
    response = second_client.post(edit_url(structure), mine, follow=True)
    assert response.redirect_chain and response.status_code == 200
    assert "Ces changements sont gardés, avec les vôtres." in response.content.decode()
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.phone == "+33254999999"
    assert structure.opening_hours_note == "Fermé en août"
    assert Stop.objects.get(pk=bus_stop.pk).note == "Derrière l’église"


def test_a_field_changed_by_both_is_shown_side_by_side_for_this_person_to_choose(
    client, second_client, structure, mediator, coordinator
):
    theirs = edit_payload(structure, opening_hours="Mo-Fr 08:00-12:00")
    mine = edit_payload(structure, opening_hours="Sa 09:00-12:00", summary="Ateliers")
    client.force_login(coordinator)
    client.post(edit_url(structure), theirs)

    second_client.force_login(mediator)
    response = second_client.post(edit_url(structure), mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Choisissez la valeur à garder" in html
    [conflict] = response.context["merge"].conflicts
    assert (conflict.key, conflict.mine, conflict.theirs, conflict.author) == (
        "opening_hours",
        "Sa 09:00-12:00",
        "Mo-Fr 08:00-12:00",
        str(coordinator),
    )
    assert 'name="choice-opening_hours" value="mine"' in html
    assert 'name="choice-opening_hours" value="theirs"' in html
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.summary == "" and structure.opening_hours == "Mo-Fr 08:00-12:00"

    # Sending without choosing asks again; nothing is saved.
    page = form_data(response)
    response = second_client.post(edit_url(structure), page)
    assert response.status_code == 409
    assert "Choisissez une valeur pour chaque information" in response.content.decode()
    assert Structure.objects.get(pk=structure.pk).summary == ""

    # Choosing the other person's hours keeps them, and saves this person's summary.
    page = form_data(response)
    page["choice-opening_hours"] = "theirs"
    assert second_client.post(edit_url(structure), page).status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.opening_hours == "Mo-Fr 08:00-12:00"
    assert structure.summary == "Ateliers"


def test_choosing_ones_own_value_saves_it(client, second_client, structure, mediator, coordinator):
    theirs = edit_payload(structure, name="Nom du coordinateur")
    mine = edit_payload(structure, name="Nom de la médiatrice")
    client.force_login(coordinator)
    client.post(edit_url(structure), theirs)
    second_client.force_login(mediator)
    page = form_data(second_client.post(edit_url(structure), mine))
    page["choice-name"] = "mine"
    assert second_client.post(edit_url(structure), page).status_code == 302
    assert Structure.objects.get(pk=structure.pk).name == "Nom de la médiatrice"


def test_defect_2_a_stop_deleted_meanwhile_is_told_and_the_rest_goes_through(
    client, structure, bus_stop, mediator, admin_user
):
    mine = edit_payload(structure, summary="Mon texte", **{"stops-0-note": "Parking"})
    bus_stop.delete()  # by a coordinator or an administrator, meanwhile
    client.force_login(mediator)
    response = client.post(edit_url(structure), dict(mine, action="preview"))
    html = response.content.decode()
    assert "Le formulaire contient des erreurs" not in html
    assert "L’étape « Salle des fêtes » a été supprimée entre-temps" in html
    response = client.post(edit_url(structure), mine, follow=True)
    assert response.redirect_chain
    assert "a été supprimée entre-temps" in response.content.decode()
    assert Structure.objects.get(pk=structure.pk).summary == "Mon texte"
    assert not Stop.objects.filter(structure=structure).exists()


def test_a_stop_added_meanwhile_is_kept(client, structure, mediator):
    mine = edit_payload(structure, summary="Mon texte")
    StopFactory(structure=structure, place="Marché couvert")
    client.force_login(mediator)
    assert client.post(edit_url(structure), mine).status_code == 302
    assert Structure.objects.get(pk=structure.pk).summary == "Mon texte"
    assert Stop.objects.filter(structure=structure, place="Marché couvert").exists()


def test_a_change_from_another_path_also_counts(client, structure, mediator):
    """The admin, the API or an import changed the structure after the page was loaded."""
    payload = edit_payload(structure, summary="Mon texte")
    structure.name = "Nom corrigé par le hub"
    structure.save()
    client.force_login(mediator)
    assert client.post(edit_url(structure), payload).status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.summary == "Mon texte"
    assert structure.name == "Nom corrigé par le hub"


def test_saving_twice_in_a_row_from_fresh_pages_works(client, structure, mediator):
    client.force_login(mediator)
    url = edit_url(structure)
    assert client.post(url, edit_payload(structure, summary="Un")).status_code == 302
    assert client.post(url, edit_payload(structure, summary="Deux")).status_code == 302
    assert Structure.objects.get(pk=structure.pk).summary == "Deux"


def form_data(response):
    """The data the conflict page would post back, as it shows it."""
    data = response.context["form"].data.copy()
    data.setlist("conflicts", [c.key for c in response.context["merge"].conflicts])
    data["action"] = "save"
    return data


def test_a_stop_field_changed_by_both_is_a_choice_too(
    client, second_client, structure, bus_stop, mediator, coordinator
):
    theirs = edit_payload(structure, **{"stops-0-note": "Derrière l’église"})
    mine = edit_payload(structure, summary="Ateliers", **{"stops-0-note": "Sur le parking"})
    client.force_login(coordinator)
    client.post(edit_url(structure), theirs)
    second_client.force_login(mediator)
    response = second_client.post(edit_url(structure), mine)
    assert response.status_code == 409
    [conflict] = response.context["merge"].conflicts
    assert conflict.key == f"stop-{bus_stop.pk}-note"
    assert conflict.label == "Étape « Salle des fêtes » : Précisions"
    assert (conflict.mine, conflict.theirs) == ("Sur le parking", "Derrière l’église")
    page = form_data(response)
    page[f"choice-{conflict.key}"] = "theirs"
    assert second_client.post(edit_url(structure), page).status_code == 302
    assert Stop.objects.get(pk=bus_stop.pk).note == "Derrière l’église"
    assert Structure.objects.get(pk=structure.pk).summary == "Ateliers"


def test_a_page_with_an_unknown_version_is_taken_as_it_is(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure, summary="Mon texte")
    data["version"] = "garbage"
    assert client.post(edit_url(structure), data).status_code == 302
    assert Structure.objects.get(pk=structure.pk).summary == "Mon texte"
