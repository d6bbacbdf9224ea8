"""Pages of the mediators' space ("Mon espace"), under /espace/.

Every view asks `mediation.permissions` before showing a draft or changing
anything; none decides on its own. Every change goes through a POST form with
its CSRF token.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mediation import abuse, geocoding, opening_hours, permissions, privacy
from mediation.choices import Status
from mediation.maps import map_config
from mediation.models import (
    ApiToken,
    Campaign,
    ErrorReport,
    Invitation,
    JoinRequest,
    ProposedChange,
    Stop,
    Structure,
    User,
)
from mediation.space import actions, merge
from mediation.space.forms import (
    AccountCreationForm,
    AccountDeletionForm,
    ApiTokenForm,
    DecisionForm,
    InvitationForm,
    JoinRequestForm,
    RefusalForm,
    StopFormSet,
    StructureForm,
)
from mediation.space.history import (
    Change,
    display_value,
    field_label,
    timeline,
    version_token,
)


def _structure(request, pk, check):
    """The structure `pk`, if `check(user, structure)` allows; 403 otherwise."""
    structure = get_object_or_404(
        Structure.objects.select_related("commune__bassin", "proposed_by"), pk=pk
    )
    if not check(request.user, structure):
        raise PermissionDenied("Vous n’avez pas accès à cette structure.")
    return structure


def _absolute(request):
    return request.build_absolute_uri


def _next_url(request, default):
    """The POSTed `next` if it stays on this site, else `default` (no open redirect)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Mon espace ---------------------------------------------------------------------

REPORTS_ON_HOME = 20  # the rest waits on the moderation page


@login_required
def home(request):
    user = request.user
    mine = (
        permissions.member_structures(user)
        .select_related("commune")
        .prefetch_related("kinds")
        .order_by("name")
    )
    context = {
        "mine": mine,
        "proposals": Structure.objects.filter(proposed_by=user, status=Status.DRAFT),
        "join_requests": user.join_requests.filter(state=JoinRequest.State.PENDING).select_related(
            "structure"
        ),
        "is_coordinator": permissions.is_coordinator(user),
        "reports": ErrorReport.objects.filter(
            structure__in=permissions.editable_structures(user), state=ErrorReport.State.NEW
        ).select_related("structure")[:REPORTS_ON_HOME],
    }
    if context["is_coordinator"]:
        territory = permissions.moderated_structures(user).select_related("commune")
        query = request.GET.get("q", "").strip()
        if query:
            territory = territory.filter(name__icontains=query) | territory.filter(
                city__icontains=query
            )
        context.update(
            query=query,
            territory=Paginator(territory.order_by("name"), 50).get_page(request.GET.get("page")),
            bassins=user.coordinations.select_related("bassin"),
            pending=moderation_queue(user, counts_only=True),
            campaigns=Campaign.objects.filter(created_by=user)[:5],
        )
    return render(request, "space/home.html", context)


@login_required
def account_delete(request):
    """A person deletes their own account, after giving their password again."""
    form = AccountDeletionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        privacy.delete_account(user=request.user)
        logout(request)
        messages.success(request, "Votre compte est supprimé. Merci d’avoir tenu vos lieux à jour.")
        return redirect("mediation:home")
    return render(request, "space/account_delete.html", {"form": form})


# Editing --------------------------------------------------------------------------


def _preview_changes(form, stops):
    """What the save will change, as lines "field: old → new"."""
    changes = []
    original = Structure.objects.filter(pk=form.instance.pk).first() if form.instance.pk else None
    for name in form.changed_data:
        if name == "version":
            continue
        label = form.fields[name].label
        if name == "kinds":
            old = " ; ".join(k.name for k in original.kinds.all()) if original else "(vide)"
            new = " ; ".join(k.name for k in form.cleaned_data["kinds"])
        else:
            before = getattr(original, name) if original else None
            old = display_value(Structure, name, before)
            new = display_value(Structure, name, form.cleaned_data.get(name))
        if old != new:
            changes.append(Change(label, old, new))
    for stop_form in stops.forms:
        if stop_form.has_changed():
            changes += _stop_changes(stop_form, deleted=stop_form in stops.deleted_forms)
    return changes


