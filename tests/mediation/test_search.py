"""The citizen's search: finding the place typed, filters, nearest first."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mediation import choices, search, statements
from mediation.forms import SearchForm
from mediation.geocoding import Place
from mediation.models import ServiceType, Stop, Structure
from mediation.versioning import move_version, structures_version
from territories.models import Commune
from territories.suggestions import suggest
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db

MONDAY_10H = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def run(**params):
    return search.run(SearchForm(params), now=MONDAY_10H)


def names(outcome):
    return [s.name for s in outcome.page.object_list]


# --- Suggestions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("chateauroux", "Châteauroux"),
        ("CHATEAUROUX", "Châteauroux"),
        ("Châteauroux", "Châteauroux"),
        ("st amand", "Saint-Amand-Montrond"),
        ("saint-amand", "Saint-Amand-Montrond"),
        ("36000", "Châteauroux"),
        ("chateaurou", "Châteauroux"),  # prefix
        ("chatearoux", "Châteauroux"),  # typo
        ("orleens", "Orléans"),  # typo
        ("vierzonn", "Vierzon"),  # typo
    ],
)
def test_suggestions_forgive_accents_case_hyphens_and_typos(typed, first):
    assert suggest(typed)[0].entry.name == first


def test_suggestions_for_a_postal_code_prefix():
    found = suggest("180")
    assert found
    assert all(any(code.startswith("180") for code in s.entry.postal_codes) for s in found)


def test_suggestions_endpoint(client):
    response = client.get("/territoires/communes/suggestions.json", {"q": "chatearoux"})
    assert response.status_code == 200
    assert response.json()["results"][0]["label"] == "Châteauroux (36000)"
    assert client.get("/territoires/communes/suggestions.json", {"q": "x"}).json() == {
        "query": "x",
        "results": [],
    }


# --- Locating what was typed ---------------------------------------------------


def test_commune_by_name_postal_code_or_picked_suggestion():
    for typed in ("chateauroux", "36000", "Châteauroux (36000)"):
        located = search.locate(typed)
        assert located.origin.label == "Châteauroux (36000)", typed
        assert located.origin.kind == "commune"


def test_a_typo_is_understood_and_said():
    located = search.locate("chatearoux")
    assert located.origin.label == "Châteauroux (36000)"
    assert located.origin.understood_from == "chatearoux"


def test_prefix_takes_the_largest_commune_and_offers_the_others():
    located = search.locate("st amand")
    assert located.origin.label.startswith("Saint-Amand-Montrond")
    assert "Saint-Amand-Longpré" in [entry.name for entry in located.alternatives]


def test_full_address_goes_to_the_ban(fake_geocoder):
    fake_geocoder["12 rue de la Gare 36000 Châteauroux"] = Place(
        46.8071, 1.6985, "12 Rue de la Gare 36000 Châteauroux", "36044"
    )
    located = search.locate("12 rue de la Gare 36000 Châteauroux")
    assert located.origin.kind == "address"
    assert located.origin.precise
    assert located.origin.latitude == 46.8071


def test_address_unknown_to_the_ban_falls_back_on_the_commune():
    located = search.locate("3 impasse Inconnue, Bourges")
    assert located.origin.label == "Bourges"
    assert not located.origin.precise


def test_geocoder_off_uses_the_commune_table(settings, fake_geocoder):
    settings.GEOCODER = "off"
    fake_geocoder["5 place de la Mairie, Vierzon"] = Place(0, 0, "ne doit pas servir")
    located = search.locate("5 place de la Mairie, Vierzon")
    assert located.origin.label == "Vierzon"


def test_a_place_found_is_kept_for_the_next_person_until_the_data_changes():
    stamp, _ = structures_version()
    assert search.locate("Vierzon", stamp=stamp).origin.label == "Vierzon (18100)"
    vierzon = Commune.objects.get(name="Vierzon")
    Commune.objects.filter(pk=vierzon.pk).update(latitude=47.3)  # no signal: version unchanged
    assert search.locate("Vierzon", stamp=stamp).origin.latitude == vierzon.latitude
    move_version()
    assert search.locate("Vierzon", stamp=structures_version()[0]).origin.latitude == 47.3


def test_an_address_placed_at_its_commune_while_the_ban_fails_is_not_kept(fake_geocoder):
    stamp, _ = structures_version()
    located = search.locate("12 rue de la Gare 36000 Châteauroux", stamp=stamp)
    assert not located.origin.precise  # the BAN did not answer: the commune's point
    fake_geocoder["12 rue de la Gare 36000 Châteauroux"] = Place(
        46.8071, 1.6985, "12 Rue de la Gare 36000 Châteauroux", "36044"
    )
    located = search.locate("12 rue de la Gare 36000 Châteauroux", stamp=stamp)
    assert located.origin.precise and located.origin.latitude == 46.8071


def test_unknown_place_gets_a_helpful_message():
    located = search.locate("xqzwv")
    assert located.origin is None
    assert "Nous n’avons pas trouvé « xqzwv »" in located.message
    assert "code postal" in located.message


def test_ambiguous_misspelling_offers_suggestions():
    located = search.locate("chato")
    assert located.origin is None
    assert "Vouliez-vous dire" in located.message
    assert "Châteauroux (36000)" in [entry.label for entry in located.suggestions]


def test_postal_code_outside_the_region():
    located = search.locate("75001")
    assert located.origin is None
    assert located.outside == "le code postal 75001"
    assert "Le code postal 75001 n’est pas en Centre-Val de Loire" in located.message


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("Issoudun 36100", "Issoudun (36100)"),
        ("Issoudun, 36100", "Issoudun (36100)"),
        ("36100 Issoudun", "Issoudun (36100)"),
        ("Vierzon 18100", "Vierzon (18100)"),
        ("Blois 41000", "Blois (41000)"),
    ],
)
def test_a_commune_and_its_postal_code(typed, label):
    located = search.locate(typed)
    assert located.origin.label == label
    assert located.origin.kind == "commune"
    assert located.origin.precise


@pytest.mark.parametrize(
    ("typed", "commune"),
    [
        ("Bourges centre", "Bourges"),
        ("Tours nord", "Tours"),
        ("Orléans la Source", "Orléans"),
    ],
)
def test_a_commune_and_a_district_lands_on_the_commune_and_says_so(typed, commune):
    located = search.locate(typed)
    assert located.origin.name == commune
    assert located.origin.understood_from == typed


def test_a_commune_outside_the_region_points_to_the_national_map(fake_geocoder):
    fake_geocoder["Paris"] = Place(48.8589, 2.347, "Paris", "75056")
    fake_geocoder["Limoges"] = Place(45.8315, 1.2578, "Limoges", "87085")
    for typed in ("Paris", "Limoges"):
        located = search.locate(typed)
        assert located.origin is None and not located.suggestions, typed
        assert located.outside == typed
        assert f"{typed} n’est pas en Centre-Val de Loire" in located.message
        assert located.national_map_url.startswith("https://cartographie.societenumerique.gouv.fr")


def test_a_position_outside_the_region_says_so():
    located = search.locate("", lat=48.8589, lon=2.347)  # Paris
    assert located.origin is None
    assert located.outside == "votre position"
    issoudun = commune("36088")
    assert search.locate("", lat=issoudun.latitude, lon=issoudun.longitude).origin.kind == (
        "position"
    )


def test_after_around_me_the_field_says_my_position_and_a_new_place_wins():
    issoudun = commune("36088")
    position = search.locate("Ma position", lat=issoudun.latitude, lon=issoudun.longitude)
    assert position.origin.kind == "position"
    typed = search.locate("Bourges", lat=issoudun.latitude, lon=issoudun.longitude)
    assert typed.origin.label == "Bourges (18000)"


def test_an_empty_search_says_what_to_type():
    outcome = search.run(SearchForm({"q": ""}))
    assert outcome.located.empty and outcome.searched
    assert search.run(SearchForm({})).located.empty is False


def test_incomplete_postal_code():
    located = search.locate("360")
    assert "5 chiffres" in located.message
    assert located.suggestions


# --- Nearest first and filters -------------------------------------------------


@pytest.fixture
def places():
    """Three places at known distances from Châteauroux."""
    epn = ServiceType.objects.get(slug="espace-public-numerique")
    mediatheque = ServiceType.objects.get(slug="mediatheque")
    return {
        "near": StructureFactory(
            name="Près", services=["Aide aux démarches administratives"], fees=["Gratuit"]
        ),
        "middle": StructureFactory(
            name="Moyen",
            commune=commune("36063"),  # Déols, next door
            kinds=[mediatheque],
            wheelchair_accessible=True,
            opening_hours="Sa 09:00-12:00",
            publics=["Seniors"],
        ),
        "far": StructureFactory(
            name="Loin",
            commune=commune("18033"),  # Bourges
            kinds=[epn, mediatheque],
            specific_support=["Surdité", "Illettrisme"],
            fees=["Payant"],
            publics=["Jeunes"],
        ),
    }


def test_near_orders_by_distance_and_annotates_it(places):
    chateauroux = commune("36044")
    found = list(Structure.objects.published().near(chateauroux.latitude, chateauroux.longitude))
    assert [s.name for s in found] == ["Près", "Moyen", "Loin"]
    assert found[0].distance_km < 1
    assert 60 < found[2].distance_km < 80  # Châteauroux – Bourges: about 65 km


def test_near_distance_is_the_great_circle_distance_at_the_regions_scale():
    """Tours → Orléans, Bourges → Chartres: within 0.05 % of the haversine distance."""
    import math

    def haversine(a, b):
        p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
        h = (
            math.sin((p2 - p1) / 2) ** 2
            + math.cos(p1)
            * math.cos(p2)
            * math.sin(math.radians(b.longitude - a.longitude) / 2) ** 2
        )
        return 2 * 6371.0088 * math.asin(math.sqrt(h))

    for origin, target in (("37261", "45234"), ("18033", "28085")):
        a, b = commune(origin), commune(target)
        StructureFactory(commune=b, latitude=b.latitude, longitude=b.longitude)
        found = Structure.objects.near(a.latitude, a.longitude).get(commune=b)
        assert found.distance_km == pytest.approx(haversine(a, b), rel=5e-4)


def test_near_with_a_radius(places):
    chateauroux = commune("36044")
    found = Structure.objects.near(chateauroux.latitude, chateauroux.longitude, radius_km=20)
    assert sorted(s.name for s in found) == ["Moyen", "Près"]


def test_search_by_commune_lists_nearest_first_with_distances(places):
    outcome = run(q="chateauroux")
    assert names(outcome) == ["Près", "Moyen", "Loin"]
    assert outcome.count == 3


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"type": ["mediatheque"]}, ["Moyen", "Loin"]),
        ({"type": ["mediatheque", "espace-public-numerique"]}, ["Près", "Moyen", "Loin"]),
        ({"service": ["demarches"]}, ["Près"]),
        # "Près" lists no public: open to all, it matches every public.
        ({"public": ["seniors"]}, ["Près", "Moyen"]),
        ({"public": ["jeunes"]}, ["Près", "Loin"]),
        ({"support": ["surdite"]}, ["Loin"]),
        ({"support": ["surdite", "illettrisme"]}, ["Loin"]),
        ({"support": ["surdite", "anglais"]}, []),
        ({"free": "on"}, ["Près"]),
        ({"wheelchair": "on"}, ["Moyen"]),
        ({"open_now": "on"}, ["Près", "Loin"]),  # Monday 10 h; "Moyen" opens on Saturdays
        ({"saturday": "on"}, ["Moyen"]),
    ],
)
def test_filters_narrow_the_list(places, filters, expected):
    assert names(run(q="chateauroux", **filters)) == expected


def test_named_queries_on_the_queryset(places):
    """The filters the site's search and the API's FilterSet both call."""

    def named(queryset):
        return sorted(s.name for s in queryset)

    structures = Structure.objects.published()
    assert named(structures.of_kinds(["mediatheque"])) == ["Loin", "Moyen"]
    assert named(structures.of_kinds([])) == ["Loin", "Moyen", "Près"]
    assert named(structures.offering(["Aide aux démarches administratives"])) == ["Près"]
    assert named(structures.for_publics(["Seniors"])) == ["Moyen", "Près"]
    assert named(structures.for_publics([])) == ["Loin", "Moyen", "Près"]
    assert named(structures.with_support(["Surdité", "Anglais"])) == ["Loin"]
    assert named(structures.with_support(["Surdité", "Anglais"], every=True)) == []
    assert named(structures.with_fees(["Payant", "Gratuit"])) == ["Loin", "Près"]
    assert named(structures.free()) == ["Près"]
    assert named(structures.free(False)) == ["Loin", "Moyen"]
    assert named(structures.wheelchair_accessible()) == ["Moyen"]


def test_unpublished_places_are_never_listed(places):
    StructureFactory(name="Brouillon", status=Structure.Status.DRAFT)
    assert "Brouillon" not in names(run(q="chateauroux"))


def test_invalid_values_are_ignored_not_an_error(places):
    outcome = run(q="chateauroux", service=["inconnu"], lat="abc", page="zz")
    assert names(outcome) == ["Près", "Moyen", "Loin"]


def test_position_from_the_browser(places):
    bourges = commune("18033")
    outcome = run(lat=str(bourges.latitude), lon=str(bourges.longitude))
    assert names(outcome)[0] == "Loin"
    assert outcome.origin.heading == "près de votre position"


def test_filters_without_a_place_list_by_commune(places):
    outcome = run(type=["mediatheque"])
    assert sorted(names(outcome)) == ["Loin", "Moyen"]
    assert outcome.origin is None


def test_pages_of_twenty(places):
    StructureFactory.create_batch(25)
    outcome = run(q="chateauroux")
    assert outcome.count == 28
    assert len(outcome.page.object_list) == 20
    assert len(run(q="chateauroux", page="2").page.object_list) == 8


@pytest.mark.parametrize(
    ("km", "text"),
    [(0.12, "à 100 m"), (0.02, "à 50 m"), (0.65, "à 650 m"), (2.34, "à 2,3 km"), (18.4, "à 18 km")],
)
def test_distance_wording(km, text):
    assert search.format_distance(km) == text


# --- Itinerant places, and help that is far -----------------------------------


def test_an_itinerant_place_is_found_where_it_stops(places):
    ardentes = commune("36005")
    bus = StructureFactory(name="Bus numérique", itinerance=["Itinérant"])  # based in Châteauroux
    StopFactory(
        structure=bus,
        commune=ardentes,
        place="Place de l’église",
        opening_hours="Tu[1] 14:00-17:00",
    )
    outcome = run(q="Ardentes")
    first = outcome.page.object_list[0]
    assert first.name == "Bus numérique"
    assert first.distance_km < 1  # at its stop, not at its base 12 km away
    assert first.nearest_stop.commune == ardentes
    assert first.nearest_stop.when == ["Le 1er mardi du mois : 14 h – 17 h"]
    # From Châteauroux, its base is the nearest of its locations.
    assert run(q="Châteauroux").page.object_list[0].nearest_stop is None


def test_searches_from_new_points_find_what_the_orm_finds(places):
    """The page's SQL is compiled once per filters (`statements`); each new point only
    fills its own numbers in: same places, order, distances and stops as `near()`."""
    bus = StructureFactory(name="Bus numérique", itinerance=["Itinérant"])
    StopFactory(structure=bus, commune=commune("36005"))
    for code in ("36005", "36044", "18033", "37261", "28085"):
        here = commune(code)
        expected = Structure.objects.published().near(here.latitude, here.longitude)
        outcome = run(lat=here.latitude, lon=here.longitude)
        assert [(s.name, s.distance_km) for s in outcome.page.object_list] == [
            (s.name, s.distance_km) for s in expected
        ]
        assert (outcome.page.object_list[0].nearest_stop is not None) == (code == "36005")
    kept = statements._statements._items
    assert kept and all(kept.values())


def test_a_place_known_only_by_its_stops_is_listed(places):
    bus = StructureFactory(name="Sans adresse", latitude=None, longitude=None)
    StopFactory(structure=bus, commune=commune("36005"))
    assert "Sans adresse" in names(run(q="Ardentes"))


def test_far_help_is_said_first(places):
    outcome = run(q="Chartres")
    assert outcome.far and outcome.nearest_km > 15
    page = Client().get("/", {"q": "Chartres"}).content.decode()
    assert "L’aide la plus proche est loin" in page
    assert page.index("L’aide la plus proche est loin") < page.index('class="result"')
    assert not run(q="Châteauroux").far


def test_nothing_open_now_nearby_is_said_first(places):
    # Monday 10 h: "Près" (no hours) and "Moyen" (Saturdays) are within 15 km of Châteauroux.
    assert not run(q="Châteauroux").closed_near  # "Près" has no hours: nothing is claimed
    Structure.objects.filter(name="Près").update(opening_hours="Sa 09:00-12:00")
    outcome = run(q="Châteauroux")
    assert outcome.closed_near and outcome.help_is_far and not outcome.far
    # A bus known only by its stop in Ardentes, 12 km away: open there now, it is
    # help nearby; closed, nothing changes.
    bus = StructureFactory(name="Bus", latitude=None, longitude=None, opening_hours="")
    stop = StopFactory(structure=bus, commune=commune("36005"), opening_hours="Mo 09:00-12:00")
    assert not run(q="Châteauroux").closed_near
    Stop.objects.filter(pk=stop.pk).update(opening_hours="Sa 14:00-17:00")
    assert run(q="Châteauroux").closed_near


# --- The filters' boxes, rendered once per data version and values --------------


def filters_panel(client, **params):
    page = client.get("/", params).content.decode()
    return page[
        page.index('<details class="filters"') : page.index(
            "</details>", page.index('<details class="filters"')
        )
    ]


def test_a_visitors_ticked_boxes_are_never_shown_to_the_next_one(client, places):
    mine = filters_panel(client, q="Châteauroux", free="on", service="demarches")
    assert 'name="free" id="id_free" checked' in mine
    assert 'value="demarches" id="id_service_0" checked' in mine
    theirs = filters_panel(Client(), q="Issoudun")
    assert "checked" not in theirs
    assert "critère" not in theirs


def test_a_renamed_kind_shows_in_the_filters_at_the_next_request(
    client, places, django_capture_on_commit_callbacks
):
    assert "Lieu d’accueil renommé" not in filters_panel(client, q="Châteauroux")
    kind = ServiceType.objects.order_by("order").first()
    with django_capture_on_commit_callbacks(execute=True):
        kind.name = "Lieu d’accueil renommé"
        kind.save()
    assert "Lieu d’accueil renommé" in filters_panel(client, q="Châteauroux")
    kind.name = "Lieu renommé sans validation"
    kind.save()  # not committed: the version has not moved, and the page still shows it
    assert "Lieu renommé sans validation" in filters_panel(client, q="Châteauroux")


def test_a_page_of_twenty_places_costs_no_more_queries_than_a_page_of_three(
    client, places, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as three:
        client.get("/", {"q": "Châteauroux"})
    with django_capture_on_commit_callbacks(execute=True):
        bus = StructureFactory(name="OTDIF", itinerance=["Itinérant"])  # a bare acronym
        StopFactory(structure=bus, commune=commune("36063"))
        StructureFactory.create_batch(20)
    with django_assert_max_num_queries(len(three)):
        page = client.get("/", {"q": "Déols"}).content.decode()
    assert page.count('class="result"') == 20
    assert "OTDIF — Espace Public Numérique, Châteauroux" in page
    assert "Passe à Déols" in page


def test_open_now_takes_the_hours_of_the_nearest_location(places):
    """An itinerant place is open where it is found: at its stop when the stop is
    nearer than its base, with the stop's hours."""
    bus = StructureFactory(name="Bus", opening_hours="Sa 09:00-12:00")  # based in Châteauroux
    StopFactory(structure=bus, commune=commune("36005"), opening_hours="Mo 09:00-12:00")
    assert "Bus" in names(run(q="Ardentes", open_now="on"))  # its stop, open on Monday at 10 h
    assert "Bus" not in names(run(q="Châteauroux", open_now="on"))  # its base, closed
    assert "Bus" in names(run(q="Châteauroux", saturday="on"))
    assert "Bus" not in names(run(q="Ardentes", saturday="on"))
    # Counted where it is found open, the other places once for every origin.
    at_stop, at_base = run(q="Ardentes", open_now="on"), run(q="Châteauroux", open_now="on")
    assert at_stop.count == len(names(at_stop)) == at_base.count + 1 == len(names(at_base)) + 1


