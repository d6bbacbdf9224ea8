"""What the census says of a place's offer, and what is only deduced from it.

Real rows of ../shared/data/hub-lo/hub-lo.json; the deduced values are marked
as such in the edit form, on the page, in the API and never in the export.
"""

import json

import pytest
from django.urls import reverse

from mediation import choices, exporters
from mediation.importers import run_import
from mediation.models import Membership, Structure
from tests.factories import UserFactory
from tests.space.conftest import edit_payload

pytestmark = pytest.mark.django_db

DEMARCHES = choices.Service.DEMARCHES.value
ACCES = choices.Service.ACCES_MATERIEL.value


def import_rows(hub_lo_path, tmp_path, *names):
    rows = {r["c_nom"]: r for r in json.loads(hub_lo_path.read_text())}
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([rows[name] for name in names]))
    return run_import(path)


def test_both_real_files_offer_a_service_and_the_france_services_of_issoudun_are_found(
    hub_lo_path, conseillers_path, client
):
    run_import(hub_lo_path)
    run_import(conseillers_path)
    published = Structure.objects.published()
    with_service = published.exclude(services=[]).count()
    assert with_service / published.count() >= 0.95
    html = client.get("/", {"q": "issoudun", "service": "demarches"}).content.decode()
    assert "Aucun lieu trouvé" not in html
    for name in ("MSAP Vatan", "MSAP de Lignières", "MSAP Reuilly"):
        assert name in html, name


def test_a_msap_needs_help_with_procedures_deduced_from_its_kind_with_provenance(
    hub_lo_path, tmp_path
):
    import_rows(hub_lo_path, tmp_path, "MSAP BOULLERET")
    msap = Structure.objects.get(source_id="284")
    assert DEMARCHES in msap.services
    assert msap.deduced_sources("services")[DEMARCHES] == "type « France Services »"
    # The census's own category "Promeneur du net" is stated: a programme the place is in.
    assert msap.stated_values("national_programmes") == [choices.Dispositif.PROMENEURS]
    # A France Services that is also a Promeneur du Net still welcomes everyone.
    assert msap.publics == []
    # "formation : oui" with no detail: workshops on everyday digital tools, deduced.
    assert msap.deduced_sources("support_modes")[choices.ModaliteAccompagnement.ATELIER] == (
        "« formation : oui »"
    )


def test_what_a_column_says_is_stated_and_the_export_says_only_that(hub_lo_path, tmp_path):
    # MELI (Issoudun): an EPN, "formation : oui", "accompagnement personnel : oui".
    import_rows(hub_lo_path, tmp_path, "MELI", "MSAP BOULLERET")
    meli = Structure.objects.get(name="MELI")
    assert meli.stated_values("support_modes") == [choices.ModaliteAccompagnement.INDIVIDUEL]
    assert ACCES in meli.deduced_sources("services")  # from its kind, EPN
    records = {r["nom"]: r for r in exporters.standard_records()}
    assert records["MELI"]["modalites_accompagnement"] == "Accompagnement individuel"
    assert records["MELI"]["services"] == ""  # nothing the census says in these words
    assert records["MSAP Boulleret"]["services"] == ""


def test_words_of_the_detail_texts_give_services(hub_lo_path, tmp_path):
    rows = json.loads(hub_lo_path.read_text())
    # BGE INDRE - Espace2Eco, an EPN and coworking space: its kinds imply no procedures.
    row = next(r for r in rows if r["gid"] == 34)
    assert row["c_accompagnement_personnel_detail"] == (
        "accompagnement aux démarches d'emploi et administratives."
    )
    path = tmp_path / "extrait.json"
    path.write_text(json.dumps([row]))
    run_import(path)
    place = Structure.objects.get(source_id=str(row["gid"]))
    sources = place.deduced_sources("services")
    assert sources[DEMARCHES] == "la précision sur l’accompagnement"
    assert sources[choices.Service.INSERTION_PRO] == "la précision sur l’accompagnement"


def test_the_census_category_wins_over_its_tags(hub_lo_path, tmp_path):
    report = import_rows(hub_lo_path, tmp_path, "ARTS ET LOISIRS MONTILOIS - SECTION INFORMATIQUE")
    place = Structure.objects.get()
    assert [k.slug for k in place.kinds.all()] == ["club-informatique"]
    assert any("catégories retenues" in m for m in report.results[0].messages)


def test_the_mediator_sees_what_is_deduced_and_confirms_it_by_saving(hub_lo_path, tmp_path, client):
    import_rows(hub_lo_path, tmp_path, "MSAP BOULLERET")
    msap = Structure.objects.get(source_id="284")
    mediator = UserFactory(email="msap@example.fr")
    Membership.objects.create(user=mediator, structure=msap)
    client.force_login(mediator)
    url = reverse("space:edit", args=[msap.pk])
    html = client.get(url).content.decode()
    assert (
        "Aide aux démarches administratives — déduit de type « France Services » — à confirmer"
        in html
    )
    # The public page says it is to be confirmed; the API keeps it apart.
    page = client.get(msap.get_absolute_url()).content.decode()
    assert 'Aide pour les démarches en ligne (impôts, CAF, santé…) <span class="deduced"' in page
    api = client.get(f"/api/v1/structures/{msap.uid}/").json()
    assert DEMARCHES not in api["services"]
    assert {"valeur": DEMARCHES, "deduit_de": "type « France Services »"} in api[
        "valeurs_deduites"
    ]["services"]

    # The mediator unticks one deduced service and keeps the others: saved, all confirmed.
    kept = [s for s in msap.services if s != choices.Service.SECURITE]
    response = client.post(url, edit_payload(msap, services=kept))
    assert response.status_code == 302, response.content.decode()[:2000]
    msap.refresh_from_db()
    assert msap.services == kept
    assert msap.deduced_sources("services") == {}
    assert DEMARCHES in msap.stated_values("services")
    assert "déduit de" not in client.get(url).content.decode()
    records = {r["nom"]: r for r in exporters.standard_records()}
    assert DEMARCHES in records["MSAP Boulleret"]["services"].split("|")

    # The census, imported again with the same deductions, does not undo the confirmation.
    import_rows(hub_lo_path, tmp_path, "MSAP BOULLERET")
    msap.refresh_from_db()
    assert msap.services == kept
    assert msap.deduced_sources("services") == {}
    assert "déduit de" not in client.get(url).content.decode()
