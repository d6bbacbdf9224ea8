"""Update campaigns: places without a mediator keep their listing right, without an account.

A campaign (the `send_update_campaign` command, or a coordinator's button in
"Mon espace") e-mails each published place of its bassins whose public contact
e-mail is known and that has no active mediator a link:

- signed (`django.core.signing`), valid `LINK_MAX_AGE` (30 days), single-use:
  the first answer — "tout est juste" or a correction — closes it;
- to a page where the place confirms (the verification date is set) or corrects
  its listing with the mediators' editor; a correction is not published at once
  but waits in the coordinator's moderation queue as a `ProposedChange`, shown
  as a diff;
- the page also offers to become the place's mediator (an invitation to create
  an account, the usual way);
- each mail carries an unsubscribe link (an address that unsubscribed is never
  mailed again by a campaign), and a place gets at most one campaign mail per
  `RESEND_AFTER` (six months).

`Campaign.report()` counts what happened: sent, confirmed, corrected, no answer.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

LINK_MAX_AGE = timezone.timedelta(days=30)
RESEND_AFTER = timezone.timedelta(days=182)
LINK_SALT = "mediation.campaign.link"
UNSUBSCRIBE_SALT = "mediation.campaign.unsubscribe"
CONFIRMED_REASON = "Informations confirmées par le lieu (campagne de mise à jour)"
CORRECTION_REASON = "Correction proposée par le lieu (campagne de mise à jour), validée"


class Campaign(models.Model):
    """One sending of update links, to the places of some bassins (all when none)."""

    created_at = models.DateTimeField("lancée le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="lancée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    bassins = models.ManyToManyField(
        "territories.BassinDeVie", verbose_name="bassins de vie", blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "campagne de mise à jour"
        verbose_name_plural = "campagnes de mise à jour"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Campagne du {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"

    def report(self):
        counts = self.mails.aggregate(
            delivered=Count("pk", filter=Q(sent=True)),
            failed=Count("pk", filter=Q(sent=False)),
            confirmed=Count("pk", filter=Q(outcome=CampaignMail.Outcome.CONFIRMED)),
            corrected=Count("pk", filter=Q(outcome=CampaignMail.Outcome.CORRECTED)),
            unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        )
        sent = counts.pop("delivered")
        return CampaignReport(
            sent=sent,
            **counts,
            no_answer=sent - counts["confirmed"] - counts["corrected"],
        )


@dataclass
class CampaignReport:
    sent: int
    failed: int
    confirmed: int
    corrected: int
    no_answer: int
    unsubscribed: int

    def lines(self):
        return [
            ("Envoyés", self.sent),
            ("Confirmés « tout est juste »", self.confirmed),
            ("Corrigés", self.corrected),
            ("Sans réponse", self.no_answer),
            ("Désinscrits", self.unsubscribed),
            ("Envois en échec", self.failed),
        ]


class CampaignMail(models.Model):
    """The link sent to one place, and what became of it."""

    class Outcome(models.TextChoices):
        PENDING = "", "Sans réponse"
        CONFIRMED = "confirmed", "Tout est juste"
        CORRECTED = "corrected", "Correction proposée"

    campaign = models.ForeignKey(
        Campaign, verbose_name="campagne", on_delete=models.CASCADE, related_name="mails"
    )
    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="campaign_mails",
    )
    email = models.EmailField("adresse")
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)
    sent = models.BooleanField("envoyé", default=False)
    expires_at = models.DateTimeField("lien valable jusqu’au")
    answered_at = models.DateTimeField("réponse le", null=True, blank=True)
    outcome = models.CharField(
        "réponse", max_length=10, choices=Outcome.choices, default=Outcome.PENDING, blank=True
    )
    unsubscribed_at = models.DateTimeField("désinscrit le", null=True, blank=True)

    class Meta:
        verbose_name = "envoi de campagne"
        verbose_name_plural = "envois de campagne"
        ordering = ["-sent_at"]

    def __str__(self):
        return f"{self.structure} – {self.email}"

    @property
    def is_usable(self):
        return self.answered_at is None and self.expires_at > timezone.now()

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    def link_token(self):
        return signing.dumps({"m": self.pk, "n": self.nonce}, salt=LINK_SALT, compress=True)

    def unsubscribe_token(self):
        return signing.dumps({"m": self.pk, "n": self.nonce}, salt=UNSUBSCRIBE_SALT, compress=True)

    @classmethod
    def from_token(cls, token, *, unsubscribe=False):
        """The mail behind a link's token, or None (forged, or expired for a link)."""
        try:
            if unsubscribe:
                data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
            else:
                data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE.total_seconds())
        except signing.SignatureExpired:
            return "expired"
        except signing.BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        return (
            cls.objects.select_related("structure__commune__bassin")
            .filter(pk=data.get("m"), nonce=data.get("n"))
            .first()
        )


class CampaignOptOut(models.Model):
    """An address that asked to receive no more campaign mails."""

    email = models.EmailField("adresse", unique=True)
    created_at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "désinscription des campagnes"
        verbose_name_plural = "désinscriptions des campagnes"

    def __str__(self):
        return self.email


