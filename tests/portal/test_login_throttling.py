"""Failed-login throttling (docs/adr/0009): strangers are throttled, the owner is not locked out.

The numbers are the defaults of ``ACCOUNT_RATE_LIMITS``: per source IP 10 a minute and 60 an
hour, per address and source IP 5 in 5 minutes and 10 an hour, per address over all unknown
sources 30 an hour, per known device 5 in 5 minutes and 10 an hour.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.login_throttle import KNOWN_DEVICE_COOKIE
from portal.models import AuditEvent
from tests.conftest import totp_now
from tests.factories import PASSWORD
from tests.portal.security_helpers import reset_password_by_link

LOGIN_URL = "/konto/login/"
WRONG = "falsches-Passwort-1"
NEW_PASSWORD = "Neues-Passwort-nach-Reset-5"
WRONG_CREDENTIALS = "Die E-Mail-Adresse und/oder das Passwort sind leider falsch."
TOO_MANY = "Zu viele gescheiterte Anmeldeversuche"
STRANGER_IP, OWNER_IP = "203.0.113.66", "198.51.100.7"


def attempt(client, email: str, password: str = WRONG, ip: str = STRANGER_IP):
    return client.post(LOGIN_URL, {"login": email, "password": password}, REMOTE_ADDR=ip)


def is_refused(response) -> bool:
    return response.status_code == 200 and TOO_MANY in response.content.decode()


def logged_in_as(client, user) -> bool:
    return client.session.get(SESSION_KEY) == str(user.pk)


def full_login(client, user, ip: str = OWNER_IP):
    """Password, then the code: the browser becomes a known device of ``user``."""
    response = attempt(client, user.email, PASSWORD, ip)
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(reverse("portal:mfa_verify"), {"token": totp_now(device), "next": "/"},
                           REMOTE_ADDR=ip)
    assert response["Location"] == "/"
    return response


@pytest.fixture
def owner(world):
    return world["people"]["customer_admin"]


def test_strangers_wrong_passwords_do_not_lock_out_the_owner(owner):
    stranger = Client()
    with time_machine.travel(timezone.now(), tick=False):
        for _attempt in range(8):
            attempt(stranger, owner.email)
        # The owner, elsewhere, with password and code, gets in.
        owner_client = Client()
        response = attempt(owner_client, owner.email, PASSWORD, OWNER_IP)
        assert response.status_code == 302
        assert logged_in_as(owner_client, owner)
        full_login(Client(), owner)


def test_the_stranger_is_still_throttled(owner):
    stranger = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _attempt in range(5):
            assert WRONG_CREDENTIALS in attempt(stranger, owner.email).content.decode()
        # Even the right password is not checked any more from there.
        assert is_refused(attempt(stranger, owner.email, PASSWORD))
        assert not logged_in_as(stranger, owner)
        refused = AuditEvent.objects.filter(action="auth.login_failed",
                                            details__rate_limited=True)
        assert refused.get().ip_address == STRANGER_IP
        # After five minutes five more tries, then the hourly limit of that source holds.
        traveller.shift(timedelta(minutes=5, seconds=1))
        for _attempt in range(5):
            assert not is_refused(attempt(stranger, owner.email))
        traveller.shift(timedelta(minutes=5, seconds=1))
        assert is_refused(attempt(stranger, owner.email))


def test_credential_stuffing_from_one_ip_is_throttled(world):
    people = list(world["people"].values())
    stuffer = Client()
    with time_machine.travel(timezone.now(), tick=False):
        for index in range(10):
            attempt(stuffer, f"kunde{index}@example.com")
        # The eleventh address within the minute is refused, even a real one and its password.
        victim = people[0]
        assert is_refused(attempt(stuffer, victim.email, PASSWORD))
        assert not logged_in_as(stuffer, victim)
        # Other sources are not affected.
        elsewhere = Client()
        assert attempt(elsewhere, victim.email, PASSWORD, OWNER_IP).status_code == 302


def test_credential_stuffing_is_capped_per_hour(world):
    stuffer = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for minute in range(6):
            for index in range(10):
                assert not is_refused(attempt(stuffer, f"p{minute}-{index}@example.com"))
            traveller.shift(timedelta(minutes=1, seconds=1))
        assert is_refused(attempt(stuffer, "noch-eine@example.com"))


def test_distributed_guessing_is_capped_per_address_but_not_for_a_known_device(owner):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        known = Client()
        full_login(known, owner)
        known.post(reverse("account_logout"))
        assert KNOWN_DEVICE_COOKIE in known.cookies

        traveller.shift(timedelta(minutes=1))
        for _batch in range(2):
            for source in range(3):
                for _attempt in range(5):
                    attempt(Client(), owner.email, ip=f"192.0.2.{source + 1}")
            traveller.shift(timedelta(minutes=5, seconds=1))

        # 30 guesses from three sources: the address is closed to unknown browsers ...
        new_browser = Client()
        assert is_refused(attempt(new_browser, owner.email, PASSWORD, "198.51.100.99"))
        assert not logged_in_as(new_browser, owner)
        # ... but the owner's own browser, from anywhere, still logs in.
        response = attempt(known, owner.email, PASSWORD, "198.51.100.200")
        assert response.status_code == 302
        assert logged_in_as(known, owner)


def test_a_password_reset_reopens_the_address(owner, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _batch in range(2):
            for source in range(3):
                for _attempt in range(5):
                    attempt(Client(), owner.email, ip=f"192.0.2.{source + 1}")
            traveller.shift(timedelta(minutes=5, seconds=1))
        assert is_refused(attempt(Client(), owner.email, PASSWORD, OWNER_IP))

        reset_password_by_link(Client(REMOTE_ADDR=OWNER_IP), owner, NEW_PASSWORD,
                               django_capture_on_commit_callbacks)
        response = attempt(Client(), owner.email, NEW_PASSWORD, OWNER_IP)
    assert response.status_code == 302


def test_a_known_device_has_its_own_allowance(owner):
    known = Client()
    with time_machine.travel(timezone.now(), tick=False):
        full_login(known, owner)
        known.post(reverse("account_logout"))
        for _attempt in range(5):
            attempt(known, owner.email)
        # A stolen or shared known device is throttled like any other source.
        assert is_refused(attempt(known, owner.email, PASSWORD))
        # Its failures did not count against the owner's other browsers.
        assert attempt(Client(), owner.email, PASSWORD, OWNER_IP).status_code == 302


def test_a_known_device_counts_only_for_its_own_person(world, owner):
    colleague = world["people"]["customer_member"]
    known = Client()
    with time_machine.travel(timezone.now(), tick=False):
        full_login(known, owner)
        known.post(reverse("account_logout"))
        for _attempt in range(5):
            attempt(known, colleague.email, ip=STRANGER_IP)
        assert is_refused(attempt(known, colleague.email, PASSWORD, STRANGER_IP))


def test_a_forged_known_device_cookie_is_ignored(owner):
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = signing.dumps({"u": owner.pk, "d": "x"}, salt="other")
    with time_machine.travel(timezone.now(), tick=False):
        for _attempt in range(5):
            attempt(forged, owner.email)
        assert is_refused(attempt(forged, owner.email, PASSWORD))


def test_known_device_cookie_is_set_only_after_the_second_factor(owner):
    client = Client()
    response = attempt(client, owner.email, PASSWORD, OWNER_IP)
    assert KNOWN_DEVICE_COOKIE not in response.cookies
    response = full_login(Client(), owner)
    cookie = response.cookies[KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 180 * 24 * 60 * 60