def _stop_value(name, value):
    """A stop's value as `display_value` reads it (the commune by its code)."""
    return value.pk if name == "commune" and value is not None else value


def _stop_changes(stop_form, *, deleted):
    """The lines of one stop's change: each field changed ("Étape « X » : Précisions :
    old → new"), or the stop deleted, or added with what it says."""
    before = (
        Stop.objects.filter(pk=stop_form.instance.pk).first() if stop_form.instance.pk else None
    )
    data = stop_form.cleaned_data
    place = before.place if before else data.get("place") or stop_form.instance.place
    if deleted:
        return [Change(f"Étape « {place} »", "", "supprimée")]
    if before is None:
        commune = data.get("commune")
        said = [data.get("address"), commune.name if commune else "", data.get("opening_hours")]
        return [Change(f"Étape « {place} »", "", "ajoutée : " + ", ".join(v for v in said if v))]
    changes = []
    for name in stop_form.changed_data:
        if name in ("id", "DELETE"):
            continue
        old = display_value(Stop, name, _stop_value(name, getattr(before, name)))
        new = display_value(Stop, name, _stop_value(name, data.get(name)))
        if old != new:
            label = stop_form.fields[name].label
            changes.append(Change(f"Étape « {place} » : {label}", old, new))
    return changes


def _geocode_into(data):
    """The no-JavaScript "Trouver l’adresse sur la carte" button: fill the point."""
    query = " ".join(data.get(name, "") for name in ("address", "postal_code", "city")).strip()
    place = geocoding.locate(query)
    if place:
        data["latitude"], data["longitude"] = f"{place.latitude:.6f}", f"{place.longitude:.6f}"
    return place


def _edit_context(request, form, stops, structure, **extra):
    user = request.user
    allowed = {}
    if structure.pk:
        allowed = {
            "history": permissions.can_view_history(user, structure),
            "invite": permissions.can_invite(user, structure),
            "publish": permissions.can_publish(user, structure),
            "archive": permissions.can_archive(user, structure),
            "delete": permissions.can_delete(user, structure),
        }
    return {
        "form": form,
        "stops": stops,
        "structure": structure,
        "allowed": allowed,
        "hours_lines": [],
        "map_config": map_config(),
        **extra,
    }


@login_required
def structure_edit(request, pk):
    structure = _structure(request, pk, permissions.can_edit)
    extra = {}
    if request.method != "POST":
        form = StructureForm(instance=structure, initial={"version": version_token(structure)})
        stops = StopFormSet(instance=structure, prefix="stops")
        return render(
            request,
            "space/structure_form.html",
            _edit_context(request, form, stops, structure, **extra),
        )
    data = request.POST.copy()
    action = data.get("action", "preview")
    if action == "geocode":
        extra["geocoded"] = _geocode_into(data) or False
    for _attempt in range(3):
        # Someone may save between the merge and the save: merge again then.
        missing = merge.apply_choices(data, structure)
        rebased = merge.rebase(data, structure)
        rebased.missing_choices = missing
        rebased.conflicts = [*missing, *rebased.conflicts]
        form = StructureForm(data, instance=structure)
        stops = StopFormSet(data, instance=structure, prefix="stops")
        valid = form.is_valid() and stops.is_valid()
        blocked = bool(rebased.conflicts or missing)
        if action == "verify" and valid and not blocked and not _has_changes(form, stops):
            # "Ces informations sont à jour" with nothing typed: only the date.
            actions.mark_verified(structure=structure, user=request.user)
            messages.success(request, "Merci ! La fiche est indiquée comme vérifiée aujourd’hui.")
            return redirect("space:edit", pk=structure.pk)
        if action == "save" and valid and not blocked:
            if _save_edit(request, structure, form, stops, verify=bool(data.get("verify"))):
                messages.success(request, "Vos modifications sont enregistrées. Merci !")
                if rebased.moved:
                    _tell_merged(request, rebased)
                return redirect("space:edit", pk=structure.pk)
            structure = Structure.objects.get(pk=structure.pk)
            continue
        break
    extra["merge"] = rebased
    if action == "verify" or data.get("verify"):
        # Typed changes are saved through the preview, then the date is set.
        extra["verify"] = True
    if valid and action in {"preview", "save", "verify"}:
        extra.update(
            preview=True,
            changes=_preview_changes(form, stops),
            hours_lines=opening_hours.describe(form.cleaned_data.get("opening_hours")),
        )
    status = 409 if action == "save" and valid and blocked else 200
    # The page's title and actions show the place as saved, not as typed.
    saved = Structure.objects.select_related("commune__bassin").get(pk=structure.pk)
    return render(
        request,
        "space/structure_form.html",
        _edit_context(request, form, stops, saved, **extra),
        status=status,
    )


