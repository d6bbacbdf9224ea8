"""/api/v1/structures/: fields, filters, formats, pagination, cache validators."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import choices, exporters
from mediation.models import DataVersion, ServiceType, Structure
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db
URL = "/api/v1/structures/"


def names(response):
    assert response.status_code == 200, response.content
    return [item["nom"] for item in response.json()["results"]]


def test_list_uses_the_standards_field_names(client):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    StructureFactory(name="Équinoxe", kinds=[mediatheque], services=[choices.Service.DEMARCHES])
    StructureFactory(name="Brouillon", status=choices.Status.DRAFT)
    data = client.get(URL).json()
    assert data["count"] == 1
    item = data["results"][0]
    for field in (
        "id",
        "nom",
        "adresse",
        "code_postal",
        "code_insee",
        "commune",
        "horaires",
        "services",
        "telephone",
        "courriels",
        "date_maj",
        "latitude",
        "longitude",
    ):
        assert field in item
    assert item["nom"] == "Équinoxe"
    assert item["commune"] == "Châteauroux"
    assert item["types"] == ["mediatheque"]
    assert item["services"] == ["Aide aux démarches administratives"]
    assert item["departement"] == "36"
    assert item["bassin_de_vie"] == "chateauroux"
    assert item["url"].endswith(f"/lieux/{Structure.objects.get(name='Équinoxe').slug}/")


def _as_export_cell(value):
    """An API value written as the standard's files write it."""
    return "|".join(value) if isinstance(value, list) else value


def test_a_partner_reads_the_exports_columns_and_values_in_the_list_and_the_detail(client):
    """The API publishes every column of the standard export under the same name
    and with the same value, in its list and in each detail; the detail is the
    list's item plus the itinerant stops."""
    StructureFactory(
        name="Complet",
        source="Conseil départemental",
        pivot="12345678901234",
        parent_structure="Commune de Châteauroux",
        typologie=["COMMUNE"],
        emails=["a@exemple.fr", "b@exemple.fr"],
        websites=["https://exemple.fr"],
        appointment_url="https://rdv.exemple.fr",
        acceslibre_url="https://acceslibre.beta.gouv.fr/app/36-chateauroux/a/x/erp/y/",
        summary="Aide aux démarches.",
        fees=[choices.Frais.GRATUIT],
        services=[choices.Service.DEMARCHES, choices.Service.ACCES_MATERIEL],
        publics=[choices.Public.SENIORS],
        labels=[choices.FormationLabel.ORDI_3],
        other_labels=["Label local"],
        access_modes=[choices.ModaliteAcces.TELEPHONER],
        support_modes=[choices.ModaliteAccompagnement.ATELIER],
        itinerance=[choices.Itinerance.FIXE],
        verified_at="2024-01-02T10:00:00Z",
        wheelchair_accessible=True,
    )
    StructureFactory(
        name="Sans position",
        source="Conseil départemental",
        pivot="12345678900000",
        latitude=None,
        longitude=None,
        commune=None,
        postal_code="36000",
        city="Châteauroux",
        code_insee="",
    )
    exported = {r["nom"]: r for r in exporters.standard_records()}
    listed = client.get(URL).json()["results"]
    assert len(listed) == len(exported) == 2
    for item in listed:
        record = exported[item["nom"]]
        assert set(exporters.STANDARD_FIELDS) <= set(item)
        published = {column: _as_export_cell(item[column]) for column in record}
        published["date_maj"] = date.fromisoformat(item["date_maj"])
        assert published == record
        detail = client.get(f"{URL}{item['id']}/").json()
        assert detail.pop("etapes") == []
        assert detail == item


def test_detail_with_itinerant_stops_and_404_for_unpublished(client):
    structure = StructureFactory(name="Bus numérique", itinerance=[choices.Itinerance.ITINERANT])
    StopFactory(structure=structure, place="Place de l’église")
    hidden = StructureFactory(status=choices.Status.DRAFT)
    data = client.get(f"{URL}{structure.uid}/").json()
    assert data["nom"] == "Bus numérique"
    assert data["etapes"][0]["lieu"] == "Place de l’église"
    assert client.get(f"{URL}{hidden.uid}/").status_code == 404


def test_a_place_listing_no_public_is_open_to_all_and_matches_every_public(client):
    StructureFactory(name="Seniors", publics=[choices.Public.SENIORS])
    StructureFactory(name="Jeunes", publics=[choices.Public.JEUNES])
    StructureFactory(name="Tout public", publics=[])
    assert sorted(names(client.get(URL, {"public": "Seniors"}))) == ["Seniors", "Tout public"]


