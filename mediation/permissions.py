"""Who may see and change what — the only place that decides.

Three roles:

- a **mediator** is a member of one or more structures (`Membership`): they see
  and edit those structures, archive them, read their history and handle the
  error reports visitors send about them;
- a **coordinator** of one or more bassins de vie (`Coordination`) moderates and
  edits every structure of those bassins: publishes, archives, restores an earlier
  version, invites mediators, decides join requests, proposals and error reports;
- a **regional administrator** (`is_staff`) may do everything, on the site and in
  the admin; only administrators delete.

Pages, the write API and the admin ask these functions; none decides on its own.
"""

from django.db.models import Q
from rest_framework import exceptions as drf_exceptions
from rest_framework import permissions as drf_permissions

from mediation.choices import Status


def is_admin(user):
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def coordinated_bassin_ids(user):
    """Ids of the bassins de vie `user` coordinates (cached on the user object)."""
    if not _active(user):
        return set()
    if not hasattr(user, "_coordinated_bassin_ids"):
        user._coordinated_bassin_ids = set(user.coordinations.values_list("bassin_id", flat=True))
    return user._coordinated_bassin_ids


def is_coordinator(user):
    return is_admin(user) or bool(coordinated_bassin_ids(user))


def can_edit_project(user, bassin):
    """The bassin's "Projet numérique de territoire": its coordinators and the admins."""
    return is_admin(user) or bassin.pk in coordinated_bassin_ids(user)


def is_member(user, structure):
    if not _active(user) or structure.pk is None:
        return False
    return structure.memberships.filter(user=user).exists()


def coordinates(user, structure):
    """`user` coordinates the bassin de vie of `structure`."""
    if not _active(user) or structure.commune_id is None:
        return False
    return structure.commune.bassin_id in coordinated_bassin_ids(user)


# Structures ---------------------------------------------------------------


def can_moderate(user, structure):
    """Publish, restore a version, invite mediators, decide requests about it."""
    return is_admin(user) or coordinates(user, structure)


def can_edit(user, structure):
    return can_moderate(user, structure) or is_member(user, structure)


def can_view(user, structure):
    """See the structure, drafts and archives included."""
    if structure.status == Status.PUBLISHED:
        return True
    if not _active(user):
        return False
    return can_edit(user, structure) or (
        structure.proposed_by_id is not None and structure.proposed_by_id == user.pk
    )


def can_view_history(user, structure):
    return can_edit(user, structure)


def can_restore(user, structure):
    return can_moderate(user, structure)


def can_publish(user, structure):
    return can_moderate(user, structure)


def can_archive(user, structure):
    """Mediators archive rather than delete."""
    return can_edit(user, structure)


def can_delete(user, structure):
    """Only regional administrators delete."""
    return is_admin(user)


def can_verify(user, structure):
    """ "Ces informations sont à jour"."""
    return can_edit(user, structure)


def can_invite(user, structure):
    return can_moderate(user, structure)


def can_set_status(user, structure, status):
    """Whether `user` may move `structure` to `status` (from the form or the API)."""
    if status == structure.status:
        return can_edit(user, structure)
    if status == Status.ARCHIVED:
        return can_archive(user, structure)
    return can_moderate(user, structure)


def can_propose(user):
    """Anyone logged in may propose a new structure."""
    return _active(user)


def can_merge(user, first, second):
    """Merge two records of one place, or say they are distinct: administrators, and
    the coordinator of both places' bassins."""
    return can_moderate(user, first) and can_moderate(user, second)


def can_request_to_join(user, structure):
    return _active(user) and structure.status != Status.ARCHIVED and not can_edit(user, structure)


# Requests, proposals and reports ------------------------------------------


def can_decide_join_request(user, join_request):
    return can_moderate(user, join_request.structure)


def can_decide_proposal(user, structure):
    return can_moderate(user, structure)


def can_handle_report(user, report):
    """The place's mediators too: the report is about their listing."""
    return can_edit(user, report.structure)


# Querysets ----------------------------------------------------------------


def editable_structures(user):
    """The structures `user` may edit."""
    from mediation.models import Structure

    if is_admin(user):
        return Structure.objects.all()
    if not _active(user):
        return Structure.objects.none()
    return Structure.objects.filter(
        Q(memberships__user=user) | Q(commune__bassin__in=coordinated_bassin_ids(user))
    ).distinct()


def member_structures(user):
    from mediation.models import Structure

    if not _active(user):
        return Structure.objects.none()
    return Structure.objects.filter(memberships__user=user)


def moderated_structures(user):
    """The structures whose proposals, requests and reports `user` decides."""
    from mediation.models import Structure

    if is_admin(user):
        return Structure.objects.all()
    return Structure.objects.filter(commune__bassin__in=coordinated_bassin_ids(user))


# The write API ------------------------------------------------------------


class StructurePermission(drf_permissions.BasePermission):
    """The API's doorman: reads are free for published data; writes follow the rules above.

    A place the user may not even see is answered 404 (its existence is not
    disclosed); a status change (`statut`) follows `can_set_status`.
    """

    message = "Vous ne pouvez pas modifier ce lieu."

    def has_permission(self, request, view):
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed
        return _active(request.user)

    def has_object_permission(self, request, view, obj):
        user = request.user
        if not can_view(user, obj):
            raise drf_exceptions.NotFound()
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        if request.method == "DELETE":
            return can_delete(user, obj)
        if not can_edit(user, obj):
            return False
        wanted = request.data.get("statut") if isinstance(request.data, dict) else None
        if wanted in Status.values and not can_set_status(user, obj, wanted):
            raise drf_exceptions.PermissionDenied(
                "Seul un coordinateur du bassin de vie peut publier ce lieu."
            )
        return True
