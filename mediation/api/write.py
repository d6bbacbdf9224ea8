"""PATCH /api/v1/structures/{id}/: a mediator changes their listing with a personal token.

Exactly the rules of the edit page: who may edit is `mediation.permissions`,
what is valid is the page's `StructureForm` (same validators, same French
messages), and the change is recorded in the history under the token's owner.
Fields use the national standard's names, as in the read API. Only the fields
sent change; `If-Match` with the ETag of the previous answer refuses a write
over someone else's change (412).
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.http import quote_etag
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from mediation import permissions
from mediation.api.serializers import StructureDetailSerializer, StructureSerializer
from mediation.choices import Status
from mediation.fields import ListTextField
from mediation.models import ServiceType, Structure
from mediation.space.forms import STRUCTURE_FIELDS, StructureForm
from mediation.space.history import changed_since, version_token


def writable_fields():
    """Standard name → edit form field, derived from the read serializer's sources."""
    mapping = {}
    for name, field in StructureSerializer().fields.items():
        source = field.source if field.source not in (None, "*") else name
        if source in STRUCTURE_FIELDS:
            mapping[name] = source
    mapping.update({"types": "kinds", "commune": "city", "statut": "status"})
    return mapping


WRITABLE = writable_fields()
FORM_NAMES = {form_name: name for name, form_name in WRITABLE.items()}


def etag(structure):
    return quote_etag(version_token(structure))


def _form_value(form, name, value):
    """A JSON value as the edit page would post it."""
    field = form.fields[name]
    if name == "kinds":
        slugs = value if isinstance(value, list) else [value]
        kinds = dict(ServiceType.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        unknown = [slug for slug in slugs if slug not in kinds]
        if unknown:
            raise exceptions.ValidationError(
                {"types": [f"Type inconnu : {', '.join(map(str, unknown))} (voir /api/v1/types/)."]}
            )
        return [str(kinds[slug]) for slug in slugs]
    if name == "wheelchair_accessible":
        return {None: "", True: "true", False: "false"}.get(value, value)
    if isinstance(field, ListTextField):
        return "\n".join(value) if isinstance(value, list) else value
    if value is None:
        return ""
    return value


class StructureWriteMixin:
    """Adds `partial_update` (PATCH) to the structures viewset."""

    @extend_schema(
        summary="Modifier un lieu (médiateurs, coordinateurs)",
        description=(
            "Avec le jeton personnel d’un compte qui peut modifier ce lieu "
            "(`Authorization: Token …`). Mêmes règles que le formulaire du site ; seuls "
            "les champs envoyés changent. `If-Match` avec l’ETag de la réponse précédente "
            "refuse l’écriture si quelqu’un d’autre a modifié le lieu entre-temps (412)."
        ),
        request={"application/json": {"type": "object"}},
        responses={200: StructureDetailSerializer},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False)],
    )
    def partial_update(self, request, *args, **kwargs):
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Envoyez votre jeton : « Authorization: Token … ».")
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"detail": "Envoyez un objet JSON."})
        unknown = sorted(set(request.data) - set(WRITABLE))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["Ce champ n’existe pas ou ne se modifie pas."] for name in unknown}
            )
        lookup = kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        with transaction.atomic():
            structure = get_object_or_404(
                Structure.objects.select_for_update(of=("self",)).select_related("commune"),
                uid=lookup,
            )
            if not permissions.can_view(request.user, structure):
                raise exceptions.NotFound()
            if not permissions.can_edit(request.user, structure):
                raise exceptions.PermissionDenied("Vous ne pouvez pas modifier ce lieu.")
            self._check_version(request, structure)
            status_value = request.data.get("statut", structure.status)
            if status_value not in Status.values:
                raise exceptions.ValidationError(
                    {"statut": [f"Valeurs possibles : {', '.join(Status.values)}."]}
                )
            if not permissions.can_set_status(request.user, structure, status_value):
                raise exceptions.PermissionDenied(
                    "Seul un coordinateur du bassin de vie peut publier ce lieu."
                )
            form = self._bound_form(structure, request.data)
            if not form.is_valid():
                raise exceptions.ValidationError(self._errors(form))
            structure = form.save(commit=False)
            structure.status = status_value
            structure._history_user = request.user
            structure.save()
            form.save_m2m()
        structure = (
            Structure.objects.select_related("commune__bassin")
            .prefetch_related("kinds", "stops__commune")
            .get(pk=structure.pk)
        )
        data = StructureDetailSerializer(structure, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_200_OK, headers={"ETag": etag(structure)})

    def _check_version(self, request, structure):
        expected = request.headers.get("If-Match")
        if not expected or expected.strip() == "*":
            return
        current = version_token(structure)
        sent = expected.strip().removeprefix("W/").strip('"')
        if sent != current:
            changes, authors = changed_since(structure, sent)
            exc = exceptions.APIException(
                {
                    "detail": "Ce lieu a été modifié depuis votre dernière lecture : "
                    "rien n’a été enregistré. Relisez-le, puis renvoyez vos modifications.",
                    "modifications": [
                        {"champ": c.label, "avant": c.old, "apres": c.new} for c in changes
                    ],
                    "par": [{"auteur": author, "le": stamp} for author, stamp in authors],
                }
            )
            exc.status_code = status.HTTP_412_PRECONDITION_FAILED
            raise exc

    def _bound_form(self, structure, payload):
        blank = StructureForm(instance=structure)
        data = {}
        for name in blank.fields:
            value = blank[name].value()
            if value is None or value is False:
                continue
            data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
        for key, value in payload.items():
            name = WRITABLE[key]
            if name == "status":
                continue
            data[name] = _form_value(blank, name, value)
        data["version"] = version_token(structure)
        return StructureForm(data, instance=structure)

    def _errors(self, form):
        errors = {}
        for name, messages in form.errors.items():
            key = FORM_NAMES.get(name, "non_field_errors")
            errors.setdefault(key, []).extend(messages)
        return errors