def test_open_now_moves_with_the_minute(places):
    Structure.objects.exclude(name="Près").update(opening_hours="")
    Structure.objects.filter(name="Près").update(opening_hours="Mo 09:00-10:30")
    at = {
        minute: search.run(
            SearchForm({"q": "Châteauroux", "open_now": "on"}),
            now=MONDAY_10H.replace(hour=10, minute=minute),
        )
        for minute in (29, 30)
    }
    assert (at[29].count, names(at[29])) == (1, ["Près"])
    assert (at[30].count, names(at[30])) == (0, [])
    assert run(type=["espace-public-numerique"], open_now="on").count == 1  # no place given


def test_hours_are_read_once_per_distinct_expression(places, monkeypatch):
    """Thousands of places share a few hours: each expression is evaluated once,
    and a search reads no place's hours (the filter is SQL)."""
    StructureFactory.create_batch(30, opening_hours="Mo-Fr 09:00-12:00")
    StructureFactory.create_batch(30, opening_hours="Sa 10:00-12:00")
    calls = []
    real = search.opening_hours.is_open
    monkeypatch.setattr(
        search.opening_hours,
        "is_open",
        lambda value, now=None: calls.append(value) or real(value, now),
    )
    outcome = run(q="chateauroux", open_now="on")
    assert outcome.count == 32  # "Près", "Loin" and the 30 open on weekday mornings
    # The directory's 4 distinct expressions, each read a few times (to filter, then
    # to say whether anything near is open), never once per place.
    assert len(set(calls)) == 4
    assert len(calls) <= 3 * 4


