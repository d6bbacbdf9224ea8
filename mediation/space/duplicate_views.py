"""Duplicates in "Mon espace": the probable pairs of a coordinator's bassins (all of
them for administrators), a pair side by side to merge field by field, or to
mark as "pas un doublon". The admin's list of pairs links here: one screen.

Who may merge is `permissions.can_merge`; the merge itself is `duplicates.merge`.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from mediation import duplicates, opening_hours, permissions
from mediation.choices import Status
from mediation.models import Structure
from mediation.space.history import display_value


@login_required
def duplicate_list(request):
    """The probable pairs the person may decide on."""
    if not permissions.is_coordinator(request.user):
        raise PermissionDenied("Cette page est réservée aux coordinateurs.")
    queryset = permissions.moderated_structures(request.user).published()
    pairs = duplicates.probable_duplicates(queryset)
    return render(request, "space/duplicate_list.html", {"pairs": pairs})


def _display(structure, group):
    """What a person compares: each field of the group, with its label when there are several."""
    if group.key == "kinds":
        return [", ".join(kind.name for kind in structure.kinds.all()) or "(vide)"]
    lines = []
    for name in group.fields:
        value = getattr(structure, name)
        if name == "commune":
            continue  # said by the postal code and the city
        if value in (None, "", []) and len(group.fields) > 1:
            continue
        shown = display_value(Structure, name, value)
        if name == "opening_hours" and opening_hours.describe(value):
            shown = "\n".join(opening_hours.describe(value))
        if len(group.fields) > 1 and name not in ("address", "postal_code", "city"):
            label = str(Structure._meta.get_field(name).verbose_name)
            shown = f"{label[:1].upper()}{label[1:]} : {shown}"
        lines.append(shown)
    return lines or ["(vide)"]


class MergeForm(forms.Form):
    """Which record keeps its address, and where each differing group of fields comes from."""

    def __init__(self, *args, first, second, **kwargs):
        super().__init__(*args, **kwargs)
        self.first, self.second = first, second
        self.fields["survivor"] = forms.ChoiceField(
            label="Fiche à garder (son adresse sur le site reste la même)",
            choices=[("first", first.name), ("second", second.name)],
            initial="first",
            widget=forms.RadioSelect,
        )
        defaults = duplicates.default_picks(first, second)
        self.rows = []
        for group in duplicates.FIELD_GROUPS:
            mine = duplicates.group_value(first, group)
            theirs = duplicates.group_value(second, group)
            if all(v in (None, "", [], ()) for v in (*mine, *theirs)):
                continue  # neither says anything
            row = {
                "group": group,
                "first": _display(first, group),
                "second": _display(second, group),
                "same": mine == theirs,
            }
            if not row["same"]:
                choices = [("first", "celle de gauche"), ("second", "celle de droite")]
                if group.combinable:
                    choices.append(("both", "les deux"))
                initial = "second" if defaults[group.key] == duplicates.OTHER else "first"
                self.fields[group.key] = forms.ChoiceField(
                    label=group.label,
                    choices=choices,
                    initial=initial,
                    required=False,  # not sent: what the page proposed
                    widget=forms.RadioSelect,
                )
                row["field"] = group.key
            self.rows.append(row)

    def bound_rows(self):
        for row in self.rows:
            yield {**row, "bound": self[row["field"]] if "field" in row else None}

    def merge_arguments(self):
        """(survivor, other, picks) for `duplicates.merge`."""
        data = self.cleaned_data
        keep_first = data["survivor"] == "first"
        survivor, other = (self.first, self.second) if keep_first else (self.second, self.first)
        picks = {}
        for group in duplicates.FIELD_GROUPS:
            field = self.fields.get(group.key)
            side = data.get(group.key) or (field.initial if field else "first")
            if side == "both":
                picks[group.key] = duplicates.BOTH
            elif (side == "first") == keep_first:
                picks[group.key] = duplicates.KEEP
            else:
                picks[group.key] = duplicates.OTHER
        return survivor, other, picks


@login_required
def duplicate_pair(request, first_pk, second_pk):
    """Two records side by side: merge them as the person chooses, or keep both."""
    first = get_object_or_404(Structure.objects.select_related("commune__bassin"), pk=first_pk)
    second = get_object_or_404(Structure.objects.select_related("commune__bassin"), pk=second_pk)
    if first.pk == second.pk or not permissions.can_merge(request.user, first, second):
        raise PermissionDenied("Vous ne pouvez pas fusionner ces deux lieux.")
    if Status.ARCHIVED in (first.status, second.status):
        messages.info(request, "L’un des deux lieux est archivé (déjà fusionné ?) : rien à faire.")
        return redirect("space:duplicates")
    form = MergeForm(request.POST or None, first=first, second=second)
    if request.method == "POST" and request.POST.get("action") == "distinct":
        duplicates.mark_distinct(first=first, second=second, user=request.user)
        messages.success(
            request,
            f"« {first.name} » et « {second.name} » sont notés comme deux lieux distincts : "
            "la paire ne sera plus proposée.",
        )
        return redirect("space:duplicates")
    if request.method == "POST" and form.is_valid():
        survivor, other, picks = form.merge_arguments()
        try:
            survivor = duplicates.merge(
                survivor=survivor, other=other, picks=picks, user=request.user
            )
        except ValidationError as error:
            # The chosen values do not make a valid place together: nothing was written.
            messages.error(request, "La fusion n’a pas été faite : " + " ".join(error.messages))
            return redirect(request.path)
        messages.success(
            request,
            f"Les deux fiches n’en font plus qu’une : « {survivor.name} ». L’ancienne adresse "
            f"de « {other.name} » mène désormais à elle ; les deux historiques sont conservés.",
        )
        return redirect(reverse("space:edit", args=[survivor.pk]))
    pair = duplicates.find_pair(first.pk, second.pk)
    return render(
        request,
        "space/duplicate_pair.html",
        {"first": first, "second": second, "form": form, "pair": pair},
    )
