"""Sessions: a new key when the second factor is verified, no caching of personal pages, the
idle timeout and the absolute limit of the session's age."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent, PersonSession
from portal.roles import Role
from tests.conftest import totp_now
from tests.factories import PASSWORD, make_person

LOGIN_URL = "/konto/login/"
IDLE_MESSAGE = "Sie wurden nach 30 Minuten ohne Aktivität abgemeldet."
ABSOLUTE_MESSAGE = "Ihre Sitzung endet spätestens 8 Stunden nach der Anmeldung."


def _password_login(client, user):
    response = client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _verify(client, user):
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(reverse("portal:mfa_verify"), {"token": totp_now(device), "next": "/"})
    assert response["Location"] == "/"


def _full_login(client, user):
    _password_login(client, user)
    _verify(client, user)


def _timeouts(user):
    return AuditEvent.objects.filter(action="auth.session_timeout", target_id=str(user.pk))


def _is_logged_out(client) -> bool:
    return SESSION_KEY not in client.session


# --- a new session key with the second factor -------------------------------------------------


def test_verification_gives_the_session_a_new_key(world, client):
    user = world["people"]["customer_member"]
    _password_login(client, user)
    before = client.session.session_key
    assert PersonSession.objects.get(session_key=before).user_id == user.pk

    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("portal:mfa_verify"), {"token": totp_now(device), "next": "/"})
    after = client.session.session_key
    assert after != before
    assert not PersonSession.objects.filter(session_key=before).exists()
    # The session engine still knows the person, so ending all their sessions still works.
    assert PersonSession.objects.get(session_key=after).user_id == user.pk
    assert client.get("/").status_code == 200


def test_first_enrolment_gives_the_session_a_new_key(world, client):
    newcomer = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    _password_login(client, newcomer)
    client.get(reverse("portal:mfa_enrol"))
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    client.post(reverse("portal:mfa_enrol"), {"token": totp_now(device)})
    after = client.session.session_key
    assert after != before
    assert not PersonSession.objects.filter(session_key=before).exists()
    assert PersonSession.objects.get(session_key=after).user_id == newcomer.pk


# --- no-store ---------------------------------------------------------------------------------


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.parametrize("url_name", ["portal:dashboard", "portal:security", "portal:team",
                                      "account_email", "admin:index",
                                      "admin:portal_user_changelist"])
def test_pages_of_a_logged_in_person_are_not_stored(world, verified_client, url_name):
    client = verified_client(world["people"]["provider_admin"])
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert _no_store(response)


def test_enrolment_page_with_the_secret_is_not_stored(world, client):
    newcomer = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    _password_login(client, newcomer)
    response = client.get(reverse("portal:mfa_enrol"))
    assert 'data-testid="totp-secret"' in response.content.decode()
    assert _no_store(response)
    # The gate's redirects of that session are not stored either.
    assert _no_store(client.get(reverse("portal:dashboard")))


def test_static_files_stay_cacheable(world, verified_client, settings):
    settings.WHITENOISE_USE_FINDERS = True
    client = verified_client(world["people"]["customer_admin"])
    response = client.get(f"{settings.STATIC_URL}portal/portal.css")
    assert response.status_code == 200
    assert not _no_store(response)


# --- idle timeout -----------------------------------------------------------------------------


def test_idle_timeout_ends_the_session_with_a_message(world, client):
    user = world["people"]["customer_admin"]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _full_login(client, user)
        assert client.get("/").status_code == 200
        # Activity keeps the session: 29 minutes, twice.
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=30, seconds=1))
        response = client.get(reverse("portal:team"))
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=/team/"
    assert _is_logged_out(client)
    event = _timeouts(user).get()
    assert event.actor == user
    assert event.details["reason"] == "idle"
    assert event.details["idle_seconds"] >= 30 * 60
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert IDLE_MESSAGE in page.content.decode()


def test_idle_timeout_follows_the_setting(world, client, settings):
    settings.PORTAL_SESSION_IDLE_TIMEOUT_MINUTES = 5
    user = world["people"]["customer_admin"]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _full_login(client, user)
        traveller.shift(timedelta(minutes=4, seconds=59))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=5))
        response = client.post(reverse("portal:language_switch"), {"language": "en"})
    assert response["Location"] == LOGIN_URL
    assert _is_logged_out(client)
    assert "Sie wurden nach 5 Minuten ohne Aktivität abgemeldet." in client.get(
        LOGIN_URL).content.decode()


def test_activity_is_written_at_most_once_a_minute(world, client):
    user = world["people"]["customer_admin"]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _full_login(client, user)
        client.get("/")
        stored = PersonSession.objects.get(user_id=user.pk).session_data
        for _second in range(5):
            traveller.shift(timedelta(seconds=10))
            response = client.get("/")
            assert response.status_code == 200
            assert "sessionid" not in response.cookies  # nothing saved, no new cookie
        assert PersonSession.objects.get(user_id=user.pk).session_data == stored
        traveller.shift(timedelta(seconds=11))
        client.get("/")
        assert PersonSession.objects.get(user_id=user.pk).session_data != stored


def test_a_request_never_writes_the_session_only_to_start_the_clocks(world, verified_client):
    """A session from before the clocks existed (here: one made by the test client) gets them
    with its next write, not with an extra one."""
    user = world["people"]["customer_admin"]
    client = verified_client(user)
    stored = PersonSession.objects.get(user_id=user.pk).session_data
    assert client.get("/").status_code == 200
    assert PersonSession.objects.get(user_id=user.pk).session_data == stored


# --- absolute limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("save_every_request", [False, True])
def test_absolute_limit_is_counted_from_the_login(world, client, settings, save_every_request):
    settings.SESSION_SAVE_EVERY_REQUEST = save_every_request
    user = world["people"]["customer_admin"]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _password_login(client, user)
        traveller.shift(timedelta(minutes=10))
        _verify(client, user)
        # Busy all day: a request every 20 minutes, the session is written each time.
        while timezone.now() < start + timedelta(hours=7, minutes=50):
            traveller.shift(timedelta(minutes=20))
            assert client.get("/").status_code == 200, timezone.now() - start
        traveller.move_to(start + timedelta(hours=8, seconds=1))
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert _is_logged_out(client)
    assert _timeouts(user).get().details["reason"] == "absolute"
    assert ABSOLUTE_MESSAGE in client.get(LOGIN_URL).content.decode()


def test_the_absolute_limit_is_exactly_eight_hours(world, client):
    """Just under eight hours the session is alive, at eight hours it is not."""
    user = world["people"]["customer_member"]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _full_login(client, user)
        for _step in range(24):
            traveller.shift(timedelta(minutes=19, seconds=59))
            assert client.get("/").status_code == 200
        traveller.move_to(start + timedelta(hours=8))
        assert client.get("/").status_code == 302
    assert _is_logged_out(client)
