"""One set of rules for a place, whatever path writes it.

The same bad values go through the model, the edit page, the proposal page,
the API, the admin, the importer and the restore of an old version: each is
refused with the same French message, and "02 54 12 34 57" is stored
"+33254123457" everywhere.
"""

import csv

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from mediation.importers import Outcome, run_import
from mediation.models import ServiceType, Structure
from mediation.validators import SINGLE_LINE_MESSAGE
from tests.factories import api_key
from tests.space.conftest import edit_payload, form_payload

pytestmark = pytest.mark.django_db

WEB = "n’est pas une adresse web valide"
# (model field, API name, value as a form posts it, value as JSON, message)
BAD = [
    ("websites", "site_web", "javascript:alert(1)", ["javascript:alert(1)"], WEB),
    (
        "websites",
        "site_web",
        "data:text/html,<script>alert(1)</script>",
        ["data:text/html,<script>alert(1)</script>"],
        WEB,
    ),
    ("appointment_url", "prise_rdv", "javascript:alert(1)", "javascript:alert(1)", WEB),
    ("acceslibre_url", "fiche_acces_libre", "data:text/html,x", "data:text/html,x", WEB),
    (
        "emails",
        "courriels",
        "écrivez à l’accueil",
        ["écrivez à l’accueil"],
        "n’est pas une adresse e-mail valide",
    ),
    (
        "phone",
        "telephone",
        "appelez le standard",
        "appelez le standard",
        "n’est pas un numéro de téléphone valide",
    ),
    ("name", "nom", "Espace\rnumérique", "Espace\rnumérique", SINGLE_LINE_MESSAGE),
    ("address", "adresse", "1 rue\nde la Gare", "1 rue\nde la Gare", SINGLE_LINE_MESSAGE),
    ("latitude", "latitude", "45.764", 45.764, "en dehors de la région Centre-Val de Loire"),
]
IDS = [f"{case[0]}={case[3]!r}"[:40] for case in BAD]


def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def unchanged(structure):
    fresh = Structure.objects.get(pk=structure.pk)
    return all(
        getattr(fresh, name) == getattr(structure, name)
        for name in ("name", "address", "phone", "emails", "websites", "appointment_url")
    )


@pytest.mark.parametrize(("name", "public", "posted", "json", "message"), BAD, ids=IDS)
def test_the_model_refuses(structure, name, public, posted, json, message):
    setattr(structure, name, json)
    with pytest.raises(ValidationError) as error:
        structure.full_clean()
    assert message in " ".join(error.value.message_dict[name])
    with pytest.raises(ValidationError):
        structure.save()  # a script that skips full_clean() is stopped too


@pytest.mark.parametrize(("name", "public", "posted", "json", "message"), BAD, ids=IDS)
def test_the_edit_page_refuses(client, structure, mediator, name, public, posted, json, message):
    client.force_login(mediator)
    response = client.post(
        reverse("space:edit", args=[structure.pk]), edit_payload(structure, **{name: posted})
    )
    assert response.status_code == 200
    assert message in response.context["form"].errors[name][0]
    assert unchanged(structure)


