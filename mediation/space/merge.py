"""Three-way merge of the edit page: nobody's edit is overwritten or dropped silently.

The page carries the version it was loaded at (`version`, see
`history.version_token`). When someone saved the place meanwhile, the posted
data is *rebased* onto the place as it is now, field by field:

- a field this person left as it was takes the value saved meanwhile;
- a field only this person changed keeps their value;
- a field both changed to different values is a `Conflict`: shown side by
  side, this person chooses (`choice-<key>` = "mine" or "theirs").

Stops follow the same rule, each by its id; a stop deleted meanwhile is left
out with a note in plain French, the rest of the edit goes through; a stop
added meanwhile is kept. The rebased data then goes through the ordinary form
and its validation, with the current version: saving it saves the merge.
"""

from dataclasses import dataclass, field

from django import forms
from django.http import QueryDict

from mediation.models import Stop, Structure
from mediation.space.forms import StopForm, StructureForm
from mediation.space.history import (
    author_of_change,
    changed_since,
    field_label,
    last_author,
    version_at,
    version_token,
)

STOPS = "stops"


@dataclass
class Conflict:
    key: str  # "phone", or "stop-12-note" for a stop's field
    label: str
    mine: str
    theirs: str
    author: str


@dataclass
class Rebase:
    """What `rebase()` did to the posted data."""

    moved: bool = False  # someone saved since the page was loaded
    conflicts: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # `Change`s made by others, kept
    authors: list = field(default_factory=list)  # (who, when) of those changes
    notes: list = field(default_factory=list)  # plain French, e.g. a stop deleted meanwhile
    missing_choices: list = field(default_factory=list)  # conflicts left unanswered


def posted(bound_field):
    """A field's value as a browser posts it (None: nothing posted)."""
    value = bound_field.value()
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)


def posted_data(form):
    """Everything an unbound form shows, as a browser would post it (a QueryDict)."""
    data = QueryDict(mutable=True)
    for name in form.fields:
        _put(data, form.add_prefix(name), posted(form[name]))
    return data


def _put(data, key, value):
    if value is None:
        data.pop(key, None)
    elif isinstance(value, list):
        data.setlist(key, value)
    else:
        data[key] = value


def _shown(form_field, value):
    """A posted value as people read it (labels for choices)."""
    values = value if isinstance(value, list | tuple) else [value]
    if isinstance(form_field, forms.ChoiceField | forms.ModelMultipleChoiceField):
        labels = {str(key): str(label) for key, label in form_field.choices}
        values = [labels.get(str(v), v) for v in values if v not in (None, "")]
    text = " ; ".join(str(v) for v in values if v not in (None, ""))
    return text or "(vide)"


def _differs(form_field, initial, data):
    try:
        return form_field.has_changed(initial, data)
    except forms.ValidationError:
        return True


def _merge_form(data, *, mine, base, current, key, result, author):
    """Rebase the fields of one form (`mine`, bound) from `base` onto `current` (unbound)."""
    for name, form_field in mine.fields.items():
        if name in ("version", "id", "DELETE"):
            continue
        html_name = mine.add_prefix(name)
        theirs = posted(current[name])
        mine_data = mine[name].data
        if not _differs(form_field, base[name].initial, mine_data):
            _put(data, html_name, theirs)  # not changed by this person: the saved value
            continue
        if _differs(form_field, base[name].initial, theirs) and _differs(
            form_field, current[name].initial, mine_data
        ):
            result.conflicts.append(
                Conflict(
                    key=key(name),
                    label=str(mine[name].label),
                    mine=_shown(form_field, mine_data),
                    theirs=_shown(form_field, theirs),
                    author=author(name),
                )
            )


def apply_choices(data, structure):
    """Settle the conflicts of a previous answer as chosen.

    Returns the `Conflict`s left unanswered, to be asked again (the person's
    value stays in the form meanwhile).
    """
    missing = []
    keys = data.getlist("conflicts")
    for key in keys:
        choice = data.get(f"choice-{key}")
        if choice == "theirs":
            _take_theirs(data, structure, key)
        elif choice != "mine":
            conflict = _ask_again(data, structure, key)
            if conflict is not None:
                missing.append(conflict)
    for key in keys:
        data.pop(f"choice-{key}", None)
    data.pop("conflicts", None)
    return missing


def _ask_again(data, structure, key):
    if key.startswith("stop-"):
        _, pk, name = key.split("-", 2)
        stop = Stop.objects.filter(pk=pk, structure=structure).first()
        index = next(
            (
                i
                for i in range(int(data.get(f"{STOPS}-TOTAL_FORMS") or 0))
                if data.get(f"{STOPS}-{i}-id") == pk
            ),
            None,
        )
        if stop is None or index is None:
            return None
        mine = StopForm(data, prefix=f"{STOPS}-{index}", instance=stop)
        current = StopForm(instance=stop)
        label_prefix = f"Étape « {stop.place} » : "
    else:
        name = key
        mine = StructureForm(data, instance=structure)
        current = StructureForm(instance=structure)
        label_prefix = ""
    if name not in mine.fields:
        return None
    return Conflict(
        key=key,
        label=label_prefix + str(mine[name].label),
        mine=_shown(mine.fields[name], mine[name].data),
        theirs=_shown(mine.fields[name], posted(current[name])),
        author="l’autre personne" if key.startswith("stop-") else last_author(structure, name),
    )


