"""Password login through allauth, the mandatory second factor, lockouts and MFA resets."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.mfa import check_token
from portal.models import AuditEvent, PersonSession
from portal.roles import Role
from portal.services.mfa import mfa_reset
from tests.conftest import totp_now, verify_session
from tests.factories import PASSWORD, make_person
from tests.portal.security_helpers import reauthenticate, wrong_totp

LOGIN_URL = "/konto/login/"
WRONG_CREDENTIALS = "Die E-Mail-Adresse und/oder das Passwort sind leider falsch."
TOO_MANY_LOGINS = "Zu viele gescheiterte Anmeldeversuche"
WRONG_CODE = "Der Code ist nicht korrekt."
THROTTLED = "Zu viele falsche Codes."


def password_login(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def is_logged_in(client, user) -> bool:
    return client.session.get(SESSION_KEY) == str(user.pk)


def is_verified(client, device) -> bool:
    return client.session.get(DEVICE_ID_SESSION_KEY) == device.persistent_id


def audit_actions(user=None, action: str | None = None):
    events = AuditEvent.objects.all()
    if user is not None:
        events = events.filter(target_type="portal.user", target_id=str(user.pk))
    if action is not None:
        events = events.filter(action=action)
    return events


# --- Password login ---------------------------------------------------------------------------


def test_password_login_redirects_to_mfa_verification(world, client):
    user = world["people"]["customer_admin"]
    response = password_login(client, user.email)
    assert response.status_code == 302
    assert is_logged_in(client, user)

    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))

    # Not verified yet: every portal page sends the person back to verification.
    response = client.get(reverse("portal:team"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))
    response = client.get(response["Location"])
    assert response.status_code == 200
    assert "Zweiter Faktor" in response.content.decode()


def test_password_login_then_totp_code_reaches_dashboard(world, client):
    user = world["people"]["customer_admin"]
    device = TOTPDevice.objects.get(user=user)
    password_login(client, user.email)
    response = client.post(reverse("portal:mfa_verify"),
                           {"token": totp_now(device), "next": reverse("portal:team")})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:team")
    assert is_verified(client, device)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert audit_actions(user, "mfa.verified").count() == 1


def test_successful_login_writes_audit_event(world, client):
    user = world["people"]["customer_member"]
    password_login(client, user.email)
    event = audit_actions(user, "auth.login").get()
    assert event.actor == user
    assert event.ip_address == "127.0.0.1"
    assert event.organisation == world["orgs"]["customer_a"]
    assert not audit_actions(action="auth.login_failed").exists()


def test_failed_login_writes_audit_event_and_german_error(world, client):
    user = world["people"]["customer_member"]
    response = password_login(client, user.email, "falsches-Passwort-1")
    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.content.decode()
    assert SESSION_KEY not in client.session
    event = audit_actions(action="auth.login_failed").get()
    assert event.actor is None
    assert event.actor_label == "system"
    assert event.target_id == str(user.pk)
    assert event.details == {"known_account": True, "rate_limited": False}
    assert event.ip_address == "127.0.0.1"
    assert not audit_actions(action="auth.login").exists()


def test_failed_login_for_unknown_address_is_audited_without_target(world, client):
    password_login(client, "niemand@example.com", "irgendwas-1234")
    event = audit_actions(action="auth.login_failed").get()
    assert event.target_id == ""
    assert event.details == {"known_account": False, "rate_limited": False}


def test_login_rate_limit_per_address_and_source(world, client):
    """Five failures for one address from one source close it there (docs/adr/0009; the
    owner elsewhere is not affected: tests/portal/test_login_throttling.py)."""
    user = world["people"]["customer_member"]
    other = world["people"]["customer_admin"]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _attempt in range(5):
            response = password_login(client, user.email, "falsches-Passwort-1")
            assert WRONG_CREDENTIALS in response.content.decode()
        assert audit_actions(action="auth.login_failed").count() == 5

        # The sixth try is refused even with the right password.
        response = password_login(client, user.email)
        assert response.status_code == 200
        assert TOO_MANY_LOGINS in response.content.decode()
        assert SESSION_KEY not in client.session
        assert not audit_actions(user, "auth.login").exists()

        # The limit is per address: a colleague from the same source still gets in.
        colleague = Client()
        password_login(colleague, other.email)
        assert is_logged_in(colleague, other)

        # After the window (300 s) the right password works again.
        traveller.shift(timedelta(seconds=301))
        response = password_login(client, user.email)
        assert response.status_code == 302
        assert is_logged_in(client, user)


def test_four_wrong_passwords_do_not_lock_out(world, client):
    user = world["people"]["customer_member"]
    for _attempt in range(4):
        password_login(client, user.email, "falsches-Passwort-1")
    response = password_login(client, user.email)
    assert response.status_code == 302
    assert is_logged_in(client, user)


# --- Enrolment --------------------------------------------------------------------------------


def _secret_from_page(html: str) -> str:
    match = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html)
    assert match, "the enrolment page shows the secret for manual entry"
    return match.group(1)


def _code_for_secret(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, step=30, t0=0, digits=6).token():06d}"


def test_enrolment_end_to_end(world, client):
    person = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    response = password_login(client, person.email)
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_enrol"))

    response = client.get(response["Location"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Zwei-Faktor-Anmeldung einrichten" in html
    assert "<svg" in html  # the QR code, rendered inline
    secret = _secret_from_page(html)
    device = TOTPDevice.objects.get(user=person)
    assert not device.confirmed
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    # A second visit shows the same (still unconfirmed) device, not a new one.
    assert _secret_from_page(client.get(reverse("portal:mfa_enrol")).content.decode()) == secret
    assert TOTPDevice.objects.filter(user=person).count() == 1

    response = client.post(reverse("portal:mfa_enrol"),
                           {"token": _code_for_secret(secret), "next": "/"})
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r"<li>([^<]+)</li>",
                       html.split('data-testid="backup-codes"')[1].split("</ul>")[0])
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert stored == set(codes)

    device.refresh_from_db()
    assert device.confirmed
    assert is_verified(client, device)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    event = audit_actions(person, "mfa.enrolled").get()
    assert event.actor == person
    assert event.details["backup_codes_issued"] == 10


def test_enrolment_rejects_wrong_code(world, client):
    person = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    client.force_login(person)
    client.get(reverse("portal:mfa_enrol"))
    device = TOTPDevice.objects.get(user=person)
    response = client.post(reverse("portal:mfa_enrol"), {"token": wrong_totp(device)})
    assert response.status_code == 200
    assert "Der Code ist nicht korrekt." in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not is_verified(client, device)
    assert not StaticDevice.objects.filter(user=person).exists()
    assert not audit_actions(person, "mfa.enrolled").exists()


def test_enrolment_refused_for_unverified_person_with_device(world, client):
    user = world["people"]["customer_admin"]
    client.force_login(user)
    response = client.get(reverse("portal:mfa_enrol"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))
    # Posting a code for a new device does not work either.
    response = client.post(reverse("portal:mfa_enrol"), {"token": "123456"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    assert not audit_actions(user, "mfa.enrolled").exists()


def test_verified_person_may_add_a_second_authenticator(world, verified_client):
    user = world["people"]["customer_admin"]
    client = verified_client(user)
    assert reauthenticate(client, user).status_code == 302
    response = client.get(reverse("portal:mfa_enrol"))
    assert response.status_code == 200
    new_device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("portal:mfa_enrol"), {"token": totp_now(new_device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:security")
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 2
    # The backup codes of the first enrolment stay valid.
    assert StaticToken.objects.filter(device__user=user, token="backup01").exists()


# --- Backup codes and throttling --------------------------------------------------------------


def test_backup_code_works_once(world, client):
    user = world["people"]["customer_member"]
    password_login(client, user.email)
    response = client.post(reverse("portal:mfa_verify"), {"token": "backup01", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    static = StaticDevice.objects.get(user=user)
    assert is_verified(client, static)
    response = client.get("/")
    assert response.status_code == 200
    assert "Es bleiben 0 Codes." in response.content.decode()
    assert audit_actions(user, "mfa.verified").get().details["method"] == "backup_code"
    assert not StaticToken.objects.filter(device=static).exists()

    second = Client()
    password_login(second, user.email)
    response = second.post(reverse("portal:mfa_verify"), {"token": "backup01", "next": "/"})
    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in second.session
    assert audit_actions(user, "mfa.failed").get().details["method"] == "invalid"
    assert second.get("/").status_code == 302


def test_wrong_code_throttles_even_the_right_code(world, client):
    user = world["people"]["customer_member"]
    device = TOTPDevice.objects.get(user=user)
    verify_url = reverse("portal:mfa_verify")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        password_login(client, user.email)
        response = client.post(verify_url, {"token": wrong_totp(device)})
        assert WRONG_CODE in response.content.decode()

        response = client.post(verify_url, {"token": totp_now(device)})
        assert response.status_code == 200
        assert THROTTLED in response.content.decode()
        assert DEVICE_ID_SESSION_KEY not in client.session
        assert audit_actions(user, "mfa.failed").filter(
            details__method="throttled").count() == 1

        # The delay doubles per failure (factor 1 s); after it the right code works.
        traveller.shift(timedelta(seconds=2))
        response = client.post(verify_url, {"token": totp_now(device), "next": "/"})
        assert response.status_code == 302
        assert is_verified(client, device)
        device.refresh_from_db()
        assert device.throttling_failure_count == 0


def test_backup_codes_are_throttled_too(world):
    user = world["people"]["customer_member"]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert check_token(user, "wrong-01").method == "invalid"
        result = check_token(user, "backup01")
        assert result.device is None
        assert result.method == "throttled"
        traveller.shift(timedelta(seconds=2))
        assert check_token(user, "backup01").method == "backup_code"


# --- Deactivation -----------------------------------------------------------------------------


def test_deactivated_person_loses_running_session_at_once(world, verified_client):
    admin = world["people"]["customer_admin"]
    member = world["people"]["customer_member"]
    member_client = Client()
    verify_session(member_client, member)
    assert member_client.get(reverse("portal:dashboard")).status_code == 200
    assert PersonSession.objects.filter(user_id=member.pk).exists()

    admin_client = verified_client(admin)
    url = reverse("portal:team_deactivate", args=[member.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Zugang beenden" in response.content.decode()
    response = admin_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:team")

    member.refresh_from_db()
    assert not member.is_active
    assert member.deactivated_at is not None
    assert not PersonSession.objects.filter(user_id=member.pk).exists()
    assert PersonSession.objects.filter(user_id=admin.pk).exists()

    response = member_client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert audit_actions(member, "user.deactivated").get().actor == admin

    # The password does not open a new session either.
    fresh = Client()
    password_login(fresh, member.email)
    assert SESSION_KEY not in fresh.session


# --- MFA reset by the provider admin ----------------------------------------------------------


def _admin_action(client, action: str, users, **extra):
    data = {"action": action, "_selected_action": [u.pk for u in users], **extra}
    return client.post(reverse("admin:portal_user_changelist"), data)


def test_provider_admin_resets_mfa_with_confirmation(world, verified_client):
    admin = world["people"]["provider_admin"]
    member = world["people"]["customer_member"]
    member_client = Client()
    verify_session(member_client, member)
    assert member_client.get("/").status_code == 200

    client = verified_client(admin)
    response = _admin_action(client, "reset_mfa", [member])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alle Authenticator-Apps und Backup-Codes" in html
    assert 'name="confirmed" value="yes"' in html
    # Nothing happened yet.
    assert TOTPDevice.objects.filter(user=member).exists()
    assert not audit_actions(member, "mfa.reset").exists()

    response = _admin_action(client, "reset_mfa", [member], confirmed="yes",
                             identity_check="Rückruf unter der hinterlegten Nummer")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticDevice.objects.filter(user=member).exists()
    event = audit_actions(member, "mfa.reset").get()
    assert event.actor == admin
    assert event.details["sessions_ended"] >= 1
    assert event.details["identity_check"] == "Rückruf unter der hinterlegten Nummer"
    assert not PersonSession.objects.filter(user_id=member.pk).exists()

    # The running session is gone; the next login asks for a new enrolment.
    response = member_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    fresh = Client()
    response = password_login(fresh, member.email)
    response = fresh.get(response["Location"])
    assert response["Location"].startswith(reverse("portal:mfa_enrol"))

    # The admin's own factors and session are untouched.
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert client.get(reverse("admin:index")).status_code == 200


def test_partner_support_cannot_reset_mfa(world, verified_client):
    member = world["people"]["customer_member"]
    client = verified_client(world["people"]["partner_support"])
    # The person is visible to partner support, but the action is not offered.
    changelist = client.get(reverse("admin:portal_user_changelist"))
    assert changelist.status_code == 200
    assert member.email in changelist.content.decode()
    assert 'value="reset_mfa"' not in changelist.content.decode()
    _admin_action(client, "reset_mfa", [member], confirmed="yes")
    assert TOTPDevice.objects.filter(user=member).exists()
    assert StaticDevice.objects.filter(user=member).exists()
    assert not audit_actions(member, "mfa.reset").exists()
    with pytest.raises(PermissionDenied):
        mfa_reset(actor=world["people"]["partner_support"], user=member,
                  identity_check="Rückruf")


def test_customer_admin_cannot_reset_mfa(world, verified_client):
    member = world["people"]["customer_member"]
    client = verified_client(world["people"]["customer_admin"])
    response = _admin_action(client, "reset_mfa", [member], confirmed="yes")
    assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=member).exists()
    assert not audit_actions(member, "mfa.reset").exists()
    with pytest.raises(PermissionDenied):
        mfa_reset(actor=world["people"]["customer_admin"], user=member,
                  identity_check="Rückruf")


def test_provider_staff_cannot_reset_mfa(world, verified_client):
    member = world["people"]["customer_member"]
    client = verified_client(world["people"]["provider_staff"])
    _admin_action(client, "reset_mfa", [member], confirmed="yes")
    assert TOTPDevice.objects.filter(user=member).exists()
    with pytest.raises(PermissionDenied):
        mfa_reset(actor=world["people"]["provider_staff"], user=member,
                  identity_check="Rückruf")


# --- Backup codes on the security page --------------------------------------------------------


def test_regenerating_backup_codes_replaces_the_old_ones(world, verified_client):
    user = world["people"]["customer_admin"]
    client = verified_client(user)
    reauthenticate(client, user)
    response = client.post(reverse("portal:backup_codes_regenerate"))
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r"<li>([^<]+)</li>",
                       html.split('data-testid="backup-codes"')[1].split("</ul>")[0])
    assert len(codes) == 10
    assert "backup01" not in codes
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == set(codes)
    assert StaticDevice.objects.filter(user=user).count() == 1
    assert audit_actions(user, "mfa.backup_codes_regenerated").count() == 1

    assert check_token(user, codes[0]).method == "backup_code"
    assert check_token(user, "backup01").method == "invalid"


def test_regenerating_backup_codes_needs_post(world, verified_client):
    user = world["people"]["customer_admin"]
    client = verified_client(user)
    assert client.get(reverse("portal:backup_codes_regenerate")).status_code == 405
    assert StaticToken.objects.filter(device__user=user, token="backup01").exists()


def test_enrolment_cancel_logs_out_only_for_the_first_factor(world, client, verified_client):
    """Without a factor, cancelling enrolment means leaving; adding a second one is cancelled
    back to the security page, the session stays."""
    from tests.portal.security_helpers import reauthenticate

    newcomer = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    password_login(client, newcomer.email)
    first = client.get(reverse("portal:mfa_enrol")).content.decode()
    assert "Abbrechen und abmelden" in first

    owner = world["people"]["customer_admin"]
    owner_client = verified_client(owner)
    reauthenticate(owner_client, owner, next_url=reverse("portal:mfa_enrol"))
    second = owner_client.get(reverse("portal:mfa_enrol")).content.decode()
    assert "Abbrechen und abmelden" not in second
    assert f'href="{reverse("portal:security")}"' in second
