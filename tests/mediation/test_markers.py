"""The map's one compact request: every published structure as marker rows."""

import gzip
from datetime import timedelta

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone

from mediation.models import DataVersion, ServiceType
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db
URL = "/carte/lieux.json"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


def test_rows_of_published_structures_with_a_position(client):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    shown = StructureFactory(name="Visible", kinds=[mediatheque])
    StructureFactory(name="Brouillon", status="draft")
    StructureFactory(name="Sans position", latitude=None, longitude=None)
    data = client.get(URL).json()
    assert data["fields"] == ["id", "lat", "lon", "name", "slug", "city", "kinds", "stop"]
    assert data["kinds"][str(mediatheque.pk)] == "Médiathèque"
    assert data["rows"] == [
        [
            shown.pk,
            round(shown.latitude, 5),
            round(shown.longitude, 5),
            "Visible",
            shown.slug,
            "Châteauroux",
            [mediatheque.pk],
            None,
        ]
    ]


def test_itinerant_places_have_a_marker_at_each_stop(client):
    from tests.factories import StopFactory, commune

    bus = StructureFactory(name="Bus", latitude=None, longitude=None)
    ardentes = commune("36005")
    StopFactory(structure=bus, commune=ardentes, place="Place de l’église")
    StopFactory(structure=StructureFactory(status="draft"), commune=ardentes)
    rows = client.get(URL).json()["rows"]
    assert rows == [
        [
            bus.pk,
            round(ardentes.latitude, 5),
            round(ardentes.longitude, 5),
            "Bus",
            bus.slug,
            "Ardentes",
            [bus.kinds.get().pk],  # the factory's kind
            "Place de l’église",
        ]
    ]


def test_served_gzipped_with_validators(client):
    StructureFactory.create_batch(3)
    # HTTP dates are in seconds: no Last-Modified within the second of a change.
    DataVersion.objects.update(changed_at=timezone.now() - timedelta(minutes=1))
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "application/json"
    assert len(orjson.loads(gzip.decompress(response.content))["rows"]) == 3
    assert response["ETag"]
    assert response["Last-Modified"]
    assert "Accept-Encoding" in response["Vary"]
    assert "max-age" in response["Cache-Control"]


def test_a_returning_visitor_downloads_nothing(client):
    StructureFactory()
    etag = client.get(URL)["ETag"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_change_gives_a_new_version(client, django_capture_on_commit_callbacks):
    structure = StructureFactory(name="Avant")
    etag = client.get(URL)["ETag"]
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on commit
        structure.name = "Après"
        structure.save()
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["rows"][0][3] == "Après"


def test_demo_data_fits_in_a_small_download(client):
    from django.core.management import call_command

    call_command("loaddata", "fixtures/demo_structures.json", verbosity=0)
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    from mediation.models import Stop

    rows = orjson.loads(gzip.decompress(response.content))["rows"]
    assert len(rows) == 293 + Stop.objects.count()  # each place, and each itinerant stop
    assert len(response.content) < 17_000  # bytes on the wire, for 293 places and their stops
