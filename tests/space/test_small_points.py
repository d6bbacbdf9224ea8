"""Issue 9, smaller points: times in Europe/Paris, the admin's history without "None",
and no open redirect after "Ces informations sont à jour"."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mediation import exporters
from mediation.models import ErrorReport, Structure
from mediation.space.history import restore

pytestmark = pytest.mark.django_db


def test_the_restore_note_gives_the_time_shown_in_the_history(structure, coordinator):
    first = structure.history.earliest()
    # 17:17 UTC in July is 19:17 in Paris: the history page shows 19:17.
    structure.history.filter(history_id=first.history_id).update(
        history_date=datetime(2026, 7, 1, 17, 17, tzinfo=UTC)
    )
    structure.name = "Nouveau nom"
    structure.save()
    restore(structure=structure, history_id=first.history_id, user=coordinator)
    latest = structure.history.latest()
    assert latest.history_change_reason == "Restauration de la version du 01/07/2026 19:17"


def test_date_maj_is_the_date_in_france(structure):
    # 23:30 UTC on 1 January is already 2 January in Paris.
    Structure.objects.filter(pk=structure.pk).update(
        verified_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC),
        updated_at=datetime(2025, 12, 1, 12, 0, tzinfo=UTC),
        information_updated_at=datetime(2025, 12, 1, 12, 0, tzinfo=UTC),
    )
    structure.history.update(history_date=datetime(2025, 12, 1, 12, 0, tzinfo=UTC))
    structure.refresh_from_db()
    assert str(structure.date_maj) == "2026-01-02"
    (record,) = exporters.standard_records(Structure.objects.filter(pk=structure.pk))
    assert str(record["date_maj"]) == "2026-01-02"


def test_the_admin_history_shows_no_none_as_a_reason(client, structure, admin_user):
    structure.name = "Renommée"
    structure.save()  # a save that gives no reason
    client.force_login(admin_user)
    html = client.get(f"/admin/mediation/structure/{structure.pk}/history/").content.decode()
    assert "Renommée" in html
    assert not re.search(r"<td>\s*None\s*</td>", html)


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/", "javascript:alert(1)", "\\\\evil.example"],
)
def test_verify_never_redirects_off_the_site(client, structure, mediator, target):
    client.force_login(mediator)
    response = client.post(reverse("space:verify", args=[structure.pk]), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("space:home")
    structure.refresh_from_db()
    assert structure.verified_at is not None


def test_verify_goes_back_to_the_page_it_came_from(client, structure, mediator):
    client.force_login(mediator)
    back = reverse("space:edit", args=[structure.pk])
    response = client.post(reverse("space:verify", args=[structure.pk]), {"next": back})
    assert response["Location"] == back


@pytest.mark.parametrize("term", ["chateauroux", "CHATEAUROUX", "Châteauroux", "mediatheque"])
def test_the_admin_search_ignores_accents_and_case(client, admin_user, term):
    from tests.factories import StructureFactory, commune

    found = StructureFactory(name="Médiathèque Équinoxe", commune=commune("36044"))
    StructureFactory(name="Fablab", commune=commune("18033"))
    client.force_login(admin_user)
    html = client.get("/admin/mediation/structure/", {"q": term}).content.decode()
    assert "Médiathèque Équinoxe" in html
    assert "Fablab" not in html
    # The lists of things about places (reports, memberships…) search their place the same way.
    ErrorReport.objects.create(structure=found, message="Fermé le lundi")
    reports = client.get("/admin/mediation/errorreport/", {"q": term}).content.decode()
    assert "Signalement sur Médiathèque Équinoxe" in reports
