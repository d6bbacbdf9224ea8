"""Freshness told honestly (issue 10, point 6): verified vs modified, old information said old."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mediation import exporters, standard
from tests.factories import StructureFactory, UserFactory, commune

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/lieux-mediation-numerique"


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


def test_the_export_carries_both_dates_when_asked_and_stays_the_standard_by_default(
    client, old_place
):
    today = timezone.localdate().isoformat()
    default = list(csv.DictReader(io.StringIO(client.get(EXPORT + ".csv").getvalue().decode())))
    assert tuple(default[0]) == exporters.STANDARD_FIELDS  # the schema's 32 columns, no more
    # Its one date is the last change of the information (entered here today)…
    assert default[0]["date_maj"] == today

    # …the regional columns also tell when the place last verified it.
    text = client.get(EXPORT + ".csv", {"colonnes": "regionales"}).getvalue().decode()
    (row,) = csv.DictReader(io.StringIO(text))
    assert tuple(row) == (*exporters.STANDARD_FIELDS, *standard.REGIONAL_NAMES)
    assert {k: row[k] for k in exporters.STANDARD_FIELDS} == default[0]
    assert row["verifie_le"].startswith("2020-07-03T12:00:00+02:00")  # 10:00 UTC, in France
    assert row["modifie_le"][:10] == today

    (item,) = json.loads(client.get(EXPORT + ".json", {"colonnes": "regionales"}).getvalue())
    assert item["verifie_le"] == row["verifie_le"] and item["modifie_le"] == row["modifie_le"]
    (feature,) = [
        f
        for f in json.loads(client.get("/api/v1/structures/geojson/").getvalue())["features"]
        if f["id"] == old_place.uid
    ]
    assert feature["properties"]["verifie_le"].startswith("2020-07-03")
    assert feature["properties"]["modifie_le"][:10] == today


def test_a_place_never_verified_has_an_empty_verification_date_in_the_export(client):
    StructureFactory(name="Jamais vérifiée", verified_at=None)
    (row,) = csv.DictReader(
        io.StringIO(client.get(EXPORT + ".csv", {"colonnes": "regionales"}).getvalue().decode())
    )
    assert row["verifie_le"] == ""
    (item,) = json.loads(client.get(EXPORT + ".json", {"colonnes": "regionales"}).getvalue())
    assert item["verifie_le"] is None


def test_an_unknown_choice_of_columns_is_refused_in_french(client):
    response = client.get(EXPORT + ".csv", {"colonnes": "toutes"})
    assert response.status_code == 400
    assert "toutes" in response.json()["colonnes"][0]


def test_the_command_writes_the_regional_columns_when_asked(tmp_path, old_place):
    path = tmp_path / "export.csv"
    call_command("export_structures", "--output", str(path), "--colonnes-regionales")
    (row,) = csv.DictReader(path.open(encoding="utf-8"))
    assert row["verifie_le"].startswith("2020-07-03")
