"""PATCH /api/v1/structures/{id}/: a mediator changes their listing with a personal token.

Who may write is `mediation.permissions.StructurePermission` (on the viewset);
what is valid is the model's own rules (`Structure.full_clean()`: the same
French messages as the edit page, the admin and the importer); the serializer
only renames the national standard's fields to the model's and reads JSON types.

Only the fields sent are written, and among them only those that differ from
the version the client started from: `If-Match` with the ETag of a `GET` (or of
a previous `PATCH`) names that version. A field someone else changed meanwhile
and that the client also changed to another value is a conflict: nothing is
written and the answer (412) lists both values. Fields changed by others only
are kept. The change is recorded in the history under the token's owner.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from mediation.api.serializers import LIST_FIELDS, STRUCTURE_FIELDS, StructureDetailSerializer
from mediation.choices import Status
from mediation.models import NO_KIND_MESSAGE, ServiceType, Structure
from mediation.space.forms import STRUCTURE_FIELDS as EDITABLE
from mediation.space.history import (
    author_of_change,
    current_value,
    display_value,
    field_label,
    merge,
    version_at,
)
from mediation.versioning import structure_etag

# Standard name → model attribute, for what a mediator may write.
WRITABLE = {
    public: attribute for public, attribute in STRUCTURE_FIELDS.items() if attribute in EDITABLE
}
WRITABLE.update({"commune": "city", "types": "kinds", "statut": "status"})
PUBLIC_NAMES = {attribute: public for public, attribute in WRITABLE.items()}
PUBLIC_NAMES["code_insee"] = "code_insee"


def etag(structure, suffix=""):
    """The place's version as an ETag: the same token for GET, PATCH and the edit page.

    `structure_etag()` ("<history token>.<digest>", mediation/versioning.py) also
    moves when what the detail shows of other rows changes (kinds, bassin);
    `parse_token()` reads the history token before the first dot.
    """
    tag = structure_etag(structure)
    return f'{tag[:-1]}.{suffix}"' if suffix else tag


def _field(public, attribute):
    """A field that only reads JSON types: the model decides what is valid."""
    options = {"required": False}
    if attribute != public:
        options["source"] = attribute
    if public in LIST_FIELDS:
        return serializers.ListField(child=serializers.CharField(allow_blank=True), **options)
    model_field = Structure._meta.get_field(attribute)
    if attribute == "wheelchair_accessible":
        return serializers.BooleanField(allow_null=True, **options)
    if model_field.get_internal_type() == "FloatField":
        return serializers.FloatField(allow_null=True, **options)
    return serializers.CharField(allow_blank=True, **options)


class KindsField(serializers.SlugRelatedField):
    default_error_messages = {
        "does_not_exist": "Type inconnu : {value} (voir /api/v1/types/).",
        "invalid": "Un identifiant de type est attendu (voir /api/v1/types/).",
    }


class StructureWriteSerializer(serializers.Serializer):
    """The writable fields, named as in the read API and the national standard."""

    types = KindsField(
        source="kinds",
        many=True,
        slug_field="slug",
        queryset=ServiceType.objects.all(),
        required=False,
        allow_empty=False,
        error_messages={"empty": NO_KIND_MESSAGE},
    )
    statut = serializers.ChoiceField(
        source="status",
        choices=Status.choices,
        required=False,
        error_messages={"invalid_choice": f"Valeurs possibles : {', '.join(Status.values)}."},
    )

    def get_fields(self):
        fields = {
            public: _field(public, attribute)
            for public, attribute in WRITABLE.items()
            if public not in ("types", "statut")
        }
        fields.update(super().get_fields())
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"detail": "Envoyez un objet JSON."})
        unknown = sorted(set(data) - set(WRITABLE))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["Ce champ n’existe pas ou ne se modifie pas."] for name in unknown}
            )
        return super().to_internal_value(data)


def model_errors(error):
    """A model `ValidationError` with the API's field names."""
    errors = {}
    for name, messages in error.message_dict.items():
        key = PUBLIC_NAMES.get(name, "non_field_errors")
        errors.setdefault(key, []).extend(messages)
    return errors


