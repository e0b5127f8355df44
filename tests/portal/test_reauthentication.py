"""Re-authentication (password and a current code) before every change of a factor or a
credential, and the e-mail notice about each change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent, PersonSession
from portal.reauth import REAUTH_REQUIRED, REAUTH_SESSION_KEY
from portal.roles import Role
from portal.services.mfa import mfa_reset
from tests.conftest import totp_now
from tests.factories import PASSWORD, make_person
from tests.outbox import deliver_queued
from tests.portal.security_helpers import (
    REAUTH_URL,
    reauthenticate,
    reset_password_by_link,
    wrong_totp,
)

NEW_PASSWORD = "Ganz-neues-Passwort-2027"
NEW_EMAIL = "neue.adresse@example.com"
FIRST_NAME, LAST_NAME = "Zoë & 'Jo'", '"Kühn" & Söhne'
FULL_NAME = f"{FIRST_NAME} {LAST_NAME}"
REFUSED = "Das Passwort oder der Code ist nicht korrekt."
ESCAPES = ("&amp;", "&#x27;", "&#39;", "&quot;")


@pytest.fixture
def person(world):
    """A customer admin whose name needs escaping in HTML (and only there)."""
    return make_person(Role.CUSTOMER_ADMIN, world["orgs"]["customer_a"],
                       first_name=FIRST_NAME, last_name=LAST_NAME)


@pytest.fixture
def person_client(person, verified_client):
    return verified_client(person)


def audited(user, action: str):
    return AuditEvent.objects.filter(action=action, target_type="portal.user",
                                     target_id=str(user.pk))


# --- the five changes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    id: str
    #: the page the re-authentication returns to
    back_to: str
    prepare: Callable
    perform: Callable
    changed: Callable
    audit_action: str
    subject: str
    summary: str
    both_addresses: bool = False
    advice: str = "Setzen Sie sofort über „Passwort vergessen?“ auf der Anmeldeseite"


def _no_preparation(user):
    return {}


def _add_authenticator(client, user, ctx):
    response = client.get(reverse("portal:mfa_enrol"))
    if response.status_code != 200:
        return response
    new_device = TOTPDevice.objects.get(user=user, confirmed=False)
    return client.post(reverse("portal:mfa_enrol"), {"token": totp_now(new_device)})


def _second_device(user):
    return {"device": TOTPDevice.objects.create(user=user, name="Zweites Telefon",
                                                confirmed=True)}


def _remove_authenticator(client, user, ctx):
    return client.post(reverse("portal:device_remove", args=[ctx["device"].pk]))


def _regenerate_backup_codes(client, user, ctx):
    return client.post(reverse("portal:backup_codes_regenerate"))


def _change_password(client, user, ctx):
    return client.post(reverse("account_change_password"), {
        "oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def _verified_second_address(user):
    EmailAddress.objects.create(user=user, email=NEW_EMAIL, verified=True, primary=False)
    return {"old_email": user.email}


def _change_email(client, user, ctx):
    return client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_primary": "1"})


def _password_is_new(user, ctx):
    user.refresh_from_db()
    return user.check_password(NEW_PASSWORD)


def _email_is_new(user, ctx):
    user.refresh_from_db()
    return user.email == NEW_EMAIL


CHANGES = [
    Change("add-authenticator", "/konto/2fa/einrichten/", _no_preparation, _add_authenticator,
           lambda user, ctx: TOTPDevice.objects.filter(user=user, confirmed=True).count() == 2,
           "mfa.enrolled", "Neue Authenticator-App an Ihrem Konto",
           "Zu Ihrem Konto wurde die Authenticator-App „Authenticator-App“ hinzugefügt."),
    Change("remove-authenticator", "/konto/sicherheit/", _second_device, _remove_authenticator,
           lambda user, ctx: not TOTPDevice.objects.filter(pk=ctx["device"].pk).exists(),
           "mfa.device_removed", "Authenticator-App von Ihrem Konto entfernt",
           "Die Authenticator-App „Zweites Telefon“ wurde von Ihrem Konto entfernt"),
    Change("regenerate-backup-codes", "/konto/sicherheit/", _no_preparation,
           _regenerate_backup_codes,
           lambda user, ctx: not StaticToken.objects.filter(device__user=user,
                                                            token="backup01").exists(),
           "mfa.backup_codes_regenerated", "Neue Backup-Codes für Ihr Konto",
           "Für Ihr Konto wurden neue Backup-Codes erzeugt."),
    Change("change-password", "/konto/password/change/", _no_preparation, _change_password,
           _password_is_new, "user.password_changed", "Ihr Passwort wurde geändert",
           "Das Passwort Ihres Kontos wurde geändert."),
    Change("change-email", "/konto/email/", _verified_second_address, _change_email,
           _email_is_new, "user.email_changed", "Die E-Mail-Adresse Ihres Kontos wurde geändert",
           "wurde von {old} in neue.adresse@example.com geändert.", both_addresses=True,
           advice="Links zum Zurücksetzen des Passworts gehen jetzt an die neue Adresse."),
]
ids = [change.id for change in CHANGES]


def test_the_guarded_url_names_are_routed():
    """The five changes above, plus allauth's "set a first password" page."""
    assert set(REAUTH_REQUIRED) == {"portal:mfa_enrol", "portal:device_remove",
                                    "portal:backup_codes_regenerate", "account_change_password",
                                    "account_set_password", "account_email"}
    for name in REAUTH_REQUIRED:
        args = [1] if name == "portal:device_remove" else []
        assert resolve(reverse(name, args=args)).view_name == name


