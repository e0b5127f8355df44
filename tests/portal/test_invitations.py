"""Invitations: in the portal by customer admins, in the admin by staff; accepting them; signup."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Membership, User
from portal.roles import Role
from tests.factories import PASSWORD

INVITE_URL = "/team/einladen/"
ADMIN_ADD_URL = "/admin/portal/user/add/"
NEW_PASSWORD = "Ein-neues-Passwort-2026"


def invite_data(**overrides) -> dict:
    data = {"first_name": "Erika", "last_name": "Mustermann", "email": "erika@kunde-a.example",
            "role": Role.CUSTOMER_MEMBER, "language": "de"}
    data.update(overrides)
    return data


def link_from(message) -> str:
    match = re.search(r"https?://[^/\s]+/einladung/[^/\s]+/", message.body)
    assert match, "the invitation e-mail contains the link"
    return match.group(0)


@pytest.fixture
def admin_client(world, verified_client):
    return verified_client(world["people"]["customer_admin"])


def _invite(client, capture, **overrides):
    with capture(execute=True):
        return client.post(INVITE_URL, invite_data(**overrides))


# --- Inviting in the portal -------------------------------------------------------------------


def test_customer_admin_invites_colleague(world, admin_client,
                                          django_capture_on_commit_callbacks):
    admin = world["people"]["customer_admin"]
    response = admin_client.get(INVITE_URL)
    assert response.status_code == 200
    assert "Person einladen" in response.content.decode()

    response = _invite(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:team")

    user = User.objects.get(email="erika@kunde-a.example")
    assert (user.first_name, user.last_name) == ("Erika", "Mustermann")
    assert user.is_active
    assert not user.has_usable_password()
    assert user.invited_by == admin
    assert not user.is_staff
    membership = Membership.objects.get(user=user)
    assert membership.organisation == world["orgs"]["customer_a"]
    assert membership.role == Role.CUSTOMER_MEMBER
    address = EmailAddress.objects.get(user=user)
    assert address.email == user.email
    assert address.primary and not address.verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erika@kunde-a.example"]
    assert "Einladung zum Kundenportal von Kunde A" in message.subject
    assert "Guten Tag Erika Mustermann," in message.body
    assert "Legen Sie über diesen Link Ihr Passwort fest" in message.body
    link = link_from(message)
    assert link in message.alternatives[0][0]

    event = AuditEvent.objects.get(action="user.invited")
    assert event.actor == admin
    assert event.target_id == str(user.pk)
    assert event.organisation == world["orgs"]["customer_a"]
    assert event.details == {"role": Role.CUSTOMER_MEMBER, "email": "erika@kunde-a.example"}

    # The team page lists the new colleague.
    assert "Mustermann" in admin_client.get(reverse("portal:team")).content.decode()


def test_invitation_language_defaults_to_german(admin_client):
    form = admin_client.get(INVITE_URL).context["form"]
    assert form["language"].value() == "de"


def test_invitation_in_english(admin_client, django_capture_on_commit_callbacks):
    response = _invite(admin_client, django_capture_on_commit_callbacks, language="en")
    assert response.status_code == 302
    user = User.objects.get(email="erika@kunde-a.example")
    assert user.language == "en"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Invitation" in message.subject
    assert "Kunde A" in message.subject
    assert "Einladung" not in message.subject
    assert "Dear Erika Mustermann," in message.body
    assert "password" in message.body
    for german in ("Guten Tag", "Legen Sie", "eingeladen", "Passwort"):
        assert german not in message.body
        assert german not in message.alternatives[0][0]
    assert link_from(message)


def test_invited_customer_admin_gets_the_role(admin_client, django_capture_on_commit_callbacks):
    response = _invite(admin_client, django_capture_on_commit_callbacks,
                       role=Role.CUSTOMER_ADMIN)
    assert response.status_code == 302
    assert Membership.objects.get(user__email="erika@kunde-a.example").role == (
        Role.CUSTOMER_ADMIN)


# --- Accepting --------------------------------------------------------------------------------


def test_accepting_sets_password_verifies_email_and_is_single_use(
        admin_client, django_capture_on_commit_callbacks):
    _invite(admin_client, django_capture_on_commit_callbacks)
    path = urlsplit(link_from(mail.outbox[0])).path
    user = User.objects.get(email="erika@kunde-a.example")
    invited = Client()

    response = invited.get(path)
    assert response.status_code == 200
    assert "Erika" in response.content.decode()

    response = invited.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert AuditEvent.objects.filter(action="user.invitation_accepted",
                                     target_id=str(user.pk)).count() == 1

    # The link is spent: neither showing nor posting works again.
    response = invited.get(path)
    assert response.status_code == 400
    response = invited.post(path, {"password1": "Noch-ein-Passwort-99",
                                   "password2": "Noch-ein-Passwort-99"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # The new password logs in (and the second factor is asked next).
    response = invited.post("/konto/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    response = invited.get(response["Location"])
    assert response["Location"].startswith(reverse("portal:mfa_enrol"))


def test_accepting_rejects_weak_or_mismatched_passwords(
        admin_client, django_capture_on_commit_callbacks):
    _invite(admin_client, django_capture_on_commit_callbacks)
    path = urlsplit(link_from(mail.outbox[0])).path
    invited = Client()
    response = invited.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert response.status_code == 200
    assert "Die beiden Passwörter stimmen nicht überein." in response.content.decode()
    response = invited.post(path, {"password1": "kurz", "password2": "kurz"})
    assert response.status_code == 200
    assert "Dieses Passwort ist zu kurz" in response.content.decode()
    user = User.objects.get(email="erika@kunde-a.example")
    assert not user.has_usable_password()
    assert not EmailAddress.objects.get(user=user).verified
    # The link still works after a failed attempt.
    assert invited.get(path).status_code == 200


def test_tampered_invitation_link_is_refused(admin_client, django_capture_on_commit_callbacks):
    _invite(admin_client, django_capture_on_commit_callbacks)
    path = urlsplit(link_from(mail.outbox[0])).path
    token = path.strip("/").split("/")[1]
    forged = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    assert Client().get(f"/einladung/{forged}/").status_code == 400
    assert Client().get(path).status_code == 200


def test_invitation_link_expires(admin_client, django_capture_on_commit_callbacks, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _invite(admin_client, django_capture_on_commit_callbacks)
        path = urlsplit(link_from(mail.outbox[0])).path
        traveller.shift(timedelta(days=settings.PORTAL_INVITATION_MAX_AGE_DAYS, seconds=-60))
        assert Client().get(path).status_code == 200
        traveller.shift(timedelta(seconds=120))
        response = Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 400
    assert not User.objects.get(email="erika@kunde-a.example").has_usable_password()


def test_invitation_link_of_deactivated_person_is_refused(
        world, admin_client, django_capture_on_commit_callbacks):
    _invite(admin_client, django_capture_on_commit_callbacks)
    path = urlsplit(link_from(mail.outbox[0])).path
    user = User.objects.get(email="erika@kunde-a.example")
    admin_client.post(reverse("portal:team_deactivate", args=[user.pk]))
    user.refresh_from_db()
    assert not user.is_active
    assert Client().get(path).status_code == 400


# --- Refusals ---------------------------------------------------------------------------------


def _nothing_created(before_users: int) -> None:
    assert User.objects.count() == before_users
    assert not AuditEvent.objects.filter(action="user.invited").exists()
    assert mail.outbox == []


def test_invite_of_a_colleague_with_an_account_is_refused(world, admin_client,
                                                         django_capture_on_commit_callbacks):
    # A colleague is visible to the inviter, so saying that the account exists tells nothing
    # new; for an address the inviter may not see see tests/portal/test_enumeration.py.
    before = User.objects.count()
    existing = world["people"]["customer_member"].email
    response = _invite(admin_client, django_capture_on_commit_callbacks,
                       email=existing.upper())
    assert response.status_code == 200
    assert "Für diese E-Mail-Adresse gibt es bereits ein Konto." in response.content.decode()
    _nothing_created(before)


def test_invite_with_role_customer_admin_may_not_give(admin_client,
                                                      django_capture_on_commit_callbacks):
    before = User.objects.count()
    for role in (Role.PROVIDER_ADMIN, Role.PARTNER_SUPPORT, Role.DPO):
        response = _invite(admin_client, django_capture_on_commit_callbacks, role=role)
        assert response.status_code == 200
        assert "Bitte eine gültige Auswahl treffen." in response.content.decode()
    _nothing_created(before)


def test_invite_without_names_is_refused(admin_client, django_capture_on_commit_callbacks):
    before = User.objects.count()
    response = _invite(admin_client, django_capture_on_commit_callbacks,
                       first_name="", last_name="  ")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["first_name"] == ["Dieses Feld ist zwingend erforderlich."]
    assert form.errors["last_name"] == ["Dieses Feld ist zwingend erforderlich."]
    _nothing_created(before)


def test_invite_with_invalid_email_is_refused(admin_client, django_capture_on_commit_callbacks):
    before = User.objects.count()
    response = _invite(admin_client, django_capture_on_commit_callbacks, email="keine-adresse")
    assert response.status_code == 200
    assert "Bitte gültige E-Mail-Adresse eingeben." in response.content.decode()
    _nothing_created(before)


def test_customer_member_cannot_invite(world, verified_client,
                                       django_capture_on_commit_callbacks):
    before = User.objects.count()
    client = verified_client(world["people"]["customer_member"])
    assert client.get(INVITE_URL).status_code == 403
    response = _invite(client, django_capture_on_commit_callbacks)
    assert response.status_code == 403
    _nothing_created(before)


# --- Inviting through the staff admin ---------------------------------------------------------


def admin_invite_data(organisation, **overrides) -> dict:
    data = {"email": "chefin@kunde.example", "first_name": "Clara", "last_name": "Chefin",
            "language": "de", "organisation": organisation.pk, "role": Role.CUSTOMER_ADMIN}
    data.update(overrides)
    return data


def test_partner_support_invites_customer_admin_of_own_customer(
        world, verified_client, django_capture_on_commit_callbacks):
    support = world["people"]["partner_support"]
    client = verified_client(support)
    assert client.get(ADMIN_ADD_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_ADD_URL, admin_invite_data(world["orgs"]["customer_a"]))
    assert response.status_code == 302
    user = User.objects.get(email="chefin@kunde.example")
    membership = Membership.objects.get(user=user)
    assert membership.organisation == world["orgs"]["customer_a"]
    assert membership.role == Role.CUSTOMER_ADMIN
    assert user.invited_by == support
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["chefin@kunde.example"]
    assert link_from(mail.outbox[0])
    invited = AuditEvent.objects.get(action="user.invited")
    assert invited.actor == support
    assert invited.target_id == str(user.pk)
    assert AuditEvent.objects.filter(action="admin.added", target_id=str(user.pk)).exists()


def test_partner_support_cannot_invite_for_other_partners_customer(
        world, verified_client, django_capture_on_commit_callbacks):
    before = User.objects.count()
    client = verified_client(world["people"]["partner_support"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_ADD_URL, admin_invite_data(world["orgs"]["customer_b"]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organisation"]
    _nothing_created(before)


def test_partner_support_cannot_invite_staff_roles(world, verified_client,
                                                   django_capture_on_commit_callbacks):
    before = User.objects.count()
    client = verified_client(world["people"]["partner_support"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_ADD_URL, admin_invite_data(
            world["orgs"]["partner_a"], role=Role.PARTNER_SUPPORT))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"]
    _nothing_created(before)


def test_admin_invite_role_must_match_organisation_kind(world, verified_client,
                                                        django_capture_on_commit_callbacks):
    before = User.objects.count()
    client = verified_client(world["people"]["provider_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_ADD_URL, admin_invite_data(
            world["orgs"]["customer_a"], role=Role.PROVIDER_STAFF))
    assert response.status_code == 200
    assert "passt nicht zu einer Organisation der Art" in response.content.decode()
    _nothing_created(before)


def test_provider_admin_invites_partner_support_with_staff_access(
        world, verified_client, django_capture_on_commit_callbacks):
    client = verified_client(world["people"]["provider_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_ADD_URL, admin_invite_data(
            world["orgs"]["partner_b"], email="neu@partner-b.example",
            role=Role.PARTNER_SUPPORT, language="en"))
    assert response.status_code == 302
    user = User.objects.get(email="neu@partner-b.example")
    assert user.is_staff
    assert user.language == "en"
    assert list(user.groups.values_list("name", flat=True)) == ["role:partner_support"]
    assert AuditEvent.objects.filter(action="user.invited", target_id=str(user.pk)).count() == 1
    assert len(mail.outbox) == 1


# --- Open signup ------------------------------------------------------------------------------


def test_open_signup_is_closed_by_default(db, client):
    response = client.get("/konto/signup/")
    html = response.content.decode()
    assert "Registrierung geschlossen" in html
    assert 'name="password1"' not in html
    before = User.objects.count()
    client.post("/konto/signup/", {"email": "fremd@example.com", "password1": PASSWORD,
                                   "password2": PASSWORD, "first_name": "F",
                                   "last_name": "Remd"})
    assert User.objects.count() == before


@override_settings(PORTAL_OPEN_SIGNUP=True)
def test_open_signup_when_switched_on(db, client):
    response = client.get("/konto/signup/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Registrierung geschlossen" not in html
    assert 'name="password1"' in html
    assert 'name="first_name"' in html and 'name="last_name"' in html

    response = client.post("/konto/signup/", {
        "email": "neu@example.com", "password1": PASSWORD, "password2": PASSWORD,
        "first_name": "Nora", "last_name": "Neu"})
    assert response.status_code == 302
    user = User.objects.get(email="neu@example.com")
    assert (user.first_name, user.last_name) == ("Nora", "Neu")
    assert not EmailAddress.objects.get(user=user).verified