def test_filters(client):
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    tours = commune("37261")
    StructureFactory(
        name="A",
        kinds=[mediatheque],
        fees=[choices.Frais.GRATUIT],
        services=[choices.Service.DEMARCHES],
        publics=[choices.Public.SENIORS],
        wheelchair_accessible=True,
    )
    StructureFactory(
        name="B",
        commune=tours,
        postal_code="37000",
        city="Tours",
        code_insee="37261",
        latitude=tours.latitude,
        longitude=tours.longitude,
        fees=[choices.Frais.PAYANT],
        specific_support=[choices.PriseEnCharge.SURDITE],
        publics=[choices.Public.JEUNES],
    )
    assert names(client.get(URL, {"type": "mediatheque"})) == ["A"]
    assert names(client.get(URL, {"service": choices.Service.DEMARCHES})) == ["A"]
    assert names(client.get(URL, {"public": "Seniors"})) == ["A"]
    assert names(client.get(URL, {"prise_en_charge": "Surdité"})) == ["B"]
    assert names(client.get(URL, {"frais": "Payant"})) == ["B"]
    assert names(client.get(URL, {"gratuit": "true"})) == ["A"]
    assert names(client.get(URL, {"gratuit": "false"})) == ["B"]
    assert names(client.get(URL, {"accessible": "true"})) == ["A"]
    assert names(client.get(URL, {"bassin": "tours"})) == ["B"]
    assert names(client.get(URL, {"departement": "36"})) == ["A"]
    assert names(client.get(URL, {"commune": "37261"})) == ["B"]
    assert names(client.get(URL, {"q": "tours"})) == ["B"]
    assert names(client.get(URL, {"bbox": "0.5,47.2,0.9,47.5"})) == ["B"]
    assert names(client.get(URL, {"ordering": "-nom"})) == ["B", "A"]
    assert names(client.get(URL, {"type": ["mediatheque", "coworking"]})) == ["A"]


def test_near_orders_by_distance_and_gives_it(client):
    for code in ("37261", "36044", "37050"):  # Tours, Châteauroux, Chambray-lès-Tours
        place = commune(code)
        StructureFactory(
            name=place.name,
            commune=place,
            postal_code=place.postal_codes[0],
            city=place.name,
            code_insee=code,
            latitude=place.latitude,
            longitude=place.longitude,
        )
    tours = commune("37261")
    response = client.get(URL, {"near": f"{tours.latitude},{tours.longitude}", "radius": 20})
    results = response.json()["results"]
    assert [r["nom"] for r in results] == ["Tours", "Chambray-lès-Tours"]
    assert results[0]["distance_km"] == 0
    assert 0 < results[1]["distance_km"] < 20
    far = client.get(URL, {"near": f"{tours.latitude},{tours.longitude}", "radius": 150})
    assert [r["nom"] for r in far.json()["results"]][-1] == "Châteauroux"


def test_near_pages_carry_the_total_and_continue_in_distance_order(client):
    tours = commune("37261")
    for i in range(5):
        StructureFactory(
            name=f"Lieu {i}",
            commune=tours,
            latitude=tours.latitude + 0.01 * i,
            longitude=tours.longitude,
        )
    near = {"near": f"{tours.latitude},{tours.longitude}", "page_size": 2}
    first = client.get(URL, near).json()
    second = client.get(URL, {**near, "page": 2}).json()
    last = client.get(URL, {**near, "page": 3}).json()
    assert first["count"] == second["count"] == last["count"] == 5
    assert [r["nom"] for r in first["results"] + second["results"] + last["results"]] == [
        f"Lieu {i}" for i in range(5)
    ]
    # 0.04° of latitude is 4.45 km on any meridian.
    assert last["results"][0]["distance_km"] == pytest.approx(4.448, abs=0.005)
    beyond = client.get(URL, {**near, "page": 4})
    assert beyond.status_code == 404
    assert "Page invalide" in beyond.json()["detail"]


def test_updated_since(client):
    old = StructureFactory(name="Ancien")
    Structure.objects.filter(pk=old.pk).update(updated_at="2020-01-01T00:00:00Z")
    StructureFactory(name="Récent")
    assert names(client.get(URL, {"updated_since": "2023-01-01"})) == ["Récent"]
    assert names(client.get(URL, {"updated_since": "2019-12-31T23:00:00Z"})) == ["Ancien", "Récent"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "abc"}, "near"),
        ({"near": "95,2"}, "near"),
        ({"near": "47,2", "radius": "-3"}, "radius"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"updated_since": "hier"}, "updated_since"),
        ({"service": "Jardinage"}, "service"),
        ({"ordering": "mot_de_passe"}, "ordering"),
        ({"page_size": "10", "page": "99"}, "detail"),
    ],
)
def test_bad_parameters_get_a_structured_french_error(client, params, field):
    StructureFactory()
    response = client.get(URL, params)
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_pages_are_stable_and_complete(client):
    for _i in range(7):
        StructureFactory(name="Même nom")  # ties broken by the primary key
    seen = []
    page = client.get(URL, {"page_size": 3}).json()
    while True:
        seen += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert len(seen) == len(set(seen)) == 7


def test_geojson_query_count_does_not_grow_with_places(client):
    counts = []
    for _round in range(2):
        for _i in range(6):
            StructureFactory()
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL + "geojson/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("url", [URL, "/api/v1/communes/"])
def test_query_count_does_not_grow_with_page_size(client, django_assert_num_queries, url):
    for _i in range(12):
        StructureFactory()
    counts = []
    for size in (10, 100):
        cache.clear()  # same conditions: the data version is computed each time
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    cache.clear()
    with django_assert_num_queries(counts[0]):
        client.get(url, {"page_size": 100})