class ProposedChange(models.Model):
    """A correction sent by a place through its campaign link, waiting for a coordinator.

    `data` holds the edit form's submitted values of the fields the place
    changed, `stops` its itinerant stops changed (`proposed_stops()`);
    `changes` the readable diff (label, before, after) shown to the
    coordinator. Accepting re-validates the values with the same forms.
    """

    class State(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REFUSED = "refused", "Refusée"

    structure = models.ForeignKey(
        "mediation.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="proposed_changes",
    )
    campaign_mail = models.ForeignKey(
        CampaignMail,
        verbose_name="envoi",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposed_changes",
    )
    data = models.JSONField("valeurs proposées")
    stops = models.JSONField(
        "étapes proposées",
        default=list,
        blank=True,
        help_text="Étapes changées : identifiant (vide pour une nouvelle), suppression, "
        "valeurs saisies des champs changés.",
    )
    changes = models.JSONField("modifications")
    created_at = models.DateTimeField("proposée le", default=timezone.now)
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)

    class Meta:
        verbose_name = "correction proposée par un lieu"
        verbose_name_plural = "corrections proposées par les lieux"
        ordering = ["created_at"]

    def __str__(self):
        return f"Correction de {self.structure}"

    @property
    def email(self):
        return self.campaign_mail.email if self.campaign_mail_id else ""


# Who is mailed ------------------------------------------------------------------


def eligible_structures(*, bassins=None, now=None):
    """Published places with a public e-mail, no active mediator, no campaign mail
    for six months and an address that did not unsubscribe."""
    from mediation.models import Membership, Structure

    now = now or timezone.now()
    mediated = Membership.objects.filter(user__is_active=True).values("structure_id")
    mailed = CampaignMail.objects.filter(sent=True, sent_at__gt=now - RESEND_AFTER).values(
        "structure_id"
    )
    queryset = (
        Structure.objects.published()
        .exclude(emails=[])
        .exclude(pk__in=mediated)
        .exclude(pk__in=mailed)
        .select_related("commune__bassin")
        .order_by("name", "pk")
    )
    if bassins is not None:
        queryset = queryset.filter(commune__bassin__in=bassins)
    opted_out = {email.lower() for email in CampaignOptOut.objects.values_list("email", flat=True)}
    for structure in queryset:
        addresses = [e.strip() for e in structure.emails if e and e.strip()]
        if addresses and addresses[0].lower() not in opted_out:
            yield structure, addresses[0]


