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
    nor rate-limit count left by an earlier test for the same test address), and
    no map grid kept by the process for an earlier test (mediation/markers.py)."""
    from mediation import markers

    cache.clear()
    markers._local_grids.clear()


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


def pass_second_factor(client, user):
    """Mark `client`'s session as verified by a real confirmed TOTP device of `user`,
    as `django_otp.login()` does after a right code (mediation/second_factor.py)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Téléphone de test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, each request ending as in production: once its transaction
    commits, its after-commit callbacks (the e-mails) run. Without this, a test's
    own transaction never commits and no mail would ever leave.

    Its `force_login()` also passes the second factor for those who need one
    (admins, coordinators, mediators who turned it on): tests of other pages
    start from a fully logged-in session. Tests of the second factor itself use
    a plain `django.test.Client`."""
    from mediation import second_factor

    request = client.request

    def request_then_commit(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(**kwargs)

    client.request = request_then_commit
    force_login = client.force_login

    def force_login_with_second_factor(user, backend=None):
        force_login(user, backend)
        if second_factor.required(user) or second_factor.enabled(user):
            pass_second_factor(client, user)

    client.force_login = force_login_with_second_factor
    return client


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin client, logged in through the `client` above (second factor passed)."""
    client.force_login(admin_user)
    return client
