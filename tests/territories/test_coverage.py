"""Distance to help for every commune, and the portraits built from it, checked against a
direct computation over every commune and place."""

import csv
import io

import pytest

from mediation import choices
from mediation.models import ServiceType, Structure, planar_distance
from territories import coverage
from territories.models import BassinDeVie, Commune, CommuneCoverage
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db


def kind(slug):
    return ServiceType.objects.get(slug=slug)


@pytest.fixture
def places():
    """A few places around Issoudun and Châteauroux, one of them not published."""
    return {
        "epn": StructureFactory(
            name="EPN d’Issoudun", commune=commune("36088"), fees=[choices.Frais.GRATUIT]
        ),
        "france_services": StructureFactory(
            name="France Services de Vatan",
            commune=commune("36230"),
            kinds=[kind("france-services")],
            services=[choices.Service.DEMARCHES],
        ),
        "draft": StructureFactory(
            name="Brouillon de Reuilly", commune=commune("36171"), status=choices.Status.DRAFT
        ),
        "stop": StopFactory(commune=commune("36005")),  # Ardentes, its place in Châteauroux
    }


def nearest(commune, points):
    distances = [
        planar_distance(commune.latitude, commune.longitude, lat, lon) for lat, lon in points
    ]
    return round(min(distances), 2) if distances else None


def test_every_commune_distance_equals_a_direct_computation(places):
    assert coverage.compute() == Commune.objects.count() == 1754
    published = list(Structure.objects.published())
    everything = [(s.latitude, s.longitude) for s in published]
    france_services = [
        (s.latitude, s.longitude) for s in published if s.kinds.filter(slug="france-services")
    ]
    free = [(s.latitude, s.longitude) for s in published if choices.Frais.GRATUIT in s.fees]
    stops = [(places["stop"].latitude, places["stop"].longitude)]
    rows = CommuneCoverage.objects.select_related("commune")
    for row in rows:
        c = row.commune
        assert row.nearest_km == pytest.approx(nearest(c, everything), abs=0.011)
        assert row.by_kind_km["france-services"] == pytest.approx(
            nearest(c, france_services), abs=0.011
        )
        assert row.demarches_km == pytest.approx(nearest(c, france_services), abs=0.011)
        assert row.free_km == pytest.approx(nearest(c, free), abs=0.011)
        assert row.stop_km == pytest.approx(nearest(c, stops), abs=0.011)
        assert row.by_kind_km["coworking"] is None  # no coworking anywhere
    issoudun = CommuneCoverage.objects.get(pk="36088")
    assert issoudun.nearest_km == 0
    assert issoudun.nearest_structure == places["epn"]
    # The draft in Reuilly counts for nothing.
    assert CommuneCoverage.objects.get(pk="36171").nearest_km > 5


def test_shares_and_zones_blanches_equal_a_direct_computation(places):
    coverage.compute()
    bassin = commune("36088").bassin
    portrait = coverage.portrait(bassin)
    published = [(s.latitude, s.longitude) for s in Structure.objects.published()]
    communes = list(Commune.objects.filter(bassin=bassin))
    assert portrait.population == sum(c.population for c in communes)
    assert portrait.commune_count == len(communes)
    for km in coverage.THRESHOLDS_KM:
        expected = sum(c.population for c in communes if nearest(c, published) <= km)
        assert portrait.shares["lieu"].within[km] == expected
        assert portrait.shares["lieu"].percent(km) == round(100 * expected / portrait.population)
    far = {c.code_insee for c in communes if nearest(c, published) > coverage.ZONE_BLANCHE_KM}
    assert {z.commune_id for z in portrait.zones_blanches} == far
    distances = [f.nearest_km for f in portrait.farthest]
    assert distances == sorted(distances, reverse=True)
    assert portrait.place_count == Structure.objects.published().in_bassin(bassin).count()
    sentence = coverage.lead_sentence(portrait)
    assert "habitant" in sentence and "moins de 10 km" in sentence


def test_portraits_of_all_bassins_equal_each_bassins_own(places):
    coverage.compute()
    portraits = coverage.portraits_by_bassin()
    assert len(portraits) == 23
    for bassin in BassinDeVie.objects.filter(communes__code_insee__in=["36088", "45234"]):
        alone = coverage.portrait(bassin, farthest=0)
        together = portraits[bassin.pk]
        assert together.as_dict() == alone.as_dict()


