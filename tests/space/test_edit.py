"""A mediator edits their listing: every field, preview then save, map and hours."""

import pytest
from django.urls import reverse

from mediation.geocoding import Place
from mediation.models import ServiceType, Stop, Structure
from tests.factories import commune
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db


def edit_url(structure):
    return reverse("space:edit", args=[structure.pk])


def test_edit_page_covers_every_field_in_plain_french(client, structure, mediator):
    client.force_login(mediator)
    html = client.get(edit_url(structure)).content.decode()
    for label in [
        "Nom du lieu",
        "Type de lieu",
        "Adresse (numéro et rue)",
        "Trouver l’adresse sur la carte",
        "Téléphone",
        "Horaires d’ouverture",
        "Services proposés",
        "Publics accueillis en particulier",
        "Formations et labels",
        "Accessible en fauteuil roulant",
        "Étapes itinérantes",
        "Voir l’aperçu",
    ]:
        assert label in html, label
    assert "Une adresse par ligne." in html  # help texts are shown
    assert 'data-hours-editor-for="id_opening_hours"' in html
    assert "js/hours-editor.js" in html and "js/point-picker.js" in html


def test_preview_shows_the_changes_and_saves_nothing(client, structure, mediator):
    client.force_login(mediator)
    response = client.post(
        edit_url(structure),
        edit_payload(structure, action="preview", opening_hours="Mo-Fr 10:00-12:00"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Aperçu de vos modifications" in html
    assert "Mo-Fr 09:00-12:00,14:00-17:00" in html and "Mo-Fr 10:00-12:00" in html
    assert "Du lundi au vendredi : 10 h – 12 h" in html  # how the public page will read
    assert 'name="action" value="save"' in html
    assert Structure.objects.get(pk=structure.pk).opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"


def test_save_records_every_field_and_who_changed_it(client, structure, mediator):
    client.force_login(mediator)
    fablab = ServiceType.objects.get(slug="fablab-makerspace")
    response = client.post(
        edit_url(structure),
        edit_payload(
            structure,
            name="Espace numérique Balsan",
            kinds=[str(fablab.pk)],
            phone="02 54 11 22 33",
            emails="accueil@example.fr\ncontact@example.fr",
            opening_hours="Tu,Th 14:00-18:00; Sa 09:00-12:00",
            services=[
                "Aide aux démarches administratives",
                "Maîtrise des outils numériques du quotidien",
            ],
            publics=["Seniors"],
            labels=["Formé à « Mon Espace Santé »"],
            wheelchair_accessible="true",
            itinerance=["Fixe"],
        ),
    )
    assert response.status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.name == "Espace numérique Balsan"
    assert list(structure.kinds.all()) == [fablab]
    assert structure.emails == ["accueil@example.fr", "contact@example.fr"]
    assert structure.opening_hours == "Tu,Th 14:00-18:00; Sa 09:00-12:00"
    assert structure.publics == ["Seniors"]
    assert structure.wheelchair_accessible is True
    assert structure.history.first().history_user == mediator


def test_hours_typed_by_hand_are_checked_with_a_french_message(client, structure, mediator):
    client.force_login(mediator)
    response = client.post(
        edit_url(structure), edit_payload(structure, opening_hours="lundi de 9h à 12h")
    )
    assert response.status_code == 200
    assert "Horaires illisibles" in response.content.decode()
    assert Structure.objects.get(pk=structure.pk).opening_hours.startswith("Mo-Fr")


def test_at_least_one_kind(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure)
    del data["kinds"]
    response = client.post(edit_url(structure), data)
    assert "Choisissez au moins un type de lieu." in response.content.decode()


def test_a_new_postal_code_and_city_move_the_structure_to_that_commune(client, structure, mediator):
    client.force_login(mediator)
    client.post(
        edit_url(structure),
        edit_payload(structure, postal_code="36100", city="Issoudun", address="1 place du Marché"),
    )
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.commune_id == "36088"
    assert structure.code_insee == "36088"


def test_an_address_outside_the_region_is_refused(client, structure, mediator):
    client.force_login(mediator)
    response = client.post(
        edit_url(structure), edit_payload(structure, postal_code="75001", city="Paris")
    )
    assert "Aucune commune de la région" in response.content.decode()


def test_find_the_address_without_javascript(client, structure, mediator, fake_geocoder):
    fake_geocoder["2 rue de la Gare 36000 Châteauroux"] = Place(46.8101, 1.6992, "2 Rue de la Gare")
    client.force_login(mediator)
    response = client.post(
        edit_url(structure),
        edit_payload(
            structure,
            action="geocode",
            address="2 rue de la Gare",
            postal_code="36000",
            city="Châteauroux",
        ),
    )
    html = response.content.decode()
    assert 'value="46.810100"' in html and 'value="1.699200"' in html
    assert "Repère placé à l’adresse : 2 Rue de la Gare." in html


def test_geocoding_endpoint_ban_then_commune_offline(client, mediator, fake_geocoder, settings):
    client.force_login(mediator)
    url = reverse("space:geocode")
    fake_geocoder["2 rue de la Gare 36000 Châteauroux"] = Place(46.8101, 1.6992, "2 Rue de la Gare")
    data = client.get(url, {"q": "2 rue de la Gare 36000 Châteauroux"}).json()
    assert data == {
        "found": True,
        "latitude": 46.8101,
        "longitude": 1.6992,
        "label": "2 Rue de la Gare",
        "precise": True,
    }
    settings.GEOCODER = "off"
    data = client.get(url, {"q": "12 rue Inconnue 36100 Issoudun"}).json()
    assert data["found"] and data["precise"] is False and data["label"] == "Issoudun"
    response = client.get(url, {"q": "zzzz"})
    assert response.status_code == 404
    assert "introuvable" in response.json()["message"]


def test_geocoding_endpoint_needs_an_account(client):
    response = client.get(reverse("space:geocode"), {"q": "Bourges"})
    assert response.status_code == 302


def test_save_without_a_point_places_it_from_the_address(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure, address="5 rue Inconnue", postal_code="36100", city="Issoudun")
    data["latitude"] = data["longitude"] = ""
    client.post(edit_url(structure), data)
    structure = Structure.objects.get(pk=structure.pk)
    issoudun = commune("36088")
    assert (structure.latitude, structure.longitude) == (issoudun.latitude, issoudun.longitude)


def test_itinerant_stops_are_added_changed_and_removed(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure)
    data.update(
        {
            "stops-TOTAL_FORMS": "1",
            "stops-0-place": "Parking de la salle des fêtes",
            "stops-0-commune": "Le Blanc",
            "stops-0-opening_hours": "We[1] 09:00-12:00",
        }
    )
    assert client.post(edit_url(structure), data).status_code == 302
    stop = Stop.objects.get(structure=structure)
    le_blanc = commune("36018")
    assert stop.commune == le_blanc
    assert (stop.latitude, stop.longitude) == (le_blanc.latitude, le_blanc.longitude)

    data = edit_payload(structure)
    data["stops-0-commune"] = "Issoudun (36100)"
    assert client.post(edit_url(structure), data).status_code == 302
    assert Stop.objects.get(pk=stop.pk).commune_id == "36088"

    data = edit_payload(structure)
    data["stops-0-DELETE"] = "on"
    assert client.post(edit_url(structure), data).status_code == 302
    assert not Stop.objects.filter(structure=structure).exists()


def test_an_unknown_stop_commune_gets_a_french_error(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure)
    data.update({"stops-TOTAL_FORMS": "1", "stops-0-place": "Place", "stops-0-commune": "Atlantis"})
    response = client.post(edit_url(structure), data)
    assert "Commune introuvable dans la région" in response.content.decode()
    assert not Stop.objects.exists()


def test_information_is_up_to_date_in_one_click(client, structure, mediator):
    client.force_login(mediator)
    response = client.post(reverse("space:verify", args=[structure.pk]))
    assert response.status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.verified_at is not None
    public = client.get(structure.get_absolute_url()).content.decode()
    assert "Informations vérifiées par le lieu le" in public
    assert "Ces informations datent de" not in public


def test_mediators_archive_and_cannot_delete(client, structure, mediator):
    client.force_login(mediator)
    html = client.get(edit_url(structure)).content.decode()
    assert "Archiver" in html
    assert "Supprimer" not in html
    client.post(reverse("space:archive", args=[structure.pk]))
    assert Structure.objects.get(pk=structure.pk).status == "archived"
    assert client.get(structure.get_absolute_url()).status_code == 404


def test_my_space_lists_my_structures(client, structure, other_structure, mediator):
    client.force_login(mediator)
    html = client.get(reverse("space:home")).content.decode()
    assert structure.name in html
    assert other_structure.name not in html
    assert "Ces informations sont à jour" in html


def test_up_to_date_on_the_edit_page_without_changes_only_sets_the_date(
    client, structure, mediator
):
    client.force_login(mediator)
    response = client.post(edit_url(structure), edit_payload(structure, action="verify"))
    assert response.status_code == 302
    assert Structure.objects.get(pk=structure.pk).verified_at is not None


def test_defect_4_up_to_date_with_unsaved_changes_saves_them_through_the_preview(
    client, structure, mediator
):
    client.force_login(mediator)
    response = client.post(
        edit_url(structure), edit_payload(structure, action="verify", phone="02 54 12 34 57")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Vous aviez des modifications qui n’étaient pas enregistrées" in html
    [change] = response.context["changes"]
    assert (change.label, change.old, change.new) == (
        "Téléphone",
        "02 54 00 00 00",
        "02 54 12 34 57",
    )
    assert 'name="verify" value="1"' in html
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.verified_at is None and structure.phone == "+33254000000"  # nothing lost yet

    data = edit_payload(structure, phone="02 54 12 34 57", verify="1")
    assert client.post(edit_url(structure), data).status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.phone == "+33254123457"
    assert structure.verified_at is not None
