"""People of the mediators' space: a mediator, coordinators, an administrator."""

import pytest

from mediation.models import Coordination, Membership
from tests.factories import StructureFactory, UserFactory, commune

PASSWORD = "un mot de passe solide 2026"


@pytest.fixture
def structure(db):
    """A published structure in Châteauroux (bassin de Châteauroux)."""
    return StructureFactory(name="Espace numérique du Centre", commune=commune("36044"))


@pytest.fixture
def other_structure(db):
    """A structure in Bourges: another bassin de vie."""
    return StructureFactory(name="Fablab de Bourges", commune=commune("18033"))


@pytest.fixture
def mediator(structure):
    user = UserFactory(email="mediatrice@example.fr", first_name="Camille")
    Membership.objects.create(user=user, structure=structure)
    return user


@pytest.fixture
def other_mediator(other_structure):
    user = UserFactory(email="autre.mediateur@example.fr")
    Membership.objects.create(user=user, structure=other_structure)
    return user


@pytest.fixture
def coordinator(structure):
    user = UserFactory(email="coordination@example.fr", first_name="Dominique")
    Coordination.objects.create(user=user, bassin=structure.commune.bassin)
    return user


@pytest.fixture
def other_coordinator(other_structure):
    user = UserFactory(email="coordination.bourges@example.fr")
    Coordination.objects.create(user=user, bassin=other_structure.commune.bassin)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(email="hub@example.fr", is_staff=True, is_superuser=True)


def form_payload(form):
    """What a browser would post for an unbound form, as the page shows it."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        key = form.add_prefix(name)
        if isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        elif value is True:
            data[key] = "on"
        else:
            data[key] = str(value)
    return data


def edit_payload(structure, action="save", **changes):
    """The edit page's form as loaded now, with `changes`, submitted with `action`."""
    from mediation.space.forms import StopFormSet, StructureForm
    from mediation.space.history import version_token

    form = StructureForm(instance=structure, initial={"version": version_token(structure)})
    stops = StopFormSet(instance=structure, prefix="stops")
    data = form_payload(form)
    data.update(form_payload(stops.management_form))
    for stop_form in stops.initial_forms:
        data.update(form_payload(stop_form))
    data.update(changes)
    data["action"] = action
    return data
