"""Shared fixtures: no network, a fake geocoder, the committed reference data."""

import pytest
from django.core.cache import cache
from django.core.management import call_command

from mediation import geocoding

REFERENCE_FIXTURES = ("fixtures/territories.json", "fixtures/service_types.json")


def load_reference_data():
    """Territories and the 7 kinds, unless already there."""
    from mediation.models import ServiceType
    from territories.models import Commune

    if not Commune.objects.exists() or not ServiceType.objects.exists():
        call_command("loaddata", *REFERENCE_FIXTURES, verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data once; each test's transaction rolls back over it."""
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture
def territories(db):
    """The territories and kinds (reloaded after a transactional test emptied the tables)."""
    load_reference_data()


@pytest.fixture(autouse=True)
def new_data_version(request):
    """Each test starts from a version of its own.

    The directory's version moves when a transaction commits, and a test's never
    does: without this, a test could get the map markers cached by the previous
    one. Within a test, wrap a change in `django_capture_on_commit_callbacks(
    execute=True)` to see the version move as in production.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if marker or transactional or "db" in request.fixturenames:
        request.getfixturevalue("transactional_db" if transactional else "db")
        from mediation.versioning import move_version

        move_version()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: no abuse-limit count (mediation/abuse.py)
    nor rate-limit count left by an earlier test for the same test address."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 takes ~0.3 s per account on purpose; tests create dozens of accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def coverage_on_commit(request, settings):
    """The communes' distances to help are recomputed after each change of places
    (about 0.3 s): only in the tests marked `coverage`, which check that."""
    settings.COVERAGE_ON_COMMIT = bool(request.node.get_closest_marker("coverage"))


@pytest.fixture(autouse=True)
def fake_geocoder(monkeypatch):
    """The BAN is never called in tests; register answers with `fake_geocoder[query] = Place`."""
    answers = {}

    def lookup(query, *, citycode=None):
        return answers.get(query)

    monkeypatch.setattr(geocoding, "ban_lookup", lookup)
    return answers


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, each request ending as in production: once its transaction
    commits, its after-commit callbacks (the e-mails) run. Without this, a test's
    own transaction never commits and no mail would ever leave."""
    request = client.request

    def request_then_commit(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(**kwargs)

    client.request = request_then_commit
    return client