def _take_theirs(data, structure, key):
    if not key.startswith("stop-"):
        form = StructureForm(instance=structure)
        if key in form.fields:
            _put(data, key, posted(form[key]))
        return
    _, pk, name = key.split("-", 2)
    stop = Stop.objects.filter(pk=pk, structure=structure).first()
    if stop is None:
        return
    for index in range(int(data.get(f"{STOPS}-TOTAL_FORMS") or 0)):
        if data.get(f"{STOPS}-{index}-id") == pk:
            form = StopForm(instance=stop)
            if name in form.fields:
                _put(data, f"{STOPS}-{index}-{name}", posted(form[name]))


def rebase(data, structure):
    """Move `data` (a mutable QueryDict of the edit page) onto the current version."""
    result = Rebase()
    token = data.get("version", "")
    current_token = version_token(structure)
    if not token or token == current_token:
        return result
    version = version_at(structure, token)
    if version is None:
        # A token this place never had (a forged or truncated page): the form
        # is taken as it is, as on a page loaded now.
        data["version"] = current_token
        return result
    result.moved = True
    base_form = StructureForm(
        instance=version.record.instance, initial={"kinds": sorted(version.kinds)}
    )
    _merge_form(
        data,
        mine=StructureForm(data, instance=structure, initial=base_form.initial),
        base=base_form,
        current=StructureForm(instance=structure),
        key=lambda name: name,
        result=result,
        author=lambda name: author_of_change(structure, version, name),
    )
    _rebase_stops(data, structure, version, result)
    changes, result.authors = changed_since(structure, token)
    conflicting = {
        field_label(Structure, conflict.key)
        for conflict in result.conflicts
        if not conflict.key.startswith("stop-")
    }
    result.kept = [change for change in changes if change.label not in conflicting]
    data["version"] = current_token
    return result


def _stop_author(stop_pk, after):
    record = (
        Stop.history.filter(id=stop_pk, history_id__gt=after)
        .select_related("history_user")
        .order_by("-history_id")
        .first()
    )
    return str(record.history_user) if record and record.history_user else None


def _rebase_stops(data, structure, version, result):
    total = int(data.get(f"{STOPS}-TOTAL_FORMS") or 0)
    initial = int(data.get(f"{STOPS}-INITIAL_FORMS") or 0)
    current = {stop.pk: stop for stop in structure.stops.select_related("commune")}
    stops_version = version.token.split(".")[0].split("-")[1]
    kept, new = [], []
    for index in range(total):
        prefix = f"{STOPS}-{index}"
        raw = {
            key[len(prefix) + 1 :]: data.getlist(key)
            for key in list(data)
            if key.startswith(prefix + "-")
        }
        pk = data.get(f"{prefix}-id", "")
        if index >= initial or not pk.isdigit():
            if any(v.strip() for values in raw.values() for v in values if values):
                new.append(raw)
            continue
        pk = int(pk)
        base_record = version.stops.get(pk)
        if pk not in current:
            place = data.get(f"{prefix}-place") or (base_record.place if base_record else "")
            who = _stop_author(pk, int(stops_version))
            by = f" par {who}" if who else ""
            if data.get(f"{prefix}-DELETE"):
                result.notes.append(f"L’étape « {place} » avait déjà été supprimée{by}.")
            else:
                result.notes.append(
                    f"L’étape « {place} » a été supprimée entre-temps{by} : elle n’est plus "
                    "dans la fiche, et ce que vous y aviez changé n’a pas pu être enregistré. "
                    "Ajoutez-la de nouveau si elle existe toujours."
                )
            continue
        stop = current.pop(pk)
        base_form = StopForm(instance=base_record.instance if base_record else stop)
        mine = StopForm(data, prefix=prefix, instance=stop, initial=base_form.initial)
        _merge_form(
            data,
            mine=mine,
            base=base_form,
            current=StopForm(instance=stop),
            key=lambda name, pk=pk: f"stop-{pk}-{name}",
            result=result,
            author=lambda name, pk=pk: (
                _stop_author(pk, int(stops_version)) or "un traitement automatique"
            ),
        )
        for conflict in result.conflicts:
            if conflict.key.startswith(f"stop-{pk}-"):
                conflict.label = f"Étape « {stop.place} » : {conflict.label}"
        kept.append(
            {
                key[len(prefix) + 1 :]: data.getlist(key)
                for key in list(data)
                if key.startswith(prefix + "-")
            }
        )
    for stop in current.values():  # added meanwhile: kept
        form = StopForm(instance=stop)
        values = {name: posted(form[name]) for name in form.fields}
        values["id"] = str(stop.pk)
        kept.append({name: v if isinstance(v, list) else [v] for name, v in values.items() if v})
    for key in [key for key in data if key.startswith(f"{STOPS}-")]:
        data.pop(key)
    for index, values in enumerate([*kept, *new]):
        for name, items in values.items():
            data.setlist(f"{STOPS}-{index}-{name}", items)
    data[f"{STOPS}-TOTAL_FORMS"] = str(len(kept) + len(new))
    data[f"{STOPS}-INITIAL_FORMS"] = str(len(kept))
    data[f"{STOPS}-MIN_NUM_FORMS"] = "0"
    data[f"{STOPS}-MAX_NUM_FORMS"] = "1000"
