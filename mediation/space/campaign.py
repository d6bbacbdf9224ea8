"""Pages of the update campaign (see `mediation.campaigns`): no account needed.

The link of a campaign mail leads to `campaign`: "tout est juste", "corriger
ma fiche" (`campaign_correct`, the mediators' editor, hours and itinerant stops
included; the correction waits for the coordinator) or "devenir médiateur" (an invitation, the usual way). The
coordinators launch a campaign and read its report from "Mon espace", and
decide the corrections in their moderation queue.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from mediation import campaigns, opening_hours, permissions
from mediation.maps import map_config
from mediation.models import Campaign, Invitation, ProposedChange, Structure
from mediation.space import views as space_views
from mediation.space.forms import StopFormSet, StructureForm
from territories.models import BassinDeVie

# As Django's password reset does, the token of a mail's link moves into the
# session on the first visit, and the browser goes to the same page under an
# address naming the mail only ("lien-12"): the token stays out of access logs,
# the browser's history and `Referer`. One session may hold several places' links.
SESSION_TOKENS = {False: "campaign_links", True: "campaign_unsubscribe_links"}
CLEAN_TOKEN = re.compile(r"lien-(\d+)")


def clean_token(mail):
    """What stands in the pages' URLs for `mail`'s token, kept in the session."""
    return f"lien-{mail.pk}"


def _token_out_of_url(request, token, view_name, *, unsubscribe=False, **kwargs):
    """(the token to answer with, None), or (None, the response): on a first visit, a
    redirect to the page without the token; for an address without it that this
    browser's session does not know, the page asking to open the mail's link again.

    A POST to an address with the token (a page loaded before, a mail provider's
    one-click unsubscribe) is answered as it is."""
    key = SESSION_TOKENS[unsubscribe]
    clean = CLEAN_TOKEN.fullmatch(token)
    if clean:
        token = request.session.get(key, {}).get(clean[1])
        if token is None:
            context = {"reason": "session"}
            return None, render(request, "space/campaign/invalid.html", context, status=404)
        return token, None
    if request.method != "GET":
        return token, None
    mail = campaigns.CampaignMail.from_token(token, unsubscribe=unsubscribe)
    if not isinstance(mail, campaigns.CampaignMail):
        return token, None  # forged or expired: its error page, nothing to keep
    request.session[key] = request.session.get(key, {}) | {str(mail.pk): token}
    return None, redirect(view_name, clean_token(mail), **kwargs)


def _mail_or_error(request, token):
    """(mail, None) for a usable link, else (None, the error page)."""
    mail = campaigns.CampaignMail.from_token(token)
    if mail is None:
        reason, status = "unknown", 404
    elif mail == "expired" or mail.is_expired:
        reason, status = "expired", 410
    elif mail.answered_at is not None:
        reason, status = "used", 410
    else:
        return mail, None
    context = {"reason": reason, "mail": mail if not isinstance(mail, str) else None}
    return None, render(request, "space/campaign/invalid.html", context, status=status)


def campaign(request, token):
    """The link of the mail: confirm, correct, or become the place's mediator."""
    token, response = _token_out_of_url(request, token, "space:campaign")
    if response is not None:
        return response
    mail, error = _mail_or_error(request, token)
    if error is not None:
        return error
    structure = mail.structure
    token = clean_token(mail)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            campaigns.confirm(mail=mail)
            return render(
                request,
                "space/campaign/thanks.html",
                {"structure": structure, "confirmed": True, "mediator_form": True, "token": token},
            )
        if action == "mediator":
            return _become_mediator(request, mail)
    return render(
        request,
        "space/campaign/landing.html",
        {
            "mail": mail,
            "structure": structure,
            "token": token,
            "hours_lines": opening_hours.describe(structure.opening_hours),
            "offer": structure.offer(),
        },
    )


def _become_mediator(request, mail):
    """An invitation for the campaign's address: the usual account creation follows."""
    with transaction.atomic():
        invitation, invitation_token = Invitation.new(
            email=mail.email.lower(), structure=mail.structure, invited_by=None
        )
        invitation.save()
    return redirect("space:invitation", invitation_token)


@require_POST
def campaign_mediator(request, token):
    """ "Devenir médiateur" from the thank-you page: the link was used, not expired."""
    token, response = _token_out_of_url(request, token, "space:campaign_mediator")
    if response is not None:
        return response
    mail = campaigns.CampaignMail.from_token(token)
    if mail is None or mail == "expired" or mail.is_expired:
        return render(request, "space/campaign/invalid.html", {"reason": "expired"}, status=410)
    return _become_mediator(request, mail)


