"""The update campaign: places without a mediator confirm or correct their listing
from a single-use link, without an account."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mediation import campaigns, exporters
from mediation.models import (
    CampaignMail,
    CampaignOptOut,
    Invitation,
    Membership,
    ProposedChange,
    Structure,
)
from mediation.space.forms import StopFormSet, StructureForm
from tests.factories import StopFactory, StructureFactory, commune
from tests.space.conftest import form_payload

pytestmark = pytest.mark.django_db

BASE = "https://mediation.example"


@pytest.fixture
def library(db):
    """A place of the bassin de Châteauroux with a public e-mail and no mediator."""
    return StructureFactory(
        name="Médiathèque Équinoxe",
        commune=commune("36044"),
        emails=["accueil@equinoxe.example"],
        phone="+33254000000",
    )


def run(*args):
    out = StringIO()
    call_command("send_update_campaign", "--base-url", BASE, *args, stdout=out)
    return out.getvalue()


def link_of(message):
    return re.search(r"https?://[^/\s]+(/espace/mise-a-jour/\S+/)", message.body)[1]


def unsubscribe_of(message):
    return re.search(r"https://mediation\.example(/espace/desinscription/\S+/)", message.body)[1]


def test_only_places_without_mediator_with_a_known_e_mail_are_mailed(library, mediator, structure):
    structure.emails = ["equipe@centre.example"]
    structure.save()  # `structure` has a mediator: it keeps its own listing
    StructureFactory(name="Sans e-mail", emails=[])
    StructureFactory(name="Brouillon", status="draft", emails=["b@example.fr"])
    output = run()
    assert [m.to for m in mail.outbox] == [["accueil@equinoxe.example"]]
    message = mail.outbox[0]
    assert (
        message.subject
        == "« Médiathèque Équinoxe » : vos informations sont-elles toujours justes ?"
    )
    assert "Pas besoin de compte" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://mediation.example/")
    assert "Envoyés : 1" in output and "Sans réponse : 1" in output


def test_at_most_one_campaign_mail_per_place_per_six_months(library):
    run()
    run()
    assert len(mail.outbox) == 1
    CampaignMail.objects.update(sent_at=timezone.now() - timedelta(days=183))
    run()
    assert len(mail.outbox) == 2


def test_tout_est_juste_sets_the_verification_date_once(client, library):
    run()
    link = link_of(mail.outbox[0])
    page = client.get(link, follow=True).content.decode()
    assert "Les informations de « Médiathèque Équinoxe » sont-elles justes ?" in page
    assert "02 54 00 00 00" in page  # the phone as people write it
    response = client.post(link, {"action": "confirm"})
    assert "est indiquée comme vérifiée aujourd’hui" in response.content.decode()
    library.refresh_from_db()
    assert library.verified_at is not None
    assert library.history.latest().history_change_reason == campaigns.CONFIRMED_REASON
    assert CampaignMail.objects.get().outcome == CampaignMail.Outcome.CONFIRMED
    # Single use.
    assert client.get(link, follow=True).status_code == 410
    assert client.post(link, {"action": "confirm"}).status_code == 410


def test_an_expired_or_forged_link_is_refused_in_french(client, library):
    run()
    link = link_of(mail.outbox[0])
    CampaignMail.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link, follow=True)
    assert response.status_code == 410
    assert "Il a expiré" in response.content.decode()
    assert client.get(link[:-8] + "abcdefg/").status_code == 404


def correction_payload(structure, **changes):
    """The correction page as loaded (the listing and its stops), with `changes`."""
    data = form_payload(StructureForm(instance=structure))
    stops = StopFormSet(instance=structure, prefix="stops")
    data.update(form_payload(stops.management_form))
    for stop_form in stops.forms:
        data.update(form_payload(stop_form))
    data.update(changes)
    return data


def test_a_correction_waits_for_the_coordinator_with_a_diff(client, library, coordinator):
    run()
    link = link_of(mail.outbox[0])
    correct = link + "corriger/"
    page = client.get(correct, follow=True).content.decode()
    assert "data-hours-editor-for" in page  # the mediators' hours editor
    preview = client.post(
        correct, correction_payload(library, phone="02 54 99 99 99", action="preview")
    ).content.decode()
    assert "Aperçu de votre correction" in preview
    client.post(correct, correction_payload(library, phone="02 54 99 99 99", action="save"))
    proposal = ProposedChange.objects.get()
    assert proposal.state == ProposedChange.State.PENDING
    assert [label for label, _old, _new in proposal.changes] == ["Téléphone"]
    assert Structure.objects.get(pk=library.pk).phone == "+33254000000"  # not published yet
    assert mail.outbox[-1].to == [coordinator.email]
    assert "Téléphone" in mail.outbox[-1].body

    # Meanwhile a coordinator changes another field: it is kept.
    Structure.objects.filter(pk=library.pk).update(summary="Ateliers le mardi.")

    client.force_login(coordinator)
    queue = client.get(reverse("space:moderation")).content.decode()
    assert "Corrections envoyées par les lieux (1)" in queue
    assert "accueil@equinoxe.example" in queue
    client.post(reverse("space:decide_correction", args=[proposal.pk]), {"decision": "accept"})
    library.refresh_from_db()
    assert library.phone in {"02 54 99 99 99", "+33254999999"}
    assert library.summary == "Ateliers le mardi."
    assert library.verified_at is not None
    record = library.history.latest()
    assert record.history_user == coordinator
    assert record.history_change_reason == campaigns.CORRECTION_REASON
    assert ProposedChange.objects.get().state == ProposedChange.State.ACCEPTED
    assert CampaignMail.objects.get().outcome == CampaignMail.Outcome.CORRECTED


def test_another_bassin_coordinator_cannot_decide(client, library, other_coordinator):
    proposal = ProposedChange.objects.create(structure=library, data={}, changes=[])
    client.force_login(other_coordinator)
    response = client.post(
        reverse("space:decide_correction", args=[proposal.pk]), {"decision": "accept"}
    )
    assert response.status_code == 403


def test_the_unsubscribe_link_stops_further_campaigns(client, library):
    run()
    url = unsubscribe_of(mail.outbox[0])
    assert "Confirmer la désinscription" in client.get(url, follow=True).content.decode()
    client.post(url)
    assert CampaignOptOut.objects.filter(email="accueil@equinoxe.example").exists()
    CampaignMail.objects.update(sent_at=timezone.now() - timedelta(days=400))
    run()
    assert len(mail.outbox) == 1


def test_the_link_offers_to_become_the_mediator(client, library):
    run()
    response = client.post(link_of(mail.outbox[0]), {"action": "mediator"})
    invitation = Invitation.objects.get()
    assert invitation.email == "accueil@equinoxe.example"
    assert invitation.structure == library
    assert response["Location"].startswith("/espace/invitation/")
    assert "Créer mon compte" in client.get(response["Location"], follow=True).content.decode()


def test_the_report_counts_sent_confirmed_corrected_and_no_answer(client, library, coordinator):
    for name in ("Lieu B", "Lieu C"):
        StructureFactory(name=name, commune=commune("36044"), emails=[f"{name[-1]}@x.example"])
    client.force_login(coordinator)
    response = client.post(reverse("space:campaign_launch"))
    assert len(mail.outbox) == 3
    links = {m.to[0]: link_of(m) for m in mail.outbox}
    client.logout()
    client.post(links["accueil@equinoxe.example"], {"action": "confirm"})
    b = Structure.objects.get(name="Lieu B")
    client.post(
        links["B@x.example"] + "corriger/", correction_payload(b, summary="Nouveau", action="save")
    )
    client.force_login(coordinator)
    page = client.get(response["Location"]).content.decode()
    figures = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td>(\d+)</td>", page))
    assert figures["Envoyés"] == "3"
    assert figures["Confirmés « tout est juste »"] == "1"
    assert figures["Corrigés"] == "1"
    assert figures["Sans réponse"] == "1"


def test_the_coordinator_button_mails_only_their_bassins(client, library, coordinator):
    StructureFactory(name="À Bourges", commune=commune("18033"), emails=["b@bourges.example"])
    client.force_login(coordinator)
    assert (
        "Lancer une campagne de mise à jour" in client.get(reverse("space:home")).content.decode()
    )
    client.post(reverse("space:campaign_launch"))
    assert [m.to for m in mail.outbox] == [["accueil@equinoxe.example"]]


def test_a_mediator_cannot_launch_a_campaign(client, mediator):
    client.force_login(mediator)
    assert client.post(reverse("space:campaign_launch")).status_code == 403


def test_a_place_with_a_mediator_is_never_mailed(library):
    from tests.factories import UserFactory

    Membership.objects.create(structure=library, user=UserFactory())
    run()
    assert mail.outbox == []


DEMARCHES = "Aide aux démarches administratives"
FROM_KIND = "type « France Services »"


def deduce_demarches(structure):
    """As the census import leaves a France Services: a service deduced from its kind."""
    Structure.objects.filter(pk=structure.pk).update(
        services=[*structure.services, DEMARCHES],
        deduced={"services": [{"value": DEMARCHES, "source": FROM_KIND}]},
    )
    return Structure.objects.get(pk=structure.pk)


def exported_services(structure):
    record = next(r for r in exporters.standard_records() if r["id"] == structure.uid)
    return record["services"].split("|")


def test_tout_est_juste_also_confirms_what_the_import_deduced(client, library):
    library = deduce_demarches(library)
    assert DEMARCHES not in exported_services(library)
    run()
    link = link_of(mail.outbox[0])
    page = client.get(link, follow=True).content.decode()
    # The place sees what it confirms: the deduced value, marked, with where it comes from.
    assert f"(déduit de {FROM_KIND} — à confirmer)" in page
    client.post(link, {"action": "confirm"})
    library.refresh_from_db()
    assert library.deduced_sources("services") == {}
    assert DEMARCHES in library.services
    # Confirmed by the place: now in the export, and no longer "à confirmer" on its page.
    assert DEMARCHES in exported_services(library)
    assert "(à confirmer)" not in client.get(library.get_absolute_url()).content.decode()


def test_ces_informations_sont_a_jour_confirms_what_the_import_deduced(client, structure, mediator):
    structure = deduce_demarches(structure)
    client.force_login(mediator)
    home = client.get(reverse("space:home")).content.decode()
    assert f"À confirmer : {DEMARCHES}" in home
    assert f"(déduit de {FROM_KIND})" in home
    client.post(reverse("space:verify", args=[structure.pk]))
    structure.refresh_from_db()
    assert structure.verified_at is not None
    assert structure.deduced_sources("services") == {}
    assert DEMARCHES in exported_services(structure)
    assert "À confirmer" not in client.get(reverse("space:home")).content.decode()
    # The edit form no longer says "déduit … à confirmer".
    assert (
        "à confirmer" not in client.get(reverse("space:edit", args=[structure.pk])).content.decode()
    )


def test_a_correction_of_the_itinerant_stops_waits_for_the_coordinator_with_a_diff(
    client, library, coordinator
):
    """The place corrects its stops with the mediators' stops editor, as the rest."""
    market = StopFactory(structure=library, place="Marché de Déols", commune=commune("36063"))
    fair = StopFactory(structure=library, place="Salle des fêtes", commune=commune("36018"))
    run()
    correct = link_of(mail.outbox[0]) + "corriger/"
    page = client.get(correct, follow=True).content.decode()
    assert "Étapes itinérantes" in page and "Étape : Marché de Déols" in page
    index = {
        s.instance.place: i
        for i, s in enumerate(StopFormSet(instance=library, prefix="stops").forms)
        if s.instance.pk
    }
    new = len(index)  # the editor's empty form for a new stop
    changes = {
        f"stops-{index['Marché de Déols']}-opening_hours": "Tu 09:00-12:00",
        f"stops-{index['Salle des fêtes']}-DELETE": "on",
        f"stops-{new}-place": "Mairie d’Ardentes",
        f"stops-{new}-commune": "Ardentes (36120)",
        f"stops-{new}-opening_hours": "Fr 14:00-17:00",
    }
    preview = client.post(correct, correction_payload(library, action="preview", **changes))
    html = preview.content.decode()
    assert "Aperçu de votre correction" in html, html[:3000]
    assert "Étape « Marché de Déols » : Jours et heures de passage" in html
    client.post(correct, correction_payload(library, action="save", **changes))
    proposal = ProposedChange.objects.get()
    assert sorted(proposal.changes) == sorted(
        [
            [
                "Étape « Marché de Déols » : Jours et heures de passage",
                "We[1] 09:00-12:00",
                "Tu 09:00-12:00",
            ],
            ["Étape « Salle des fêtes »", "", "supprimée"],
            ["Étape « Mairie d’Ardentes »", "", "ajoutée : Ardentes, Fr 14:00-17:00"],
        ]
    )
    # Nothing published before the coordinator decides.
    assert sorted(library.stops.values_list("place", flat=True)) == [
        "Marché de Déols",
        "Salle des fêtes",
    ]

    # Meanwhile a mediator's colleague adds a note to the market stop: it is kept.
    market.note = "Devant la halle"
    market.save()
    client.force_login(coordinator)
    queue = client.get(reverse("space:moderation")).content.decode()
    assert "Étape « Salle des fêtes »" in queue and "<ins>Tu 09:00-12:00</ins>" in queue
    client.post(reverse("space:decide_correction", args=[proposal.pk]), {"decision": "accept"})
    assert ProposedChange.objects.get().state == ProposedChange.State.ACCEPTED
    stops = {s.place: s for s in library.stops.select_related("commune")}
    assert set(stops) == {"Marché de Déols", "Mairie d’Ardentes"}
    assert stops["Marché de Déols"].opening_hours == "Tu 09:00-12:00"
    assert stops["Marché de Déols"].note == "Devant la halle"
    assert stops["Mairie d’Ardentes"].commune.name == "Ardentes"
    assert stops["Mairie d’Ardentes"].opening_hours == "Fr 14:00-17:00"
    assert not library.stops.filter(pk=fair.pk).exists()