@pytest.mark.parametrize(("name", "public", "posted", "json", "message"), BAD, ids=IDS)
def test_the_proposal_page_refuses(
    client, structure, mediator, name, public, posted, json, message
):
    client.force_login(mediator)
    data = edit_payload(structure, **{name: posted})
    data.pop("version")
    data.update({"stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"})
    response = client.post(reverse("space:propose"), data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[name][0]
    assert Structure.objects.count() == 1


@pytest.mark.parametrize(("name", "public", "posted", "json", "message"), BAD, ids=IDS)
def test_the_api_refuses(structure, mediator, name, public, posted, json, message):
    response = api(mediator).patch(
        f"/api/v1/structures/{structure.uid}/", {public: json}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in response.json()[public][0]
    assert unchanged(structure)


def admin_form(structure, admin_user, **changes):
    model_admin = admin.site._registry[Structure]
    request = RequestFactory().get("/")
    request.user = admin_user
    form_class = model_admin.get_form(request, structure)
    data = form_payload(form_class(instance=structure))
    data.update(changes)
    return form_class(data, instance=structure)


@pytest.mark.parametrize(("name", "public", "posted", "json", "message"), BAD, ids=IDS)
def test_the_admin_refuses(structure, admin_user, name, public, posted, json, message):
    form = admin_form(structure, admin_user, **{name: posted})
    assert not form.is_valid()
    assert message in form.errors[name][0]


def test_the_importer_refuses_the_same_values(tmp_path, structure):
    columns = ["id", "nom", "commune", "code_postal", "adresse", "telephone", "site_web"]
    path = tmp_path / "lieux.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        common = {"commune": "Châteauroux", "code_postal": "36000", "adresse": "1 rue Haute"}
        writer.writerow({**common, "id": "cr", "nom": "Espace\rnumérique"})
        writer.writerow(
            {
                **common,
                "id": "bon",
                "nom": "Espace numérique",
                "telephone": "appelez le standard",
                "site_web": "javascript:alert(1)",
            }
        )
    report = run_import(path, source="Fichier de test")
    rejected = [r for r in report.results if r.outcome == Outcome.REJECTED]
    assert [r.source_id for r in rejected] == ["cr"]
    assert SINGLE_LINE_MESSAGE in " ".join(rejected[0].messages)
    imported = Structure.objects.get(source_id="bon")
    # Refused values are not stored; they are kept in the note for a person to check.
    assert imported.phone == "" and imported.websites == []
    assert "appelez le standard" in imported.import_note


def test_restoring_a_version_that_breaks_the_rules_is_refused(client, structure, coordinator):
    record = structure.history.first()
    record.history_id = None
    record.websites = ["javascript:alert(1)"]
    record.save()  # an old version recorded before the rules
    client.force_login(coordinator)
    response = client.post(
        reverse("space:restore", args=[structure.pk, record.history_id]), follow=True
    )
    html = response.content.decode()
    assert "Cette version ne peut pas être restaurée" in html and WEB in html
    assert Structure.objects.get(pk=structure.pk).websites == []


# The same number, typed as people type it, stored in E.164 on every path -----------

TYPED = "02 54 12 34 57"
STORED = "+33254123457"


def test_the_model_stores_e164(structure):
    structure.phone = TYPED
    structure.full_clean()
    assert structure.phone == STORED
    structure.phone = "02.54.12.34.57"
    structure.save()
    assert Structure.objects.get(pk=structure.pk).phone == STORED


def test_the_edit_page_stores_e164_and_shows_the_national_format(client, structure, mediator):
    client.force_login(mediator)
    url = reverse("space:edit", args=[structure.pk])
    assert client.post(url, edit_payload(structure, phone=TYPED)).status_code == 302
    assert Structure.objects.get(pk=structure.pk).phone == STORED
    assert f'value="{TYPED}"' in client.get(url).content.decode()


def test_the_proposal_page_stores_e164(client, structure, mediator):
    client.force_login(mediator)
    data = edit_payload(structure, name="Nouveau lieu", phone=TYPED)
    data.pop("version")
    data.update({"stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"})
    assert client.post(reverse("space:propose"), data).status_code == 302
    assert Structure.objects.get(name="Nouveau lieu").phone == STORED


def test_the_api_stores_e164(structure, mediator):
    response = api(mediator).patch(
        f"/api/v1/structures/{structure.uid}/", {"telephone": TYPED}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["telephone"] == STORED
    assert Structure.objects.get(pk=structure.pk).phone == STORED


def test_the_admin_stores_e164_and_shows_the_national_format(structure, admin_user):
    structure.phone = STORED
    structure.save()
    form = admin_form(structure, admin_user, phone=TYPED)
    assert form.is_valid(), form.errors
    form.save()
    assert Structure.objects.get(pk=structure.pk).phone == STORED
    assert f'value="{TYPED}"' in str(admin_form(structure, admin_user)["phone"])


def test_the_importer_stores_e164(tmp_path, db):
    path = tmp_path / "lieux.csv"
    path.write_text(
        "id,nom,commune,code_postal,adresse,telephone\n"
        f"a,Espace numérique,Châteauroux,36000,1 rue Haute,{TYPED}\n",
        encoding="utf-8",
    )
    run_import(path, source="Fichier de test")
    assert Structure.objects.get(source_id="a").phone == STORED


def test_restore_stores_e164(client, structure, coordinator):
    record = structure.history.first()
    record.history_id = None
    record.phone = TYPED  # a version recorded before the rules
    record.save()
    client.force_login(coordinator)
    client.post(reverse("space:restore", args=[structure.pk, record.history_id]))
    assert Structure.objects.get(pk=structure.pk).phone == STORED


def test_web_addresses_without_a_scheme_are_taken_as_https(structure, mediator):
    response = api(mediator).patch(
        f"/api/v1/structures/{structure.uid}/",
        {"site_web": ["www.exemple.fr"], "prise_rdv": "rdv.exemple.fr/agenda"},
        format="json",
    )
    assert response.status_code == 200
    fresh = Structure.objects.get(pk=structure.pk)
    assert fresh.websites == ["https://www.exemple.fr"]
    assert fresh.appointment_url == "https://rdv.exemple.fr/agenda"


def test_existing_phones_are_normalised_by_the_migration(structure):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("mediation.migrations.0007_normalise_phones")
    Structure.objects.filter(pk=structure.pk).update(phone=TYPED, import_note="")
    other = Structure.objects.create(
        name="Autre",
        address="2 rue Basse",
        postal_code="36000",
        city="Châteauroux",
    )
    other.kinds.set([ServiceType.objects.first()])
    Structure.objects.filter(pk=other.pk).update(phone="le standard")
    migration.normalise_phones(apps, None)
    assert Structure.objects.get(pk=structure.pk).phone == STORED
    other = Structure.objects.get(pk=other.pk)
    assert other.phone == "" and "Téléphone non reconnu : le standard" in other.import_note


def test_names_stored_with_a_line_break_are_put_on_one_line_by_the_migration(structure):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("mediation.migrations.0012_single_line_fields")
    Structure.objects.filter(pk=structure.pk).update(
        name="Espace\r\nnumérique", summary="Deux\nlignes"
    )
    migration.one_line(apps, None)
    fresh = Structure.objects.get(pk=structure.pk)
    assert fresh.name == "Espace numérique"
    assert fresh.summary == "Deux\nlignes"  # a paragraph may keep its line breaks
    fresh.full_clean()


def test_restoring_a_version_whose_stop_breaks_the_rules_is_refused_whole(
    client, structure, coordinator
):
    from mediation.models import Stop
    from tests.factories import StopFactory

    stop = StopFactory(structure=structure, place="Salle des fêtes")
    structure.save()
    good = structure.history.first()
    record = Stop.history.filter(id=stop.pk).first()
    record.history_id = None
    record.history_date = good.history_date
    record.place = "Salle\ndes fêtes"  # recorded before the rules
    record.save()
    structure.name = "Autre nom"
    structure.save()
    client.force_login(coordinator)
    response = client.post(
        reverse("space:restore", args=[structure.pk, good.history_id]), follow=True
    )
    assert "Cette version ne peut pas être restaurée : Étape" in response.content.decode()
    assert Structure.objects.get(pk=structure.pk).name == "Autre nom"  # nothing half-restored