def _tell_merged(request, rebased):
    """After a merged save: what others had changed, kept; stops left out."""
    if rebased.kept:
        who = ", ".join(author for author, _stamp in rebased.authors) or "quelqu’un"
        fields = ", ".join(dict.fromkeys(change.label for change in rebased.kept))
        messages.info(
            request,
            f"Pendant que vous modifiiez la fiche, {who} a changé : {fields}. "
            "Ces changements sont gardés, avec les vôtres.",
        )
    for note in rebased.notes:
        messages.warning(request, note)


def _has_changes(form, stops):
    return bool([name for name in form.changed_data if name != "version"]) or any(
        stop_form.has_changed() for stop_form in stops.forms
    )


def _save_edit(request, structure, form, stops, *, verify=False):
    """Save if nobody saved since the data was merged; False otherwise.

    With `verify`, the place is also marked as checked today ("Ces
    informations sont à jour" clicked with changes typed)."""
    with transaction.atomic():
        locked = Structure.objects.select_for_update().get(pk=structure.pk)
        if form.cleaned_data.get("version") != version_token(locked):
            return False
        # Stops first: a version's history record then follows its stops' records.
        stops.save()
        if verify:
            form.instance.verified_at = timezone.now()
        form.confirm_deduced()
        form.save()
    return True


@login_required
def structure_propose(request):
    if not permissions.can_propose(request.user):
        raise PermissionDenied
    structure = Structure()
    extra = {"proposing": True}
    status = 200
    if request.method == "POST":
        data = request.POST.copy()
        action = data.get("action", "preview")
        if action == "geocode":
            extra["geocoded"] = _geocode_into(data) or False
        form = StructureForm(data, instance=structure)
        stops = StopFormSet(data, instance=structure, prefix="stops")
        valid = action in {"preview", "save"} and form.is_valid() and stops.is_valid()
        if valid and action == "save" and not abuse.allow(request, "proposal"):
            form.add_error(None, abuse.message("proposal"))
            status = 429
        elif valid:
            if action == "save":
                actions.propose(
                    form=form, stops=stops, user=request.user, build_url=_absolute(request)
                )
                messages.success(
                    request,
                    "Merci ! Votre proposition attend la validation du coordinateur "
                    "de son bassin de vie. Vous recevrez sa réponse par e-mail.",
                )
                return redirect("space:home")
            extra.update(
                preview=True,
                changes=_preview_changes(form, stops),
                hours_lines=opening_hours.describe(form.cleaned_data.get("opening_hours")),
            )
    else:
        form = StructureForm(instance=structure)
        stops = StopFormSet(instance=structure, prefix="stops")
    return render(
        request,
        "space/structure_form.html",
        _edit_context(request, form, stops, structure, **extra),
        status=status,
    )


@login_required
@require_GET
def geocode(request):
    """JSON for the "Trouver l’adresse sur la carte" button (BAN, else the commune)."""
    return geocode_answer(request)


def geocode_answer(request):
    """The answer of `geocode`, also given to a place correcting its listing by campaign."""
    place = geocoding.locate(request.GET.get("q", "")[:300])
    if place is None:
        return JsonResponse(
            {"found": False, "message": "Adresse introuvable : placez le point sur la carte."},
            status=404,
        )
    return JsonResponse(
        {
            "found": True,
            "latitude": round(place.latitude, 6),
            "longitude": round(place.longitude, 6),
            "label": place.label,
            "precise": place.precise,
        }
    )