def test_a_stop_correction_that_no_longer_applies_is_not_published_half(
    client, library, coordinator
):
    market = StopFactory(structure=library, place="Marché de Déols", commune=commune("36063"))
    run()
    correct = link_of(mail.outbox[0]) + "corriger/"
    client.post(
        correct,
        correction_payload(library, action="save", **{"stops-0-opening_hours": "Tu 09:00-12:00"}),
    )
    proposal = ProposedChange.objects.get()
    market.delete()  # the stop is removed meanwhile
    client.force_login(coordinator)
    response = client.post(
        reverse("space:decide_correction", args=[proposal.pk]), {"decision": "accept"}, follow=True
    )
    assert "elle a été supprimée depuis la correction" in response.content.decode()
    assert ProposedChange.objects.get().state == ProposedChange.State.PENDING


def test_the_token_leaves_the_address_at_the_first_visit(client, library):
    """As Django's password reset: kept in the session, out of logs, history and Referer."""
    other = StructureFactory(name="Espace de Déols", commune=commune("36063"), emails=["d@e.fr"])
    run()
    links = {m.to[0]: link_of(m) for m in mail.outbox}
    token = links["accueil@equinoxe.example"].split("/")[-2]
    response = client.get(links["accueil@equinoxe.example"])
    assert response.status_code == 302
    clean = response["Location"]
    assert re.fullmatch(r"/espace/mise-a-jour/lien-\d+/", clean)
    page = client.get(clean).content.decode()
    assert "Médiathèque Équinoxe" in page and token not in page
    assert f'href="{clean}corriger/"' in page
    # A second place's link in the same browser: each page still answers for its own place.
    second = client.get(links["d@e.fr"])["Location"]
    assert second != clean and "Espace de Déols" in client.get(second).content.decode()
    editor = client.get(clean + "corriger/").content.decode()
    assert "Corriger « Médiathèque Équinoxe »" in editor and token not in editor
    client.post(clean, {"action": "confirm"})
    assert Structure.objects.get(pk=library.pk).verified_at is not None
    assert Structure.objects.get(pk=other.pk).verified_at is None
    # The address alone, without the session that holds the token, opens nothing.
    response = Client().get(clean)
    assert response.status_code == 404
    assert "Ouvrez de nouveau le lien reçu par e-mail" in response.content.decode()


def test_the_unsubscribe_token_leaves_the_address_too_but_one_click_still_works(client, library):
    run()
    url = unsubscribe_of(mail.outbox[0])
    clean = client.get(url)["Location"]
    assert re.fullmatch(r"/espace/desinscription/lien-\d+/", clean)
    client.post(clean)
    assert CampaignOptOut.objects.filter(email="accueil@equinoxe.example").exists()
    CampaignOptOut.objects.all().delete()
    Client().post(url)  # RFC 8058: the mail provider posts the link itself
    assert CampaignOptOut.objects.filter(email="accueil@equinoxe.example").exists()