@transaction.atomic
def apply_patch(*, structure, data, base, user):
    """Write `data` (model names) over `structure` (locked), merged against `base`.

    Returns the conflicts, as (field, base value, their value, this client's
    value); when there are any, nothing is written. Raises a DRF
    `ValidationError` with the model's messages.
    """
    kinds = data.pop("kinds", None)
    current = {name: current_value(structure, name) for name in [*data, "kinds"]}
    if {"postal_code", "city"} & {n for n, v in data.items() if v != current[n]}:
        # The commune follows the postal code and the name sent, not the old INSEE code.
        structure.code_insee, structure.commune = "", None
    for name, value in data.items():
        setattr(structure, name, value)
    try:
        structure.full_clean(exclude=["slug"])
    except DjangoValidationError as error:
        raise exceptions.ValidationError(model_errors(error)) from error
    mine = {name: current_value(structure, name) for name in data}  # normalised by the model
    if kinds is not None:
        mine["kinds"] = {kind.pk for kind in kinds}
    conflicts = []
    if base is not None:
        for name, value in mine.items():
            merged, conflict = merge(base=base.value(name), current=current[name], mine=value)
            if conflict:
                conflicts.append((name, base.value(name), current[name], value))
            elif name != "kinds":
                setattr(structure, Structure._meta.get_field(name).attname, merged)
            else:
                mine["kinds"] = merged
    if conflicts:
        return conflicts
    structure._history_user = user
    structure.save()
    if "kinds" in mine and mine["kinds"] != current["kinds"]:
        structure.kinds.set(mine["kinds"])
    return []


def _shown(name, value):
    if name == "kinds":
        slugs = ServiceType.objects.filter(pk__in=value).order_by("slug")
        return [kind.slug for kind in slugs]
    return display_value(Structure, name, value)


class StructureWriteMixin:
    """Adds `partial_update` (PATCH) to the structures viewset."""

    @extend_schema(
        summary="Modifier un lieu (médiateurs, coordinateurs)",
        description=(
            "Avec le jeton personnel d’un compte qui peut modifier ce lieu "
            "(`Authorization: Token …`). Mêmes règles que le formulaire du site ; seuls "
            "les champs envoyés changent. `If-Match` avec l’ETag d’un `GET` (ou d’un `PATCH`) "
            "précédent : les champs modifiés entre-temps par quelqu’un d’autre sont gardés, "
            "sauf si vous les changez aussi (conflit : 412, rien n’est enregistré, la réponse "
            "donne les deux valeurs)."
        ),
        request=StructureWriteSerializer,
        responses={200: StructureDetailSerializer},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False)],
    )
    def partial_update(self, request, *args, **kwargs):
        serializer = StructureWriteSerializer(data=request.data, partial=True)
        lookup = kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        with transaction.atomic():
            structure = Structure.objects.select_for_update(of=("self",)).filter(uid=lookup).first()
            if structure is None:
                raise exceptions.NotFound()
            self.check_object_permissions(request, structure)
            serializer.is_valid(raise_exception=True)
            base = self._base_version(request, structure)
            conflicts = apply_patch(
                structure=structure,
                data=dict(serializer.validated_data),
                base=base,
                user=request.user,
            )
        if conflicts:
            self._refuse(structure, base, conflicts)
        structure = (
            Structure.objects.select_related("commune__bassin")
            .prefetch_related("kinds", "stops__commune")
            .get(pk=structure.pk)
        )
        data = StructureDetailSerializer(structure, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_200_OK, headers={"ETag": etag(structure)})

    def _base_version(self, request, structure):
        expected = request.headers.get("If-Match", "").strip()
        if not expected or expected == "*":
            return None
        base = version_at(structure, expected)
        if base is None:
            exc = exceptions.APIException(
                {
                    "detail": "Version inconnue dans If-Match : relisez le lieu (GET) et "
                    "renvoyez son ETag.",
                    "conflits": [],
                }
            )
            exc.status_code = status.HTTP_412_PRECONDITION_FAILED
            raise exc
        return base

    def _refuse(self, structure, base, conflicts):
        exc = exceptions.APIException(
            {
                "detail": "Ce lieu a été modifié depuis votre lecture, et vous changez aussi "
                "ces champs : rien n’a été enregistré. Choisissez la valeur à garder, puis "
                "renvoyez-la avec le nouvel ETag.",
                "etag": etag(structure).strip('"'),
                "conflits": [
                    {
                        "champ": PUBLIC_NAMES.get(name, name),
                        "libelle": "Types de lieu"
                        if name == "kinds"
                        else field_label(Structure, name),
                        "avant": _shown(name, before),
                        "actuel": _shown(name, theirs),
                        "envoye": _shown(name, mine),
                        "par": author_of_change(structure, base, name),
                    }
                    for name, before, theirs, mine in conflicts
                ],
            }
        )
        exc.status_code = status.HTTP_412_PRECONDITION_FAILED
        raise exc