# One-click actions ---------------------------------------------------------------------


@login_required
@require_POST
def structure_verify(request, pk):
    structure = _structure(request, pk, permissions.can_verify)
    actions.mark_verified(structure=structure, user=request.user)
    messages.success(request, "Merci ! La fiche est indiquée comme vérifiée aujourd’hui.")
    return redirect(_next_url(request, reverse("space:home")))


@login_required
@require_POST
def structure_publish(request, pk):
    structure = _structure(request, pk, permissions.can_publish)
    actions.set_status(structure=structure, status=Status.PUBLISHED, user=request.user)
    messages.success(request, f"« {structure} » est publiée.")
    return redirect("space:edit", pk=structure.pk)


@login_required
@require_POST
def structure_archive(request, pk):
    structure = _structure(request, pk, permissions.can_archive)
    actions.set_status(structure=structure, status=Status.ARCHIVED, user=request.user)
    messages.success(
        request,
        f"« {structure} » est archivée : elle n’apparaît plus sur le site. "
        "Un coordinateur peut la republier.",
    )
    return redirect("space:home")


@login_required
def structure_delete(request, pk):
    structure = _structure(request, pk, permissions.can_delete)
    if request.method == "POST":
        name = str(structure)
        structure.delete()
        messages.success(request, f"« {name} » est supprimée.")
        return redirect("space:home")
    return render(request, "space/structure_delete.html", {"structure": structure})


# History ------------------------------------------------------------------------------


@login_required
def structure_history(request, pk):
    structure = _structure(request, pk, permissions.can_view_history)
    return render(
        request,
        "space/structure_history.html",
        {
            "structure": structure,
            "entries": timeline(structure),
            "can_restore": permissions.can_restore(request.user, structure),
        },
    )


@login_required
@require_POST
def structure_restore(request, pk, history_id):
    from mediation.space.history import restore

    structure = _structure(request, pk, permissions.can_restore)
    if not structure.history.filter(history_id=history_id).exists():
        raise Http404("Cette version n’existe pas.")
    try:
        restore(structure=structure, history_id=history_id, user=request.user)
    except ValidationError as error:
        # A stop of that version may break a rule too: its fields are named plainly.
        labels = {f.name: field_label(Structure, f.name) for f in Structure._meta.concrete_fields}
        faults = " ".join(
            f"{labels.get(name, 'Étape' if name != '__all__' else 'Fiche')} : {message}"
            for name, errors in error.message_dict.items()
            for message in errors
        )
        messages.error(request, f"Cette version ne peut pas être restaurée : {faults}")
        return redirect("space:history", pk=structure.pk)
    messages.success(
        request,
        "La version choisie est restaurée. Ce retour en arrière figure "
        "lui-même dans l’historique : il peut être annulé.",
    )
    return redirect("space:history", pk=structure.pk)


# Invitations ----------------------------------------------------------------------------


@login_required
def structure_invite(request, pk):
    structure = _structure(request, pk, permissions.can_invite)
    form = InvitationForm(request.POST or None)
    status = 200
    if (
        request.method == "POST"
        and form.is_valid()
        and not abuse.allow(request, "invitation", targets=[form.cleaned_data["email"]])
    ):
        form.add_error(None, abuse.message("invitation"))
        status = 429
    if request.method == "POST" and form.is_valid():
        invitation = actions.invite(
            email=form.cleaned_data["email"],
            structure=structure,
            invited_by=request.user,
            build_url=_absolute(request),
        )
        messages.success(request, f"Invitation envoyée à {invitation.email}.")
        return redirect("space:invite", pk=structure.pk)
    return render(
        request,
        "space/invite.html",
        {
            "structure": structure,
            "form": form,
            "members": structure.memberships.select_related("user"),
            "invitations": structure.invitations.usable(),
        },
        status=status,
    )


INVITATION_SESSION_TOKEN = "invitation_token"
INVITATION_URL_TOKEN = "accepter"  # stands in the URL for the token kept in the session


