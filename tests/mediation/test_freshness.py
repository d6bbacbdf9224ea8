"""Freshness told honestly (issue 10, point 6): verified vs modified, old information said old."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import StructureFactory, UserFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_place():
    return StructureFactory(
        name="MSAP Vatan",
        commune=commune("36230"),
        verified_at=datetime(2020, 7, 3, 10, tzinfo=UTC),
    )


def test_the_page_tells_verified_from_modified_and_says_old_information_is_old(client, old_place):
    html = client.get(old_place.get_absolute_url()).content.decode()
    assert "Informations vérifiées par le lieu le 3 juillet 2020." in html
    assert f"Modifiée le {timezone.localdate(old_place.updated_at).day} " in html
    assert "Mise à jour le" not in html
    assert "Ces informations datent de juillet 2020 : appelez avant de vous déplacer." in html


def test_the_list_says_it_too_but_not_for_fresh_information(client, old_place):
    StructureFactory(
        name="Espace numérique de Vatan",
        commune=commune("36230"),
        verified_at=timezone.now() - timedelta(days=30),
    )
    html = client.get("/", {"q": "vatan"}).content.decode()
    assert html.count("appelez avant de vous déplacer.") == 1
    assert "Ces informations datent de juillet 2020" in html


def test_a_persons_recent_edit_makes_the_information_fresh_on_the_page(client, old_place):
    old_place._history_user = UserFactory()
    old_place.summary = "Aide aux démarches, sur rendez-vous."
    old_place.save()
    html = client.get(old_place.get_absolute_url()).content.decode()
    assert "Ces informations datent de" not in html
    assert "Informations vérifiées par le lieu le 3 juillet 2020." in html


def test_the_api_carries_both_dates(client, old_place):
    for url in ("/api/v1/structures/", f"/api/v1/structures/{old_place.uid}/"):
        data = client.get(url).json()
        item = data["results"][0] if "results" in data else data
        assert item["verifie_le"].startswith("2020-07-03")
        assert item["modifie_le"][:10] == timezone.localtime().isoformat()[:10]