def send_campaign(*, bassins=None, created_by=None, base_url, dry_run=False):
    """Create a campaign and mail its links now. Returns (campaign or None, [(structure,
    address, sent)])."""
    from mediation.space import emails

    targets = list(eligible_structures(bassins=bassins))
    if dry_run:
        return None, [(structure, address, False) for structure, address in targets]
    campaign = Campaign.objects.create(created_by=created_by)
    if bassins is not None:
        campaign.bassins.set(bassins)
    results = []
    for structure, address in targets:
        now = timezone.now()
        mail = CampaignMail.objects.create(
            campaign=campaign,
            structure=structure,
            email=address,
            nonce=secrets.token_hex(16),
            sent_at=now,
            expires_at=now + LINK_MAX_AGE,
        )
        unsubscribe_url = base_url + reverse(
            "space:campaign_unsubscribe", args=[mail.unsubscribe_token()]
        )
        sent = emails.deliver(
            "campaign",
            to=[address],
            context={
                "structure": structure,
                "url": base_url + reverse("space:campaign", args=[mail.link_token()]),
                "unsubscribe_url": unsubscribe_url,
                "expires_at": mail.expires_at,
            },
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        if sent:
            CampaignMail.objects.filter(pk=mail.pk).update(sent=True)
        results.append((structure, address, sent))
    return campaign, results


# Answers ----------------------------------------------------------------------------


@transaction.atomic
def _close(mail, outcome):
    """Use the single-use link; False if it was already used (or has expired)."""
    locked = CampaignMail.objects.select_for_update().get(pk=mail.pk)
    if not locked.is_usable:
        return False
    locked.answered_at = timezone.now()
    locked.outcome = outcome
    locked.save(update_fields=["answered_at", "outcome"])
    mail.answered_at, mail.outcome = locked.answered_at, locked.outcome
    return True


@transaction.atomic
def confirm(*, mail):
    """ "Tout est juste": the verification date, and the deduced values the page showed
    "à confirmer" confirmed, recorded in the history."""
    if not _close(mail, CampaignMail.Outcome.CONFIRMED):
        return False
    structure = mail.structure
    structure._change_reason = CONFIRMED_REASON
    structure.save(update_fields=[*structure.mark_verified(), "updated_at"])
    return True


def proposed_stops(stops, data):
    """The stops a place changed in the editor (a valid `StopFormSet` bound to `data`):
    [{"id": the stop's id, or None for a new one, "delete": bool, "values": {field:
    [typed values]}}], the values of the fields changed (all of them for a new stop)."""
    proposed = []
    for stop_form in stops.forms:
        if not stop_form.has_changed():
            continue
        pk = stop_form.instance.pk
        names = (
            [n for n in stop_form.changed_data if n not in ("id", "DELETE")]
            if pk
            else [n for n in stop_form.fields if n not in ("id", "DELETE")]
        )
        proposed.append(
            {
                "id": pk,
                "delete": stop_form in stops.deleted_forms,
                "values": {name: data.getlist(stop_form.add_prefix(name)) for name in names},
            }
        )
    return proposed


@transaction.atomic
def propose_correction(*, mail, data, changes, build_url, stops=()):
    """Keep the place's correction (`stops`: `proposed_stops()`) for the coordinator, who
    is told by e-mail."""
    from mediation.space import emails

    if not _close(mail, CampaignMail.Outcome.CORRECTED):
        return None
    proposal = ProposedChange.objects.create(
        structure=mail.structure,
        campaign_mail=mail,
        data=data,
        stops=list(stops),
        changes=[[change.label, change.old, change.new] for change in changes],
    )
    emails.send(
        "campaign_correction",
        to=emails.coordinators_of(mail.structure),
        context={
            "structure": mail.structure,
            "proposal": proposal,
            "url": build_url(reverse("space:moderation")),
        },
    )
    return proposal


@transaction.atomic
def unsubscribe(*, mail):
    CampaignOptOut.objects.get_or_create(email=mail.email.lower())
    CampaignMail.objects.filter(pk=mail.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )


def _stops_as_proposed(structure, proposed):
    """(the stops' formset with the place's changes applied onto its stops as they are now,
    or None when it changed none; the errors, in French)."""
    from django.http import QueryDict

    from mediation.space.forms import StopFormSet
    from mediation.space.merge import posted

    if not proposed:
        return None, []
    current = StopFormSet(instance=structure, prefix="stops")
    data = QueryDict(mutable=True)
    index_of = {}
    for index, stop_form in enumerate(current.initial_forms):
        index_of[stop_form.instance.pk] = index
        for name in stop_form.fields:
            value = posted(stop_form[name])
            if value is not None:
                data.setlist(
                    stop_form.add_prefix(name), value if isinstance(value, list) else [value]
                )
    total, errors = len(index_of), []
    for stop in proposed:
        if stop["id"] is None:
            index, total = total, total + 1
        elif stop["id"] in index_of:
            index = index_of[stop["id"]]
        elif stop["delete"]:
            continue  # already gone
        else:
            place = (stop["values"].get("place") or ["une étape"])[0]
            errors.append(f"Étape « {place} » : elle a été supprimée depuis la correction")
            continue
        if stop["delete"]:
            data[f"stops-{index}-DELETE"] = "on"
        for name, values in stop["values"].items():
            data.setlist(f"stops-{index}-{name}", values)
    data.update(
        {
            "stops-TOTAL_FORMS": str(total),
            "stops-INITIAL_FORMS": str(len(index_of)),
            "stops-MIN_NUM_FORMS": "0",
            "stops-MAX_NUM_FORMS": "1000",
        }
    )
    stops = StopFormSet(data, instance=structure, prefix="stops")
    if not stops.is_valid():
        for stop_form in stops.forms:
            place = stop_form.data.get(stop_form.add_prefix("place")) or "nouvelle étape"
            for name, messages in stop_form.errors.items():
                what = f"Étape « {place} »"
                if name in stop_form.fields:
                    what += f" : {stop_form.fields[name].label}"
                errors.append(f"{what} : {' '.join(messages)}")
        errors += list(stops.non_form_errors())
    return stops, errors


@transaction.atomic
def accept_correction(*, proposal, user):
    """Apply the fields the place changed onto the listing as it is now (fields others
    changed meanwhile are kept), through the edit form's rules. Returns the errors."""
    from mediation.models import Structure
    from mediation.space.forms import StructureForm
    from mediation.space.merge import posted_data

    structure = Structure.objects.select_for_update().get(pk=proposal.structure_id)
    data = posted_data(StructureForm(instance=structure))
    for key, values in proposal.data.items():
        data.setlist(key, values)
    form = StructureForm(data, instance=structure)
    stops, errors = _stops_as_proposed(structure, proposal.stops)
    if not form.is_valid():
        errors += [
            f"{form.fields[name].label if name in form.fields else 'fiche'} : {' '.join(messages)}"
            for name, messages in form.errors.items()
        ]
    if errors:
        return errors
    if stops is not None:
        stops.save()  # first: the place's history record then follows its stops' records
    # The place saw the deduced values "à confirmer" in the editor: what it kept is confirmed.
    form.confirm_deduced()
    structure = form.save(commit=False)
    structure.verified_at = timezone.now()
    structure._history_user = user
    structure._change_reason = CORRECTION_REASON
    structure.save()
    form.save_m2m()
    proposal.state = ProposedChange.State.ACCEPTED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["state", "decided_by", "decided_at"])
    return []
