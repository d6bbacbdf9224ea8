"""Sessions end when idle (sooner for those who can publish), and no cache keeps private pages."""

import time

import pytest
from django.urls import reverse

from mediation.sessions import LAST_SEEN


def idle_for(client, seconds):
    session = client.session
    session[LAST_SEEN] = int(time.time()) - seconds
    session.save()


@pytest.mark.parametrize(
    ("person", "still_in_after", "out_after"),
    [("mediator", 13 * 86400, 15 * 86400), ("coordinator", 3600, 3 * 3600)],
)
def test_a_session_ends_after_its_idle_time(
    client, request, territories, person, still_in_after, out_after
):
    client.force_login(request.getfixturevalue(person))
    home = reverse("space:home")
    assert client.get(home).status_code == 200
    idle_for(client, still_in_after)
    assert client.get(home).status_code == 200
    idle_for(client, out_after)
    response = client.get(home, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("space:login"))
    assert "Votre session a expiré faute d’activité" in response.content.decode()
    assert client.get(home).status_code == 302  # logged out for good


def test_admins_get_the_short_idle_time_too(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("space:home")).status_code == 200
    idle_for(client, 3 * 3600)
    assert client.get(reverse("space:home")).status_code == 302


def test_private_pages_are_never_stored(client, mediator, admin_user, territories):
    login_page = client.get(reverse("space:login"))
    assert "no-store" in login_page["Cache-Control"] and "private" in login_page["Cache-Control"]
    client.force_login(mediator)
    for url in (reverse("space:home"), reverse("mediation:legal")):
        cache_control = client.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, url
    client.force_login(admin_user)
    assert "no-store" in client.get("/admin/")["Cache-Control"]
    client.logout()
    assert "no-store" not in client.get(reverse("mediation:legal")).get("Cache-Control", "")
