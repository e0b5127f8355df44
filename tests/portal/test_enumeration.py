"""No enumeration: whether an address has an account, or an id belongs to an object of another
tenant, is not told to somebody who may not see that person or object.

(a) Inviting an address that has an account the inviter may not see answers exactly like a new
invitation; nothing is created or changed, the account's holder is told by e-mail, the attempt
is audited. (b) The admin's "view on site" shortcut answers 404 alike for foreign and missing ids.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from devices.models import Device
from portal.models import AuditEvent, Membership, User
from portal.roles import Role
from tests.factories import DeviceFactory

INVITE_URL = "/team/einladen/"
ADMIN_ADD_URL = "/admin/portal/user/add/"
FREE = "frei@example.com"
NAMES = {"first_name": "Erika", "last_name": "Mustermann"}
SENT = "Erika Mustermann wurde eingeladen und erhält eine E-Mail."
ALREADY = "Für diese E-Mail-Adresse gibt es bereits ein Konto."


def _answer(client, response, inviter: User) -> dict:
    """Everything the inviter gets back: status, where it leads, the page, the messages and the
    e-mails sent to the inviter (timing left aside)."""
    answer = {
        "status": response.status_code,
        "location": response.get("Location"),
        "content": response.content,
        "messages": [(m.level, str(m)) for m in get_messages(response.wsgi_request)],
        "mail_to_inviter": [m.subject for m in mail.outbox if inviter.email in m.to],
    }
    if answer["location"]:
        client.get(answer["location"])  # shows (and so uses up) the messages, as a browser
    return answer


def _snapshot(user: User) -> tuple:
    user.refresh_from_db()
    membership = Membership.objects.get(user=user)
    return (user.first_name, user.last_name, user.password, user.is_active, user.invited_by_id,
            user.language, membership.organisation_id, membership.role,
            sorted(EmailAddress.objects.filter(user=user).values_list("email", "verified")))


def _post(client, capture, url: str, data: dict):
    with capture(execute=True):
        return client.post(url, data)


# --- (a) Invitations in the portal -------------------------------------------------------------


def _portal_invite(email: str) -> dict:
    return {**NAMES, "email": email, "role": Role.CUSTOMER_MEMBER, "language": "de"}


@pytest.mark.parametrize("owner", ["customer_admin_b", "partner_support", "provider_staff",
                                   "dpo", "customer_admin_direct"])
def test_portal_invite_answers_alike_for_free_and_taken_addresses(
        world, verified_client, django_capture_on_commit_callbacks, owner):
    inviter = world["people"]["customer_admin"]
    existing = world["people"][owner]
    client = verified_client(inviter)
    free = _answer(client, _post(client, django_capture_on_commit_callbacks, INVITE_URL,
                         _portal_invite(FREE)), inviter)
    assert free["status"] == 302 and free["messages"][0][1] == SENT
    before, users, sent = _snapshot(existing), User.objects.count(), len(mail.outbox)

    taken = _answer(client, _post(client, django_capture_on_commit_callbacks, INVITE_URL,
                          _portal_invite(existing.email.upper())), inviter)
    assert taken == free
    # Nothing was created or changed; the account's holder got one e-mail, the inviter none.
    assert User.objects.count() == users
    assert _snapshot(existing) == before
    [notice] = mail.outbox[sent:]
    assert notice.to == [existing.email]
    assert "Einladungsversuch von Kunde A für Ihr bestehendes Konto" in notice.subject
    assert f"Guten Tag {existing.get_full_name()}," in notice.body
    assert "jemand von Kunde A hat versucht" in notice.body
    assert "Konten sind persönlich" in notice.body
    assert "/einladung/" not in notice.body and inviter.get_full_name() not in notice.body
    assert "Konten sind persönlich" in notice.alternatives[0][0]
    event = AuditEvent.objects.get(action="user.invitation_to_existing_account")
    assert (event.actor, event.target_id, event.organisation) == (
        inviter, str(existing.pk), world["orgs"]["customer_a"])
    assert event.details == {"role": Role.CUSTOMER_MEMBER, "email": existing.email}


def test_portal_invite_of_a_visible_person_says_so(world, verified_client,
                                                   django_capture_on_commit_callbacks):
    client = verified_client(world["people"]["customer_admin"])
    response = _post(client, django_capture_on_commit_callbacks, INVITE_URL,
                     _portal_invite(world["people"]["customer_member"].email))
    assert response.status_code == 200
    assert ALREADY in response.content.decode()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="user.invitation_to_existing_account").exists()


def test_notice_is_in_the_language_of_the_account(world, verified_client,
                                                  django_capture_on_commit_callbacks):
    """Needs the English catalog entries of the new e-mail (the lead adds them)."""
    existing = world["people"]["customer_admin_b"]
    User.objects.filter(pk=existing.pk).update(language="en")
    client = verified_client(world["people"]["customer_admin"])
    _post(client, django_capture_on_commit_callbacks, INVITE_URL,
          _portal_invite(existing.email))
    [notice] = mail.outbox
    assert "Kunde A" in notice.subject
    for german in ("Einladungsversuch", "Guten Tag", "Konten sind persönlich"):
        assert german not in notice.subject + notice.body


def test_an_address_of_another_account_counts_as_taken(world, verified_client,
                                                       django_capture_on_commit_callbacks):
    existing = world["people"]["customer_admin_b"]
    EmailAddress.objects.create(user=existing, email="zweit@kunde-b.example", verified=True)
    client = verified_client(world["people"]["customer_admin"])
    response = _post(client, django_capture_on_commit_callbacks, INVITE_URL,
                     _portal_invite("zweit@kunde-b.example"))
    assert response.status_code == 302
    assert not User.objects.filter(email="zweit@kunde-b.example").exists()
    [notice] = mail.outbox
    assert notice.to == ["zweit@kunde-b.example"]


# --- (a) Invitations in the admin, per staff role ----------------------------------------------


def _admin_invite(world, email: str, organisation: str, role: str) -> dict:
    return {**NAMES, "email": email, "language": "de",
            "organisation": world["orgs"][organisation].pk, "role": role}


#: inviter: (organisation, role to give, owner of an address the inviter may not see or None)
ADMIN_INVITERS = {
    "partner_support": ("customer_a", Role.CUSTOMER_ADMIN, "provider_staff"),
    "partner_support_b": ("customer_b", Role.CUSTOMER_ADMIN, "customer_admin"),
    "provider_staff": ("customer_a", Role.CUSTOMER_MEMBER, None),
    "provider_admin": ("customer_a", Role.CUSTOMER_MEMBER, None),
}


@pytest.mark.parametrize("inviter_key", [key for key, spec in ADMIN_INVITERS.items() if spec[2]])
def test_admin_invite_answers_alike_for_free_and_taken_addresses(
        world, verified_client, django_capture_on_commit_callbacks, inviter_key):
    organisation, role, owner = ADMIN_INVITERS[inviter_key]
    inviter, existing = world["people"][inviter_key], world["people"][owner]
    client = verified_client(inviter)
    free = _answer(client, _post(client, django_capture_on_commit_callbacks, ADMIN_ADD_URL,
                         _admin_invite(world, FREE, organisation, role)), inviter)
    assert free["status"] == 302 and free["location"] == reverse("admin:portal_user_changelist")
    assert free["messages"][0][1] == SENT
    assert User.objects.filter(email=FREE).exists()
    before, users, sent = _snapshot(existing), User.objects.count(), len(mail.outbox)

    taken = _answer(client, _post(client, django_capture_on_commit_callbacks, ADMIN_ADD_URL,
                          _admin_invite(world, existing.email, organisation, role)), inviter)
    assert taken == free
    assert User.objects.count() == users
    assert _snapshot(existing) == before
    [notice] = mail.outbox[sent:]
    assert notice.to == [existing.email] and "bestehendes Konto" in notice.subject
    assert AuditEvent.objects.filter(action="user.invitation_to_existing_account",
                                     actor=inviter, target_id=str(existing.pk)).count() == 1


@pytest.mark.parametrize("inviter_key", ["provider_staff", "provider_admin", "partner_support"])
def test_admin_invite_of_a_visible_person_says_so(world, verified_client,
                                                  django_capture_on_commit_callbacks,
                                                  inviter_key):
    organisation, role, _owner = ADMIN_INVITERS[inviter_key]
    existing = world["people"]["customer_member"]  # Kunde A: visible to all three
    before = _snapshot(existing)
    client = verified_client(world["people"][inviter_key])
    response = _post(client, django_capture_on_commit_callbacks, ADMIN_ADD_URL,
                     _admin_invite(world, existing.email, organisation, role))
    assert response.status_code == 302 and response["Location"] == ADMIN_ADD_URL
    assert any(ALREADY in str(m) for m in get_messages(response.wsgi_request))
    assert _snapshot(existing) == before and mail.outbox == []


@pytest.mark.parametrize("inviter_key", ["dpo", "customer_admin", "customer_member"])
def test_roles_without_admin_invitations_get_one_answer(world, verified_client,
                                                        django_capture_on_commit_callbacks,
                                                        inviter_key):
    inviter = world["people"][inviter_key]
    client = verified_client(inviter)
    answers = [_answer(client, _post(client, django_capture_on_commit_callbacks, ADMIN_ADD_URL,
                                     _admin_invite(world, email, "customer_a",
                                                   Role.CUSTOMER_MEMBER)),
                       inviter)
               for email in (FREE, world["people"]["customer_admin_b"].email)]
    assert answers[0] == answers[1] and answers[0]["status"] in (302, 403)
    assert mail.outbox == [] and not User.objects.filter(email=FREE).exists()


# --- (b) The admin's "view on site" shortcut ---------------------------------------------------


def _shortcut(model, object_id) -> str:
    content_type = ContentType.objects.get_for_model(model)
    return reverse("admin:view_on_site", args=[content_type.pk, object_id])


#: staff role: the customers whose devices it may open
SEES = {"provider_admin": {"customer_a", "customer_b"},
        "provider_staff": {"customer_a", "customer_b"}, "dpo": {"customer_a", "customer_b"},
        "partner_support": {"customer_a"}, "partner_support_b": {"customer_b"}}


@pytest.mark.parametrize("person", list(SEES))
def test_view_on_site_answers_404_alike_for_foreign_and_missing_ids(world, verified_client,
                                                                   person):
    devices = {key: DeviceFactory(customer=world["orgs"][key])
               for key in ("customer_a", "customer_b")}
    missing = max(Device.objects.values_list("pk", flat=True)) + 1000
    client = verified_client(world["people"][person])
    not_found = client.get(_shortcut(Device, missing))
    assert not_found.status_code == 404
    for key, device in devices.items():
        response = client.get(_shortcut(Device, device.pk))
        if key in SEES[person]:
            assert response.status_code == 302
            assert response["Location"].endswith(device.get_absolute_url())
        else:
            assert response.status_code == 404
            assert response.content == not_found.content
            assert "Location" not in response


@pytest.mark.parametrize("person", list(SEES))
def test_view_on_site_for_other_objects_and_bad_ids_is_the_same_404(world, verified_client,
                                                                    person):
    client = verified_client(world["people"][person])
    not_found = client.get(_shortcut(Device, 10**9))
    user_type = ContentType.objects.get_for_model(User).pk
    for url in (_shortcut(User, world["people"]["customer_admin_b"].pk),  # no page on the site
                _shortcut(User, 10**9), _shortcut(Device, "keine-zahl"),
                reverse("admin:view_on_site", args=[10**6, 1]),
                reverse("admin:view_on_site", args=["x", 1]),
                reverse("admin:view_on_site", args=[user_type, "1/2"])):
        response = client.get(url)
        assert (response.status_code, response.content) == (404, not_found.content), url


@pytest.mark.parametrize("person", ["customer_admin", "customer_member"])
def test_view_on_site_is_closed_to_customers(world, verified_client, person):
    device = DeviceFactory(customer=world["orgs"]["customer_a"])
    response = verified_client(world["people"][person]).get(_shortcut(Device, device.pk))
    assert response.status_code in (302, 403)
    assert device.get_absolute_url() not in response.get("Location", "")