@pytest.mark.coverage
def test_recomputed_once_the_change_is_committed(django_capture_on_commit_callbacks):
    coverage.compute()
    assert CommuneCoverage.objects.get(pk="36088").nearest_km != 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        place = StructureFactory(name="Nouveau lieu à Issoudun", commune=commune("36088"))
        StructureFactory(name="Un autre", commune=commune("36088"))
    assert len(callbacks) >= 1
    issoudun = CommuneCoverage.objects.get(pk="36088")
    assert issoudun.nearest_km == 0
    with django_capture_on_commit_callbacks(execute=True):
        place.status = choices.Status.ARCHIVED
        place.save()
        Structure.objects.filter(name="Un autre").delete()
    assert CommuneCoverage.objects.get(pk="36088").nearest_km != 0


def test_bassin_page_leads_with_a_sentence_and_has_every_figure_as_a_table(client, places):
    coverage.compute()
    bassin = commune("36088").bassin
    page = client.get(bassin.get_absolute_url()).content.decode()
    portrait = coverage.portrait(bassin)
    assert coverage.lead_sentence(portrait) in page
    assert "Qui a de l’aide près de chez soi ?" in page
    assert f"{portrait.shares['lieu'].percent(10)} %" in page
    assert "Les communes les plus éloignées" in page
    assert portrait.farthest[0].commune.name in page
    assert "population municipale 2021" in page
    # Grouped by the commune record, whatever was typed in the address.
    Structure.objects.filter(pk=places["epn"].pk).update(city="ISSOUDUN")
    page = client.get(bassin.get_absolute_url()).content.decode()
    assert '<h3 class="h-small">Issoudun</h3>' in page
    assert "ISSOUDUN" not in page


def test_region_side_by_side_sorts_and_downloads(client, places):
    coverage.compute()
    page = client.get("/territoires/bassins/comparaison/?tri=moins-10-km").content.decode()
    assert "Les 23 bassins de vie côte à côte" in page
    assert page.count('<th scope="row"><a href="/territoires/bassins/') == 23
    assert 'aria-sort="descending"' in page
    assert "<svg" in page and 'role="img"' in page
    # An unknown order falls back to the names, no error.
    assert client.get("/territoires/bassins/comparaison/?tri=%00").status_code == 200
    response = client.get("/territoires/bassins/comparaison.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 23
    issoudun = next(r for r in rows if r["bassin"] == commune("36088").bassin.name)
    expected = coverage.portrait(commune("36088").bassin)
    assert int(issoudun["part_moins_10_km"]) == expected.shares["lieu"].percent(10)
    assert int(issoudun["population"]) == expected.population


def test_api_publishes_the_coverage_of_bassins_and_communes(client, places):
    coverage.compute()
    bassin = commune("36088").bassin
    data = client.get(f"/api/v1/bassins/{bassin.slug}/").json()
    assert data["couverture"] == coverage.portrait(bassin).as_dict()
    assert data["couverture"]["population_annee"] == 2021
    listed = client.get("/api/v1/bassins/").json()
    assert all(item["couverture"]["population"] > 0 for item in listed)

    issoudun = client.get("/api/v1/communes/36088/").json()
    assert issoudun["population"] == commune("36088").population
    assert issoudun["distances"]["lieu_km"] == 0
    assert issoudun["distances"]["lieu_le_plus_proche"] == places["epn"].uid
    assert issoudun["distances"]["par_type_km"]["coworking"] is None

    far = client.get("/api/v1/communes/?distance_min=20&page_size=100").json()
    expected = CommuneCoverage.objects.filter(nearest_km__gt=20).count()
    assert far["count"] == expected > 0
    assert all(c["distances"]["lieu_km"] > 20 for c in far["results"])
    near = client.get("/api/v1/communes/?distance_max=5").json()
    assert near["count"] == CommuneCoverage.objects.filter(nearest_km__lte=5).count()
    refused = client.get("/api/v1/communes/?distance_min=-1")
    assert refused.status_code == 400
    assert "distance_min" in refused.json()