def _assert_sent_to_reauthentication(response, change: Change) -> None:
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH_URL}?{urlencode({'next': change.back_to})}"


@pytest.mark.parametrize("change", CHANGES, ids=ids)
def test_change_refused_without_reauthentication(change, person, person_client,
                                                 django_capture_on_commit_callbacks):
    ctx = change.prepare(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = change.perform(person_client, person, ctx)
    _assert_sent_to_reauthentication(response, change)
    assert not change.changed(person, ctx)
    assert not audited(person, change.audit_action).exists()
    assert not mail.outbox
    # Nothing was even started: no half-enrolled authenticator with a secret.
    assert not TOTPDevice.objects.filter(user=person, confirmed=False).exists()
    # The confirmation page explains itself and comes back to the page asked for.
    page = person_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Identität bestätigen" in html
    assert f'name="next" value="{change.back_to}"' in html


@pytest.mark.parametrize("change", CHANGES, ids=ids)
def test_change_refused_with_stale_reauthentication(change, person, person_client):
    ctx = change.prepare(person)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert reauthenticate(person_client, person).status_code == 302
        traveller.shift(timedelta(seconds=settings.PORTAL_REAUTH_MAX_AGE_SECONDS + 1))
        response = change.perform(person_client, person, ctx)
    _assert_sent_to_reauthentication(response, change)
    assert not change.changed(person, ctx)
    assert not audited(person, change.audit_action).exists()


@pytest.mark.parametrize("change", CHANGES, ids=ids)
def test_change_accepted_within_window_and_notified(change, person, person_client,
                                                    django_capture_on_commit_callbacks):
    ctx = change.prepare(person)
    old_email = person.email
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = reauthenticate(person_client, person, next_url=change.back_to)
        assert response.status_code == 302
        assert response["Location"] == change.back_to
        traveller.shift(timedelta(seconds=settings.PORTAL_REAUTH_MAX_AGE_SECONDS - 10))
        with django_capture_on_commit_callbacks(execute=True):
            response = change.perform(person_client, person, ctx)
    assert response.status_code in (200, 302)
    assert not response.get("Location", "").startswith(REAUTH_URL)
    assert change.changed(person, ctx)
    assert audited(person, "auth.reauthenticated").get().actor == person
    assert audited(person, change.audit_action).get().actor == person

    expected_to = [[old_email], [NEW_EMAIL]] if change.both_addresses else [[old_email]]
    assert sorted(message.to for message in mail.outbox) == sorted(expected_to)
    for message in mail.outbox:
        assert message.subject == f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{change.subject}"
        body = message.body
        assert f"Guten Tag {FULL_NAME}," in body
        assert change.summary.format(old=old_email) in body
        assert "Wenn Sie das nicht waren" in body
        assert change.advice in body
        assert f"{settings.PORTAL_BASE_URL}/konto/sicherheit/" in body
        assert "IP-Adresse: 127.0.0.1" in body
        for escaped in ESCAPES:
            assert escaped not in body
            assert escaped not in message.subject
        (html, mimetype), = message.alternatives
        assert mimetype == "text/html"
        assert "Zoë &amp; &#x27;Jo&#x27; &quot;Kühn&quot; &amp; Söhne" in html
        assert FULL_NAME not in html


# --- the confirmation page --------------------------------------------------------------------


def test_wrong_password_is_refused_and_costs_no_backup_code(person, person_client):
    response = reauthenticate(person_client, person, password="falsches-Passwort-9",
                              token="backup01")
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert REAUTH_SESSION_KEY not in person_client.session
    assert StaticToken.objects.filter(device__user=person, token="backup01").exists()
    assert audited(person, "auth.reauth_failed").get().details["method"] == "password"
    # A failed confirmation is not a failed login of someone else.
    assert not AuditEvent.objects.filter(action="auth.login_failed").exists()
    response = _regenerate_backup_codes(person_client, person, {})
    assert response["Location"].startswith(REAUTH_URL)


def test_wrong_code_is_refused_with_the_same_message(person, person_client):
    device = TOTPDevice.objects.get(user=person)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = reauthenticate(person_client, person, token=wrong_totp(device))
        assert response.status_code == 200
        assert REFUSED in response.content.decode()
        assert audited(person, "auth.reauth_failed").get().details["method"] == "invalid"
        # django-otp throttles the device: even the right code waits (same message).
        response = reauthenticate(person_client, person)
        assert REFUSED in response.content.decode()
        assert audited(person, "auth.reauth_failed").filter(
            details__method="throttled").count() == 1
        assert REAUTH_SESSION_KEY not in person_client.session
        traveller.shift(timedelta(seconds=2))
        assert reauthenticate(person_client, person).status_code == 302
    assert REAUTH_SESSION_KEY in person_client.session


def test_backup_code_confirms_and_is_used_up(person, person_client):
    response = reauthenticate(person_client, person, token="backup01")
    assert response.status_code == 302
    assert audited(person, "auth.reauthenticated").get().details["method"] == "backup_code"
    assert not StaticToken.objects.filter(device__user=person, token="backup01").exists()
    page = person_client.get(response["Location"])
    assert "Sie haben einen Backup-Code verwendet. Es bleiben 0 Codes." in page.content.decode()


def test_reauthentication_rotates_the_session_key(person, person_client):
    before = person_client.session.session_key
    reauthenticate(person_client, person)
    after = person_client.session.session_key
    assert after != before
    assert not PersonSession.objects.filter(session_key=before).exists()
    assert PersonSession.objects.get(session_key=after).user_id == person.pk
    assert person_client.get(reverse("portal:security")).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/konto/"])
def test_reauthentication_returns_only_to_this_site(person, person_client, target):
    response = reauthenticate(person_client, person, next_url=target)
    assert response["Location"] == reverse("portal:security")


def test_wrong_passwords_are_throttled_like_logins(person, person_client):
    for _attempt in range(5):
        reauthenticate(person_client, person, password="falsches-Passwort-9")
    response = reauthenticate(person_client, person)
    assert response.status_code == 200
    assert "Zu viele gescheiterte Versuche" in response.content.decode()
    assert REAUTH_SESSION_KEY not in person_client.session
    assert audited(person, "auth.reauth_failed").filter(
        details__method="rate_limited").count() == 1


def test_confirmation_attempts_are_rate_limited_per_person(person, person_client):
    """allauth's ``reauthenticate`` rate (10 a minute per person), whatever is typed."""
    device = TOTPDevice.objects.get(user=person)
    with time_machine.travel(timezone.now(), tick=False):
        for _attempt in range(10):
            reauthenticate(person_client, person, token=wrong_totp(device))
        response = reauthenticate(person_client, person)
    assert "Zu viele Versuche" in response.content.decode()
    assert audited(person, "auth.reauth_failed").filter(
        details__method="rate_limited").count() == 1


def test_security_page_links_through_the_confirmation(person, person_client):
    html = person_client.get(reverse("portal:security")).content.decode()
    for url in ("/konto/2fa/einrichten/", "/konto/password/change/", "/konto/email/"):
        assert f'href="{REAUTH_URL}?{urlencode({"next": url})}"' in html
    reauthenticate(person_client, person)
    html = person_client.get(reverse("portal:security")).content.decode()
    for url in ("/konto/2fa/einrichten/", "/konto/password/change/", "/konto/email/"):
        assert f'href="{url}"' in html


def test_pages_of_the_guarded_forms_stay_readable(person, person_client):
    """Reading the password and e-mail pages changes nothing; only their forms are guarded."""
    for url in ("/konto/password/change/", "/konto/email/", reverse("portal:security")):
        assert person_client.get(url).status_code == 200


# --- what stays as it was, and the other notices ---------------------------------------------


def test_first_enrolment_needs_no_reauthentication_and_is_notified(
        world, client, django_capture_on_commit_callbacks):
    newcomer = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"], mfa=False)
    client.post("/konto/login/", {"login": newcomer.email, "password": PASSWORD})
    response = client.get(reverse("portal:mfa_enrol"))
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:mfa_enrol"), {"token": totp_now(device)})
    assert response.status_code == 200
    assert 'data-testid="backup-codes"' in response.content.decode()
    message, = mail.outbox
    assert message.to == [newcomer.email]
    assert message.subject.endswith("Neue Authenticator-App an Ihrem Konto")


def test_mfa_reset_by_an_administrator_is_notified(world, django_capture_on_commit_callbacks):
    member = world["people"]["customer_member"]
    with django_capture_on_commit_callbacks(execute=True):
        mfa_reset(actor=world["people"]["provider_admin"], user=member, ip="10.1.2.3",
                  identity_check="Rückruf")
    deliver_queued()
    message, = mail.outbox
    assert message.to == [member.email]
    assert message.subject.endswith("Ihre Zwei-Faktor-Anmeldung wurde zurückgesetzt")
    assert "Ein Administrator Ihres Anbieters hat alle Authenticator-Apps" in message.body
    assert "Wenn Sie das nicht veranlasst haben" in message.body
    assert f"{settings.PORTAL_BASE_URL}/konto/login/" in message.body
    # The administrator's address is not passed on to the person.
    assert "10.1.2.3" not in message.body


def test_password_reset_by_link_is_notified(world, django_capture_on_commit_callbacks):
    member = world["people"]["customer_member"]
    response = reset_password_by_link(Client(), member, NEW_PASSWORD,
                                      django_capture_on_commit_callbacks)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert audited(member, "user.password_reset").get().actor == member
    notice = mail.outbox[-1]
    assert notice.to == [member.email]
    assert notice.subject.endswith("Ihr Passwort wurde neu gesetzt")
    assert "über „Passwort vergessen?“ neu gesetzt" in notice.body


def test_removing_an_address_notifies_the_primary_one(person, person_client,
                                                      django_capture_on_commit_callbacks):
    EmailAddress.objects.create(user=person, email=NEW_EMAIL, verified=True, primary=False)
    reauthenticate(person_client, person)
    with django_capture_on_commit_callbacks(execute=True):
        person_client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_remove": "1"})
    assert not EmailAddress.objects.filter(email=NEW_EMAIL).exists()
    message, = mail.outbox
    assert message.to == [person.email]
    assert f"Die E-Mail-Adresse {NEW_EMAIL} wurde von Ihrem Konto entfernt." in message.body
    assert audited(person, "user.email_removed").get().details == {"email": NEW_EMAIL}


# --- the admin's own password page leads to the portal's ----------------------------------------


def test_admin_password_change_uses_the_portals_guarded_page(world, verified_client):
    """Django's /admin/password_change/ would change the password without re-authentication
    and without a notice; it sends staff to the portal's page instead."""
    admin = world["people"]["provider_staff"]
    client = verified_client(admin)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")
    response = client.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)
    assert client.get("/admin/password_change/done/")["Location"] == reverse("portal:security")
