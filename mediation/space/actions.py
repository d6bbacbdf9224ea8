"""What happens when a mediator or a coordinator acts: each function writes in one transaction.

Callers check permissions (`mediation.permissions`) before calling these.
"""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mediation.choices import Status
from mediation.models import Invitation, JoinRequest, Membership, Structure
from mediation.space import emails


def _save(structure, *, user, fields=None):
    structure._history_user = user
    if fields:
        structure.save(update_fields=[*fields, "updated_at"])
    else:
        structure.save()


@transaction.atomic
def set_status(*, structure, status, user):
    structure.status = status
    _save(structure, user=user, fields=["status"])
    return structure


@transaction.atomic
def mark_verified(*, structure, user):
    """ "Ces informations sont à jour": the date shown on the public page; the values
    shown as deduced "à confirmer" beside the button are confirmed."""
    _save(structure, user=user, fields=structure.mark_verified())
    return structure


@transaction.atomic
def add_member(*, structure, user, by=None):
    membership, created = Membership.objects.get_or_create(
        structure=structure, user=user, defaults={"created_at": timezone.now()}
    )
    if created and by is not None:
        # The history names who granted the access, not only who received it.
        record = membership.history.first()
        record.history_user = by
        record.save(update_fields=["history_user"])
    return membership


@transaction.atomic
def invite(*, email, structure, invited_by, build_url):
    """Create the invitation and e-mail its single-use link. `build_url(path)` → absolute URL."""
    invitation, token = Invitation.new(
        email=email.strip().lower(), structure=structure, invited_by=invited_by
    )
    invitation.save()
    url = build_url(reverse("space:invitation", args=[token]))
    emails.send(
        "invitation",
        to=[invitation.email],
        context={"invitation": invitation, "url": url, "structure": structure},
    )
    return invitation


@transaction.atomic
def accept_invitation(*, invitation, user):
    """Use the invitation (once) and make `user` a mediator of its structure."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        return None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return add_member(structure=invitation.structure, user=user, by=invitation.invited_by)


@transaction.atomic
def request_to_join(*, structure, user, message, build_url):
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                structure=structure, user=user, message=message
            )
    except IntegrityError:
        return JoinRequest.objects.get(
            structure=structure, user=user, state=JoinRequest.State.PENDING
        )
    emails.send(
        "join_request",
        to=emails.coordinators_of(structure),
        context={
            "join_request": join_request,
            "structure": structure,
            "url": build_url(reverse("space:moderation")),
        },
    )
    return join_request


@transaction.atomic
def decide_join_request(*, join_request, accept, user, response=""):
    join_request.state = JoinRequest.State.ACCEPTED if accept else JoinRequest.State.REFUSED
    join_request.decided_by = user
    join_request.decided_at = timezone.now()
    join_request.response = response
    join_request.save()
    if accept:
        add_member(structure=join_request.structure, user=join_request.user, by=user)
    emails.send(
        "join_request_decision",
        to=[join_request.user.email],
        context={"join_request": join_request, "structure": join_request.structure},
    )
    return join_request


@transaction.atomic
def propose(*, form, stops, user, build_url):
    """A new structure from anyone logged in: a draft waiting in the coordinator's queue."""
    structure = form.save(commit=False)
    structure.status = Status.DRAFT
    structure.proposed_by = user
    structure._history_user = user
    structure.save()
    form.save_m2m()
    stops.instance = structure
    stops.save()
    if stops.new_objects:
        # A version's record must come after its stops' records (see history.restore).
        _save(structure, user=user)
    emails.send(
        "proposal",
        to=emails.coordinators_of(structure),
        context={"structure": structure, "url": build_url(reverse("space:moderation"))},
    )
    return structure


@transaction.atomic
def decide_proposal(*, structure, accept, user, message="", build_url):
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    structure.moderation_message = message
    structure.status = Status.PUBLISHED if accept else Status.ARCHIVED
    author = structure.proposed_by
    structure.proposed_by = None  # out of the queue
    _save(structure, user=user, fields=["status", "moderation_message", "proposed_by"])
    if author is not None:
        emails.send(
            "proposal_decision",
            to=[author.email],
            context={
                "structure": structure,
                "accepted": accept,
                "message": message,
                "url": build_url(structure.get_absolute_url()),
                "claim_url": build_url(reverse("space:join", args=[structure.pk])),
            },
        )
    return structure


@transaction.atomic
def file_report(*, report, build_url):
    """Save a visitor's error report and tell the people who can fix the listing.

    The place's mediators and its bassin's coordinators get an e-mail; the report
    then waits in their "Mon espace" until one of them marks it handled.
    """
    report.save()
    structure = report.structure
    coordinators = set(emails.coordinators_of(structure))
    context = {"report": report, "structure": structure}
    emails.send(
        "report",
        to=coordinators,
        context={**context, "url": build_url(reverse("space:moderation"))},
    )
    emails.send(
        "report",
        to=set(emails.mediators_of(structure)) - coordinators,
        context={**context, "url": build_url(reverse("space:home"))},
    )
    return report


@transaction.atomic
def handle_report(*, report, state, user, message=""):
    report.state = state
    report.handled_at = timezone.now()
    report.handled_by = user
    report.save(update_fields=["state", "handled_at", "handled_by"])
    if message and report.email:
        emails.send(
            "report_answer",
            to=[report.email],
            context={"report": report, "structure": report.structure, "message": message},
        )
    return report