def invitation(request, token):
    """The link of an invitation e-mail: set a password (new account) or accept.

    As Django's password reset does, the token of the e-mail's link is moved
    into the session on the first visit and the browser sent to a URL without
    it, so that it stays out of access logs, history and `Referer`.
    """
    if token == INVITATION_URL_TOKEN:
        token = request.session.get(INVITATION_SESSION_TOKEN, "")
    elif request.method == "GET":
        request.session[INVITATION_SESSION_TOKEN] = token
        return redirect("space:invitation", token=INVITATION_URL_TOKEN)
    invitation = Invitation.objects.select_related("structure").for_token(token)
    if invitation is None:
        return render(request, "space/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if not invitation.is_usable:
        reason = "used" if invitation.accepted_at else "expired"
        return render(request, "space/invitation_invalid.html", {"reason": reason}, status=410)
    structure = invitation.structure
    context = {"invitation": invitation, "structure": structure}
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["wrong_account"] = True
            return render(request, "space/invitation.html", context, status=403)
        if request.method == "POST":
            actions.accept_invitation(invitation=invitation, user=user)
            request.session.pop(INVITATION_SESSION_TOKEN, None)
            messages.success(request, f"Vous pouvez maintenant modifier « {structure} ».")
            return redirect("space:edit", pk=structure.pk)
        return render(request, "space/invitation.html", context)
    if User.objects.filter(email__iexact=invitation.email).exists():
        context["login_url"] = f"{reverse('space:login')}?next={request.path}"
        return render(request, "space/invitation.html", context)
    form = AccountCreationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
            actions.accept_invitation(invitation=invitation, user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.pop(INVITATION_SESSION_TOKEN, None)
        messages.success(
            request, f"Bienvenue ! Votre compte est créé et vous pouvez modifier « {structure} »."
        )
        return redirect("space:edit", pk=structure.pk)
    context["form"] = form
    return render(request, "space/invitation.html", context)


# "Vous gérez ce lieu ?" -------------------------------------------------------------------


@login_required
def structure_join(request, pk):
    structure = get_object_or_404(Structure.objects.published(), pk=pk)
    if permissions.can_edit(request.user, structure):
        return redirect("space:edit", pk=structure.pk)
    if not permissions.can_request_to_join(request.user, structure):
        raise PermissionDenied
    pending = structure.join_requests.filter(
        user=request.user, state=JoinRequest.State.PENDING
    ).first()
    form = JoinRequestForm(request.POST or None)
    status = 200
    if (
        request.method == "POST"
        and not pending
        and form.is_valid()
        and not abuse.allow(request, "join_request")
    ):
        form.add_error(None, abuse.message("join_request"))
        status = 429
    if request.method == "POST" and not pending and form.is_valid():
        actions.request_to_join(
            structure=structure,
            user=request.user,
            message=form.cleaned_data["message"],
            build_url=_absolute(request),
        )
        messages.success(
            request,
            "Votre demande est envoyée au coordinateur du bassin de vie. "
            "Vous recevrez sa réponse par e-mail.",
        )
        return redirect(structure.get_absolute_url())
    return render(
        request,
        "space/join.html",
        {"structure": structure, "form": form, "pending": pending},
        status=status,
    )


# Moderation ------------------------------------------------------------------------------


def moderation_queue(user, counts_only=False):
    """What awaits the coordinator's decision in the places they moderate (or its counts)."""
    structures = permissions.moderated_structures(user)
    queue = {
        "proposals": structures.filter(status=Status.DRAFT, proposed_by__isnull=False)
        .select_related("proposed_by", "commune__bassin")
        .prefetch_related("kinds"),
        "join_requests": JoinRequest.objects.filter(
            structure__in=structures, state=JoinRequest.State.PENDING
        ).select_related("user", "structure__commune__bassin"),
        "reports": ErrorReport.objects.filter(
            structure__in=structures, state=ErrorReport.State.NEW
        ).select_related("structure__commune__bassin"),
        "corrections": ProposedChange.objects.filter(
            structure__in=structures, state=ProposedChange.State.PENDING
        ).select_related("structure", "campaign_mail"),
    }
    if counts_only:
        return {name: items.count() for name, items in queue.items()}
    return queue


@login_required
def moderation(request):
    if not permissions.is_coordinator(request.user):
        raise PermissionDenied("Cette page est réservée aux coordinateurs.")
    return render(
        request,
        "space/moderation.html",
        {
            **moderation_queue(request.user),
            "refusal_form": RefusalForm(),
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def decide_join_request(request, pk):
    join_request = get_object_or_404(
        JoinRequest.objects.select_related("structure__commune", "user"), pk=pk
    )
    if not permissions.can_decide_join_request(request.user, join_request):
        raise PermissionDenied
    if join_request.state != JoinRequest.State.PENDING:
        messages.info(request, "Cette demande a déjà été traitée.")
        return redirect("space:moderation")
    accept = request.POST.get("decision") == "accept"
    form = DecisionForm(request.POST)
    form.is_valid()
    message = form.cleaned_data.get("message", "")
    if not accept and not message:
        messages.error(request, "Expliquez le refus : le message est envoyé au demandeur.")
        return redirect("space:moderation")
    actions.decide_join_request(
        join_request=join_request, accept=accept, user=request.user, response=message
    )
    if accept:
        messages.success(
            request, f"{join_request.user} peut maintenant modifier « {join_request.structure} »."
        )
    else:
        messages.success(request, "La demande est refusée ; le demandeur est prévenu par e-mail.")
    return redirect("space:moderation")


@login_required
@require_POST
def decide_proposal(request, pk):
    structure = _structure(request, pk, permissions.can_decide_proposal)
    if structure.status != Status.DRAFT or structure.proposed_by_id is None:
        messages.info(request, "Cette proposition a déjà été traitée.")
        return redirect("space:moderation")
    accept = request.POST.get("decision") == "publish"
    if accept:
        actions.decide_proposal(
            structure=structure,
            accept=True,
            user=request.user,
            message=request.POST.get("message", "")[:5000],
            build_url=_absolute(request),
        )
        messages.success(request, f"« {structure} » est publiée ; l’auteur est prévenu.")
        return redirect("space:moderation")
    form = RefusalForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Expliquez le refus : le message est envoyé à l’auteur.")
        return redirect("space:moderation")
    actions.decide_proposal(
        structure=structure,
        accept=False,
        user=request.user,
        message=form.cleaned_data["message"],
        build_url=_absolute(request),
    )
    messages.success(request, "La proposition est refusée ; l’auteur est prévenu par e-mail.")
    return redirect("space:moderation")


@login_required
@require_POST
def handle_report(request, pk):
    report = get_object_or_404(ErrorReport.objects.select_related("structure__commune"), pk=pk)
    if not permissions.can_handle_report(request.user, report):
        raise PermissionDenied
    back = _next_url(request, reverse("space:moderation"))
    state = request.POST.get("state")
    if state not in {ErrorReport.State.DONE, ErrorReport.State.REJECTED}:
        messages.error(request, "Choisissez « Corrigé » ou « Écarter ».")
        return redirect(back)
    if report.state != ErrorReport.State.NEW:
        messages.info(request, "Ce signalement a déjà été traité.")
        return redirect(back)
    actions.handle_report(
        report=report,
        state=state,
        user=request.user,
        message=request.POST.get("message", "")[:5000],
    )
    messages.success(request, "Le signalement est traité.")
    return redirect(back)


# API tokens ---------------------------------------------------------------------


@login_required
def api_tokens(request):
    """A person's API tokens: create one (its key shown once), revoke one."""
    tokens = request.user.api_tokens.all()
    form = ApiTokenForm(request.POST or None)
    context = {"tokens": tokens, "form": form}
    if request.method == "POST" and form.is_valid():
        token, key = ApiToken.issue(
            user=request.user,
            name=form.cleaned_data["name"],
            lifetime=timedelta(days=int(form.cleaned_data["lifetime"])),
        )
        context.update(new_token=token, new_key=key, form=ApiTokenForm())
    return render(request, "space/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    token.delete()
    messages.success(request, f"Le jeton « {token.name} » est révoqué : il ne fonctionne plus.")
    return redirect("space:api_tokens")