@pytest.mark.parametrize("kept", [500, 2])  # a few kept by id; many: found by SQL
def test_when_help_is_far_the_nearest_phone_helpers_are_offered(places, kept, monkeypatch):
    monkeypatch.setattr(search, "REMOTE_KEPT", kept)
    distance = choices.ModaliteAccompagnement.DISTANCE
    for name, code in (
        ("Tél. Bourges", "18033"),
        ("Tél. Châteauroux", "36044"),
        ("Tél. Tours", "37261"),
    ):
        StructureFactory(
            name=name, commune=commune(code), support_modes=[distance], phone="0247000000"
        )
    StructureFactory(name="Tél. sans numéro", support_modes=[distance], phone="")
    outcome = run(q="Chartres")
    assert outcome.far
    assert [place.name for place in outcome.remote] == [
        "Tél. Tours",
        "Tél. Bourges",
        "Tél. Châteauroux",
    ]
    # Filters apply to them as to the list.
    assert run(q="Chartres", type=["mediatheque"]).remote == []


def test_a_place_added_near_a_commune_is_listed_at_the_next_search(
    client, places, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        StructureFactory.create_batch(20, commune=commune("18033"))  # Bourges, 60 km away
    assert "Tout nouveau" not in client.get("/", {"q": "Châteauroux"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        StructureFactory(name="Tout nouveau")  # in Châteauroux
    page = client.get("/", {"q": "Châteauroux"}).content.decode()
    assert "Tout nouveau" in page  # the same page (1 to 20), read again
    assert "<strong>24 lieux</strong>" in page


def test_the_list_comes_first_with_its_criteria_said(places):
    """The filters' panel stays closed when the page loads with criteria: the list
    comes first, and a line above it says which criteria apply."""
    page = Client().get("/", {"q": "chateauroux", "wheelchair": "on", "type": "mediatheque"})
    html = page.content.decode()
    assert '<details class="filters" id="filters">' in html
    assert "Critères : Médiathèque, Accessible en fauteuil roulant." in html
    assert html.index("Critères :") < html.index('class="result"')
    assert page.context["form"].active_labels() == ["Médiathèque", "Accessible en fauteuil roulant"]


def test_a_kind_added_after_the_version_was_read_does_not_break_the_list(places):
    """Another server adds a kind and gives it to a place between the moment this
    request read the data version and the moment it reads the places' kinds."""
    stamp, _ = structures_version()
    place = Structure.objects.first()
    assert search.kinds_of([place.pk], stamp=stamp)  # the kinds kept for this version
    added = ServiceType.objects.create(slug="tiers-lieu-nouveau", name="Tiers-lieu nouveau")
    place.kinds.add(added)
    assert added in search.kinds_of([place.pk], stamp=stamp)[place.pk]


def test_a_place_not_yet_committed_is_not_counted_for_the_next_visitor(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        StructureFactory.create_batch(2)  # in Châteauroux, committed
    pending = StructureFactory(name="Pas encore validé")  # its transaction still open
    assert run(q="Châteauroux").count == 3  # its own connection sees it
    pending.delete()  # rolled back, as it were: the version never moved
    assert run(q="Châteauroux").count == 2


def test_a_place_deleted_after_the_version_was_read_does_not_break_the_list(
    client, places, django_capture_on_commit_callbacks
):
    """Another server deletes a place between the moment this request read the data
    version and the moment it reads the page's places (kept for that version)."""
    with django_capture_on_commit_callbacks(execute=True):
        move_version()
    stamp, _ = structures_version()
    form = SearchForm({"q": "Châteauroux"})
    assert "Près" in names(search.run(form, now=MONDAY_10H, stamp=stamp))
    places["near"].delete()  # committed elsewhere; this request still holds `stamp`
    outcome = search.run(SearchForm({"q": "Châteauroux"}), now=MONDAY_10H, stamp=stamp)
    assert names(outcome) == ["Moyen", "Loin"]