def test_geojson_is_a_feature_collection(client):
    StructureFactory(name="Visible")
    StructureFactory(name="Sans position", latitude=None, longitude=None)
    response = client.get(URL + "geojson/")
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.getvalue())
    assert data["type"] == "FeatureCollection"
    by_name = {f["properties"]["nom"]: f for f in data["features"]}
    assert by_name["Visible"]["geometry"]["type"] == "Point"
    lon, lat = by_name["Visible"]["geometry"]["coordinates"]
    assert (lat, lon) == (
        Structure.objects.get(name="Visible").latitude,
        Structure.objects.get(name="Visible").longitude,
    )
    assert by_name["Sans position"]["geometry"] is None


def test_geojson_has_a_feature_per_itinerant_stop_linked_to_its_place(client):
    from tests.factories import StopFactory, commune

    bus = StructureFactory(name="Bus")
    ardentes = commune("36005")
    StopFactory(structure=bus, commune=ardentes, place="Place de l’église")
    features = json.loads(client.get(URL + "geojson/").getvalue())["features"]
    stops = [f for f in features if "etape_de" in f["properties"]]
    assert len(stops) == 1
    stop = stops[0]
    assert stop["properties"]["etape_de"] == bus.uid
    assert stop["properties"]["commune"] == "Ardentes"
    assert stop["properties"]["horaires"] == "We[1] 09:00-12:00"
    assert stop["geometry"]["coordinates"] == [ardentes.longitude, ardentes.latitude]
    assert any(f["properties"].get("id") == bus.uid for f in features)


def test_csv_export_in_the_standard(client):
    StructureFactory(name="A", services=[choices.Service.DEMARCHES, choices.Service.LOISIRS])
    StructureFactory(
        name="B", commune=commune("37261"), postal_code="37000", city="Tours", code_insee="37261"
    )
    response = client.get("/api/v1/lieux-mediation-numerique.csv", {"departement": "36"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8"))))
    assert [r["nom"] for r in rows] == ["A"]
    assert (
        rows[0]["services"] == "Aide aux démarches administratives|Loisirs et créations numériques"
    )
    assert len(rows[0]) == 32


def test_etag_and_last_modified_give_304_until_something_changes(
    client, django_capture_on_commit_callbacks
):
    structure = StructureFactory()
    # HTTP dates are in seconds: no Last-Modified within the second of a change.
    DataVersion.objects.update(changed_at=timezone.now() - timedelta(minutes=1))
    first = client.get(URL)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag and last_modified
    again = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(URL, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert client.get(URL + "?page_size=5", HTTP_IF_NONE_MATCH=etag).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on commit
        structure.name = "Nouveau nom"
        structure.save()
    changed = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    latest = Structure.objects.aggregate(m=Max("updated_at"))["m"]
    assert latest is not None
    for url in ("/api/v1/types/", "/api/v1/bassins/", f"{URL}{structure.uid}/"):
        tag = client.get(url)["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_cors_is_open_for_reading_the_api_only(client):
    StructureFactory()
    response = client.get(URL, HTTP_ORIGIN="https://carte.exemple.fr")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        URL, HTTP_ORIGIN="https://carte.exemple.fr", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN="https://x.fr")
    assert client.post(URL, {}).status_code == 405


FIRST_TWO, LAST = ["Bibliothèque", "Centre social"], ["Maison France Services"]


@pytest.mark.parametrize(
    "query, first, last",
    [
        ({}, FIRST_TWO, LAST),
        ({"ordering": "-nom"}, ["Maison France Services", "Centre social"], ["Bibliothèque"]),
        ({"near": "47.3941,0.6848", "radius": 50}, FIRST_TWO, LAST),
    ],
)
def test_the_page_and_its_places_rows_are_read_in_one_statement(client, query, first, last):
    # The page's keys and their rows in one statement: no place deleted by another
    # server between two reads, and one round trip to the database per list (the
    # data version aside), whatever the page size.
    tours = commune("37261")
    for name in ("Bibliothèque", "Centre social", "Maison France Services"):
        place = StructureFactory(
            name=name, commune=tours, latitude=tours.latitude, longitude=tours.longitude
        )
        place.kinds.set(ServiceType.objects.all()[:2])
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        body = client.get(URL, query | {"page_size": 2}).json()
    # Same position: nearest first, then the oldest; without a point, in the
    # list's order (by name, or `ordering`).
    assert [item["nom"] for item in body["results"]] == first
    assert body["count"] == 3
    assert all(len(item["types"]) == 2 for item in body["results"])
    assert len([q for q in queries if "mediation_structure" in q["sql"]]) == 1
    second = client.get(URL, query | {"page_size": 2, "page": 2}).json()
    assert [item["nom"] for item in second["results"]] == last
    assert second["count"] == 3
    past = client.get(URL, query | {"page_size": 2, "page": 3})
    assert past.status_code == 404
