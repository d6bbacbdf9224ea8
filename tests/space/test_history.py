"""Every change is recorded, shown as a readable diff, and can be undone."""

import pytest
from django.urls import reverse

from mediation.choices import Status
from mediation.models import Membership, ServiceType, Stop, Structure
from mediation.space.history import timeline
from tests.factories import StopFactory, UserFactory
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db


def history_url(structure):
    return reverse("space:history", args=[structure.pk])


def test_the_history_page_reads_as_a_diff(client, structure, mediator, coordinator):
    client.force_login(mediator)
    client.post(
        reverse("space:edit", args=[structure.pk]),
        edit_payload(structure, opening_hours="Mo-Fr 10:00-12:00", publics=["Seniors"]),
    )
    client.force_login(coordinator)
    html = client.get(history_url(structure)).content.decode()
    assert "Modification — La fiche" in html
    assert str(mediator) in html
    # Field names as people know them, old and new values side by side.
    assert '<th scope="row">Horaires</th>' in html
    assert "<del>Mo-Fr 09:00-12:00,14:00-17:00</del>" in html
    assert "<ins>Mo-Fr 10:00-12:00</ins>" in html
    assert "Publics spécifiquement adressés" in html and "<ins>Seniors</ins>" in html
    assert "Restaurer cette version" in html


def test_changes_from_every_path_are_recorded(client, structure, admin_user, mediator):
    # A script or an import: no person behind it.
    structure.summary = "Importé"
    structure.save()
    # The admin, through its "publish" action.
    structure.status = Status.DRAFT
    structure.save()
    client.force_login(admin_user)
    client.post(
        "/admin/mediation/structure/",
        {"action": "publish", "_selected_action": [structure.pk]},
    )
    assert Structure.objects.get(pk=structure.pk).status == Status.PUBLISHED
    # The site's form.
    client.force_login(mediator)
    client.post(
        reverse("space:edit", args=[structure.pk]), edit_payload(structure, summary="Du site")
    )
    entries = [e for e in timeline(structure) if e.subject == "La fiche"]
    authors = [e.user for e in entries[:3]]
    assert authors == [mediator, admin_user, None]
    assert [c.label for c in entries[1].changes] == ["Statut"]
    assert entries[1].changes[0].new == "Publié"


def test_kinds_stops_and_memberships_have_history(client, structure, coordinator):
    structure.kinds.set([ServiceType.objects.get(slug="mediatheque")])
    stop = StopFactory(structure=structure, place="Place de l’église")
    stop.opening_hours = "Tu[2] 14:00-16:00"
    stop.save()
    newcomer = UserFactory(email="nouveau@example.fr", first_name="Lou", last_name="Martin")
    Membership.objects.create(structure=structure, user=newcomer)
    client.force_login(coordinator)
    html = client.get(history_url(structure)).content.decode()
    assert "<ins>Médiathèque</ins>" in html
    assert "Étape « Place de l’église »" in html and "<ins>Tu[2] 14:00-16:00</ins>" in html
    assert "Création — Médiateur : Lou Martin" in html


def test_restore_brings_back_fields_kinds_and_stops(client, structure, coordinator, mediator):
    stop = StopFactory(structure=structure, place="Salle des fêtes")
    structure.save()  # the version with its stop
    good = structure.history.first()

    client.force_login(mediator)
    data = edit_payload(
        structure,
        name="Mauvais nom",
        opening_hours="Su 10:00-11:00",
        kinds=[str(ServiceType.objects.get(slug="coworking").pk)],
    )
    data["stops-0-DELETE"] = "on"
    assert client.post(reverse("space:edit", args=[structure.pk]), data).status_code == 302
    assert not Stop.objects.filter(pk=stop.pk).exists()

    client.force_login(coordinator)
    response = client.post(reverse("space:restore", args=[structure.pk, good.history_id]))
    assert response.status_code == 302
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.name == "Espace numérique du Centre"
    assert structure.opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert [k.slug for k in structure.kinds.all()] == ["espace-public-numerique"]
    assert Stop.objects.get(pk=stop.pk).place == "Salle des fêtes"
    # The restore is itself a change in the history, by the coordinator.
    assert structure.history.first().history_user == coordinator
    assert "Restauration" in structure.history.first().history_change_reason


def test_restore_keeps_the_publication_status(client, structure, coordinator):
    first = structure.history.first()
    structure.name = "Autre"
    structure.status = Status.ARCHIVED
    structure.save()
    client.force_login(coordinator)
    client.post(reverse("space:restore", args=[structure.pk, first.history_id]))
    structure = Structure.objects.get(pk=structure.pk)
    assert structure.name == "Espace numérique du Centre"
    assert structure.status == Status.ARCHIVED


def test_mediators_read_the_history_but_cannot_restore(client, structure, mediator):
    structure.name = "Autre"
    structure.save()
    client.force_login(mediator)
    html = client.get(history_url(structure)).content.decode()
    assert "Autre" in html
    assert "Restaurer cette version" not in html


def test_restoring_a_version_of_another_structure_is_refused(
    client, structure, other_structure, coordinator, admin_user
):
    foreign = other_structure.history.first()
    client.force_login(admin_user)
    response = client.post(reverse("space:restore", args=[structure.pk, foreign.history_id]))
    assert response.status_code == 404


def test_deletion_is_recorded_with_its_author(client, structure, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("space:delete", args=[structure.pk])).content.decode()
    assert "définitive" in html
    client.post(reverse("space:delete", args=[structure.pk]))
    record = Structure.history.filter(id=structure.pk).first()
    assert record.history_type == "-"
    assert record.history_user == admin_user