def campaign_correct(request, token):
    """The mediators' editor; "save" sends the correction to the coordinator."""
    token, response = _token_out_of_url(request, token, "space:campaign_correct")
    if response is not None:
        return response
    mail, error = _mail_or_error(request, token)
    if error is not None:
        return error
    link = token
    token = clean_token(mail)
    structure = Structure.objects.get(pk=mail.structure_id)
    extra = {}
    if request.method == "POST":
        data = request.POST.copy()
        action = data.get("action", "preview")
        if action == "geocode":
            extra["geocoded"] = space_views._geocode_into(data) or False
        form = StructureForm(data, instance=structure)
        stops = StopFormSet(data, instance=structure, prefix="stops")
        if action in {"preview", "save"} and form.is_valid() and stops.is_valid():
            changes = space_views._preview_changes(form, stops)
            if action == "save" and changes:
                fields = [name for name in form.changed_data if name != "version"]
                values = {
                    form.add_prefix(name): request.POST.getlist(form.add_prefix(name))
                    for name in fields
                }
                proposal = campaigns.propose_correction(
                    mail=mail,
                    data=values,
                    stops=campaigns.proposed_stops(stops, request.POST),
                    changes=changes,
                    build_url=request.build_absolute_uri,
                )
                if proposal is None:
                    return _mail_or_error(request, link)[1]
                return render(
                    request,
                    "space/campaign/thanks.html",
                    {"structure": structure, "corrected": True, "token": token},
                )
            extra.update(
                preview=True,
                changes=changes,
                hours_lines=opening_hours.describe(form.cleaned_data.get("opening_hours")),
            )
    else:
        form = StructureForm(instance=structure)
        stops = StopFormSet(instance=structure, prefix="stops")
    return render(
        request,
        "space/campaign/correct.html",
        {
            "form": form,
            "stops": stops,
            "structure": mail.structure,
            "token": token,
            "geocode_url": reverse("space:campaign_geocode", args=[token]),
            "map_config": map_config(),
            **extra,
        },
    )


@require_GET
def campaign_geocode(request, token):
    clean = CLEAN_TOKEN.fullmatch(token)
    if clean:  # the correction page asks under the address without the token
        token = request.session.get(SESSION_TOKENS[False], {}).get(clean[1], "")
    _mail, error = _mail_or_error(request, token)
    if error is not None:
        raise PermissionDenied
    return space_views.geocode_answer(request)


@csrf_exempt  # the link itself is the credential; mail providers POST it (RFC 8058)
def campaign_unsubscribe(request, token):
    """The unsubscribe link of a campaign mail (also RFC 8058 one-click POST)."""
    token, response = _token_out_of_url(
        request, token, "space:campaign_unsubscribe", unsubscribe=True
    )
    if response is not None:
        return response
    mail = campaigns.CampaignMail.from_token(token, unsubscribe=True)
    if mail is None or mail == "expired":
        return render(request, "space/campaign/invalid.html", {"reason": "unknown"}, status=404)
    if request.method == "POST":
        campaigns.unsubscribe(mail=mail)
        return render(request, "space/campaign/unsubscribed.html", {"mail": mail})
    return render(request, "space/campaign/unsubscribe.html", {"mail": mail})


# Coordinators -------------------------------------------------------------------------


def _bassins_of(user):
    if permissions.is_admin(user):
        return None  # the whole region
    return BassinDeVie.objects.filter(pk__in=permissions.coordinated_bassin_ids(user))


@login_required
@require_POST
def campaign_launch(request):
    if not permissions.is_coordinator(request.user):
        raise PermissionDenied("Réservé aux coordinateurs.")
    base_url = request.build_absolute_uri("/").rstrip("/")
    campaign, results = campaigns.send_campaign(
        bassins=_bassins_of(request.user), created_by=request.user, base_url=base_url
    )
    sent = sum(1 for *_, ok in results if ok)
    messages.success(
        request,
        f"Campagne lancée : {sent} lieu{'x' if sent > 1 else ''} sans médiateur "
        f"{'ont' if sent > 1 else 'a'} reçu un lien de mise à jour.",
    )
    return redirect("space:campaign_report", campaign.pk)


@login_required
def campaign_report(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    user = request.user
    if not (permissions.is_admin(user) or campaign.created_by_id == user.pk):
        bassins = set(campaign.bassins.values_list("pk", flat=True))
        if not bassins or not bassins <= permissions.coordinated_bassin_ids(user):
            raise PermissionDenied
    return render(
        request,
        "space/campaign/report.html",
        {
            "campaign": campaign,
            "report": campaign.report(),
            "mails": campaign.mails.select_related("structure").order_by("structure__name"),
        },
    )


@login_required
@require_POST
def decide_correction(request, pk):
    proposal = get_object_or_404(
        ProposedChange.objects.select_related("structure__commune", "campaign_mail"), pk=pk
    )
    if not permissions.can_moderate(request.user, proposal.structure):
        raise PermissionDenied
    if proposal.state != ProposedChange.State.PENDING:
        messages.info(request, "Cette correction a déjà été traitée.")
        return redirect("space:moderation")
    if request.POST.get("decision") == "accept":
        errors = campaigns.accept_correction(proposal=proposal, user=request.user)
        if errors:
            messages.error(
                request,
                "La correction ne peut pas être appliquée telle quelle : "
                + " ; ".join(errors)
                + ". Corrigez la fiche vous-même, puis écartez la proposition.",
            )
        else:
            messages.success(request, f"« {proposal.structure} » est corrigée.")
    else:
        proposal.state = ProposedChange.State.REFUSED
        proposal.decided_by = request.user
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["state", "decided_by", "decided_at"])
        messages.success(request, "La correction est écartée.")
    return redirect("space:moderation")
