"""The order of roles (portal/roles.py): nobody acts on a person above their own role or hands
out a role above it, and the last active provider admin stays.

The matrix runs every role against every higher role, for deactivation, reactivation, MFA reset
and role change, in the services, on the portal's team page and in the admin (actions and change
forms); then the same rank and lower ranks where the role may manage people at all.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Membership, User
from portal.roles import INVITABLE_ROLES, ROLE_KIND, ROLE_RANK, Role, outranks
from portal.selectors import invitable_role_choices
from portal.services.accounts import (
    membership_change_role,
    user_deactivate,
    user_invite,
    user_reactivate,
    user_update,
)
from portal.services.mfa import mfa_reset
from tests.factories import make_person

#: The order written out here, lowest first (not recomputed with the rule under test).
ORDER = [Role.CUSTOMER_MEMBER, Role.CUSTOMER_ADMIN, Role.PARTNER_SUPPORT, Role.PROVIDER_STAFF,
         Role.DPO, Role.PROVIDER_ADMIN]
#: Every (actor role, target role) where the target ranks above the actor: 15 pairs.
HIGHER = [(actor, target)
          for position, actor in enumerate(ORDER) for target in ORDER[position + 1:]]
RANK_MESSAGE = "steht über Ihrer eigenen Rolle"
LAST_ADMIN_MESSAGE = "die letzte aktive Person mit der Rolle „Administrator (Anbieter)“"
USERS = "admin:portal_user_changelist"


def _id(pair) -> str:
    return f"{pair[0]}-on-{pair[1]}"


def _person(world, role: str) -> User:
    # The world fixture has one person per role, keyed by the role's value.
    return world["people"][role]


def _membership(user: User) -> Membership:
    return Membership.objects.select_related("organisation", "user").get(user=user)


def _other_role(role: str) -> str:
    """Another role for the same kind of organisation (the role itself if there is none)."""
    return next((other for other in Role if other != role and ROLE_KIND[other] == ROLE_KIND[role]),
                role)


# --- The order itself -------------------------------------------------------------------------


def test_the_order_of_roles():
    assert len(HIGHER) == 15
    assert sorted(Role, key=lambda role: ROLE_RANK[role]) == ORDER
    assert all(outranks(target, actor) and not outranks(actor, target) for actor, target in HIGHER)
    assert set(ROLE_RANK) == set(Role)
    assert outranks(Role.DPO, Role.PROVIDER_STAFF)  # GDPR Art. 38(3): independent of staff
    assert outranks(Role.PROVIDER_ADMIN, Role.DPO)
    assert not outranks(Role.CUSTOMER_ADMIN, Role.CUSTOMER_ADMIN)
    assert outranks(Role.CUSTOMER_MEMBER, None)  # no membership ranks lowest


@pytest.mark.parametrize("role", list(Role))
def test_no_role_hands_out_a_role_above_its_own(db, role):
    assert not [given for given in INVITABLE_ROLES[role] if outranks(given, role)]


@pytest.mark.parametrize(("actor_role", "role"), HIGHER, ids=map(_id, HIGHER))
def test_nobody_invites_with_a_role_above_their_own(world, actor_role, role):
    actor = _person(world, actor_role)
    organisation = _membership(actor).organisation
    assert role not in dict(invitable_role_choices(actor))
    with pytest.raises(PermissionDenied):
        user_invite(actor=actor, organisation=organisation, email="neu@example.com",
                    first_name="Nora", last_name="Neu", role=role)
    assert not User.objects.filter(email="neu@example.com").exists()


# --- Services: every role against every higher role ------------------------------------------


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_service_refuses_to_deactivate_a_higher_role(world, actor_role, target_role):
    target = _person(world, target_role)
    with pytest.raises(PermissionDenied):
        user_deactivate(actor=_person(world, actor_role), user=target)
    target.refresh_from_db()
    assert target.is_active


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_service_refuses_to_reactivate_a_higher_role(world, actor_role, target_role):
    target = _person(world, target_role)
    User.objects.filter(pk=target.pk).update(is_active=False)
    target.refresh_from_db()
    with pytest.raises(PermissionDenied):
        user_reactivate(actor=_person(world, actor_role), user=target)
    target.refresh_from_db()
    assert not target.is_active


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_service_refuses_to_reset_the_mfa_of_a_higher_role(world, actor_role, target_role):
    target = _person(world, target_role)
    with pytest.raises(PermissionDenied):
        mfa_reset(actor=_person(world, actor_role), user=target, identity_check="Rückruf")
    assert TOTPDevice.objects.filter(user=target, confirmed=True).exists()


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_service_refuses_to_change_the_role_of_a_higher_role(world, actor_role, target_role):
    target = _person(world, target_role)
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=_person(world, actor_role), membership=_membership(target),
                               role=_other_role(target_role))
    assert _membership(target).role == target_role


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_service_refuses_to_rename_a_higher_role(world, actor_role, target_role):
    target = _person(world, target_role)
    with pytest.raises(PermissionDenied):
        user_update(actor=_person(world, actor_role), user=target, first_name="Falsch",
                    last_name="Name")
    target.refresh_from_db()
    assert target.first_name != "Falsch"


@pytest.mark.parametrize("target_role", [Role.PROVIDER_ADMIN, Role.DPO])
def test_provider_staff_is_told_the_role_order(world, target_role):
    """The defect from the red-team run: staff deactivated the admin and the DPO."""
    staff, target = _person(world, Role.PROVIDER_STAFF), _person(world, target_role)
    with pytest.raises(PermissionDenied) as refused:
        user_deactivate(actor=staff, user=target)
    assert RANK_MESSAGE in str(refused.value)
    assert str(Role(target_role).label) in str(refused.value)
    with pytest.raises(PermissionDenied) as refused:
        membership_change_role(actor=staff, membership=_membership(target),
                               role=Role.PROVIDER_STAFF)
    assert RANK_MESSAGE in str(refused.value)


# --- Services: the same rank and lower ranks ---------------------------------------------------

#: (actor role, target: a role of the world or "second <role>" for a colleague of the actor)
MANAGED = [
    (Role.PROVIDER_ADMIN, "second provider_admin"), (Role.PROVIDER_ADMIN, Role.DPO),
    (Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF), (Role.PROVIDER_ADMIN, Role.PARTNER_SUPPORT),
    (Role.PROVIDER_ADMIN, Role.CUSTOMER_ADMIN), (Role.PROVIDER_ADMIN, Role.CUSTOMER_MEMBER),
    (Role.PROVIDER_STAFF, "second provider_staff"), (Role.PROVIDER_STAFF, Role.PARTNER_SUPPORT),
    (Role.PROVIDER_STAFF, Role.CUSTOMER_ADMIN), (Role.PROVIDER_STAFF, Role.CUSTOMER_MEMBER),
    (Role.PARTNER_SUPPORT, "second partner_support"),
    (Role.PARTNER_SUPPORT, Role.CUSTOMER_ADMIN), (Role.PARTNER_SUPPORT, Role.CUSTOMER_MEMBER),
    (Role.CUSTOMER_ADMIN, "second customer_admin"),
    (Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER),
]


def _target(world, actor: User, target: str) -> User:
    if target.startswith("second "):
        role = target.removeprefix("second ")
        return make_person(role, _membership(actor).organisation)
    return _person(world, target)


@pytest.mark.parametrize(("actor_role", "target"), MANAGED, ids=map(_id, MANAGED))
def test_service_allows_the_same_and_lower_ranks(world, actor_role, target):
    actor = _person(world, actor_role)
    person = _target(world, actor, target)
    assert not outranks(_membership(person).role, actor_role)
    user_update(actor=actor, user=person, first_name="Neuer", last_name="Name")
    user_deactivate(actor=actor, user=person)
    person.refresh_from_db()
    assert not person.is_active
    user_reactivate(actor=actor, user=person)
    person.refresh_from_db()
    assert person.is_active and person.first_name == "Neuer"


@pytest.mark.parametrize("target", ["second provider_admin", *[role for role in Role
                                                                if role != Role.PROVIDER_ADMIN]])
def test_provider_admin_resets_mfa_of_the_same_and_lower_ranks(world, target):
    admin = _person(world, Role.PROVIDER_ADMIN)
    person = _target(world, admin, target)
    assert mfa_reset(actor=admin, user=person, identity_check="Rückruf") > 0
    assert not TOTPDevice.objects.filter(user=person).exists()


#: (actor role, target, new role) for role changes that the actor may make.
ROLE_CHANGES = [
    (Role.PROVIDER_ADMIN, Role.DPO, Role.PROVIDER_STAFF),
    (Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF, Role.DPO),
    (Role.PROVIDER_ADMIN, "second provider_admin", Role.PROVIDER_STAFF),
    (Role.PROVIDER_STAFF, Role.CUSTOMER_MEMBER, Role.CUSTOMER_ADMIN),
    (Role.PROVIDER_STAFF, Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER),
    (Role.PARTNER_SUPPORT, Role.CUSTOMER_MEMBER, Role.CUSTOMER_ADMIN),
    (Role.CUSTOMER_ADMIN, "second customer_admin", Role.CUSTOMER_MEMBER),
    (Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.CUSTOMER_ADMIN),
]


@pytest.mark.parametrize(("actor_role", "target", "role"), ROLE_CHANGES,
                         ids=[f"{a}-on-{t}-to-{r}" for a, t, r in ROLE_CHANGES])
def test_service_allows_role_changes_up_to_the_own_rank(world, actor_role, target, role):
    actor = _person(world, actor_role)
    person = _target(world, actor, target)
    membership_change_role(actor=actor, membership=_membership(person), role=role)
    assert _membership(person).role == role


# --- The last active provider admin ------------------------------------------------------------


@pytest.fixture
def superuser(world):
    """A superuser (ranks as a provider admin) whose own membership is provider staff."""
    return make_person(Role.PROVIDER_STAFF, world["orgs"]["provider"], is_superuser=True)


def test_superuser_ranks_as_provider_admin(world, superuser):
    dpo = _person(world, Role.DPO)
    user_deactivate(actor=superuser, user=dpo)
    dpo.refresh_from_db()
    assert not dpo.is_active


def test_last_provider_admin_is_never_deactivated(world, superuser):
    admin = _person(world, Role.PROVIDER_ADMIN)
    with pytest.raises(ValidationError) as refused:
        user_deactivate(actor=superuser, user=admin)
    assert LAST_ADMIN_MESSAGE in " ".join(refused.value.messages)
    with pytest.raises(ValidationError):
        user_deactivate(actor=admin, user=admin)  # nor by themselves
    admin.refresh_from_db()
    assert admin.is_active


def test_last_provider_admin_never_gets_another_role(world, superuser):
    admin = _person(world, Role.PROVIDER_ADMIN)
    with pytest.raises(ValidationError) as refused:
        membership_change_role(actor=superuser, membership=_membership(admin),
                               role=Role.PROVIDER_STAFF)
    assert LAST_ADMIN_MESSAGE in " ".join(refused.value.messages)
    with pytest.raises(ValidationError):
        membership_change_role(actor=admin, membership=_membership(admin),
                               role=Role.PROVIDER_STAFF)
    assert _membership(admin).role == Role.PROVIDER_ADMIN


def test_a_second_active_admin_allows_it_and_an_inactive_one_does_not(world, superuser):
    admin = _person(world, Role.PROVIDER_ADMIN)
    second = make_person(Role.PROVIDER_ADMIN, world["orgs"]["provider"])
    user_deactivate(actor=admin, user=second)  # admin stays: allowed
    with pytest.raises(ValidationError):  # the inactive second admin does not count
        user_deactivate(actor=superuser, user=admin)
    user_reactivate(actor=admin, user=second)
    membership_change_role(actor=superuser, membership=_membership(admin),
                           role=Role.PROVIDER_STAFF)
    assert _membership(admin).role == Role.PROVIDER_STAFF
    with pytest.raises(ValidationError):  # now the second admin is the last one
        user_deactivate(actor=superuser, user=second)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks need PostgreSQL (SQLite serialises writers anyway)")
def test_two_admins_deactivating_each_other_at_once_leave_one(world):
    first = _person(world, Role.PROVIDER_ADMIN)
    second = make_person(Role.PROVIDER_ADMIN, world["orgs"]["provider"])
    started, outcome = threading.Event(), {}

    def first_deactivates_second():
        try:
            with transaction.atomic():
                user_deactivate(actor=first, user=second)
                started.set()
                time.sleep(0.5)  # the other transaction starts while this one is open
        finally:
            started.set()
            connection.close()

    def second_deactivates_first():
        started.wait(5)
        try:
            user_deactivate(actor=User.objects.get(pk=second.pk), user=first)
            outcome["second"] = "deactivated"
        except ValidationError:
            outcome["second"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=first_deactivates_second),
               threading.Thread(target=second_deactivates_first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcome == {"second": "refused"}
    assert list(User.objects.filter(pk__in=[first.pk, second.pk], is_active=True)
                .values_list("pk", flat=True)) == [first.pk]


# --- The portal's team page --------------------------------------------------------------------


@pytest.mark.parametrize(("actor_role", "target_role"), HIGHER, ids=map(_id, HIGHER))
def test_team_page_refuses_higher_roles(world, verified_client, actor_role, target_role):
    client = verified_client(_person(world, actor_role))
    target = _person(world, target_role)
    for name in ("portal:team_deactivate", "portal:team_reactivate"):
        url = reverse(name, args=[target.pk])
        assert client.get(url).status_code in (403, 404)
        assert client.post(url).status_code in (403, 404)
    target.refresh_from_db()
    assert target.is_active


def test_team_page_offers_and_does_it_for_the_same_and_lower_ranks(world, verified_client):
    admin = _person(world, Role.CUSTOMER_ADMIN)
    colleague = make_person(Role.CUSTOMER_ADMIN, world["orgs"]["customer_a"])
    member = _person(world, Role.CUSTOMER_MEMBER)
    client = verified_client(admin)
    page = client.get(reverse("portal:team"))
    offered = {row.user_id for row in page.context["members"] if row.may_manage}
    assert offered == {colleague.pk, member.pk}  # not the own account
    assert reverse("portal:team_deactivate", args=[admin.pk]) not in page.content.decode()
    for person in (colleague, member):
        response = client.post(reverse("portal:team_deactivate", args=[person.pk]))
        assert response.status_code == 302
        person.refresh_from_db()
        assert not person.is_active


# --- The admin: actions ------------------------------------------------------------------------

ADMIN_ACTIONS = ("deactivate", "reactivate", "reset_mfa")
STAFF_HIGHER = [(actor, target) for actor, target in HIGHER
                if actor in (Role.PROVIDER_STAFF, Role.DPO, Role.PARTNER_SUPPORT)]


def _state(user: User) -> tuple:
    user.refresh_from_db()
    return user.is_active, TOTPDevice.objects.filter(user=user).count()


def _run_action(client, action: str, *people: User):
    return client.post(reverse(USERS), {"action": action, "confirmed": "yes",
                                        "identity_check": "Rückruf",  # asked by reset_mfa
                                        "_selected_action": [person.pk for person in people]})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
@pytest.mark.parametrize(("actor_role", "target_role"), STAFF_HIGHER, ids=map(_id, STAFF_HIGHER))
def test_admin_actions_refuse_higher_roles(world, verified_client, actor_role, target_role,
                                          action):
    target = _person(world, target_role)
    if action == "reactivate":
        User.objects.filter(pk=target.pk).update(is_active=False)
    before = _state(target)
    response = _run_action(verified_client(_person(world, actor_role)), action, target)
    assert response.status_code in (200, 302, 403)
    assert _state(target) == before
    if action != "reset_mfa" and actor_role == Role.PROVIDER_STAFF:
        # Staff see the admin and the DPO in the list: the refusal names the row and the reason.
        assert any(str(target) in text and RANK_MESSAGE in text for text in _messages(response))


def test_admin_confirmation_page_lists_refused_rows_apart(world, verified_client):
    staff = _person(world, Role.PROVIDER_STAFF)
    admin, dpo = _person(world, Role.PROVIDER_ADMIN), _person(world, Role.DPO)
    support = _person(world, Role.PARTNER_SUPPORT)
    client = verified_client(staff)
    page = client.post(reverse(USERS), {"action": "deactivate",
                                        "_selected_action": [admin.pk, dpo.pk, support.pk]})
    assert page.status_code == 200
    assert page.context["objects"] == [support]
    assert {obj for obj, _reason in page.context["refused"]} == {admin, dpo}
    assert all(RANK_MESSAGE in reason for _obj, reason in page.context["refused"])
    body = page.content.decode()
    assert f'value="{support.pk}"' in body
    assert f'value="{admin.pk}"' not in body and f'value="{dpo.pk}"' not in body

    # A crafted confirmation with every row: the service refuses each higher row by itself.
    response = _run_action(client, "deactivate", admin, dpo, support)
    texts = _messages(response)
    assert "1 Person deaktiviert." in texts
    for person in (admin, dpo):
        assert any(text.startswith(f"{person}: ") and RANK_MESSAGE in text for text in texts)
        person.refresh_from_db()
        assert person.is_active
    support.refresh_from_db()
    assert not support.is_active


def test_admin_actions_allow_the_same_and_lower_ranks(world, verified_client):
    staff = _person(world, Role.PROVIDER_STAFF)
    colleague = make_person(Role.PROVIDER_STAFF, world["orgs"]["provider"])
    client = verified_client(staff)
    _run_action(client, "deactivate", colleague, _person(world, Role.CUSTOMER_ADMIN))
    assert not _state(colleague)[0] and not _state(_person(world, Role.CUSTOMER_ADMIN))[0]
    admin = _person(world, Role.PROVIDER_ADMIN)
    second_admin = make_person(Role.PROVIDER_ADMIN, world["orgs"]["provider"])
    response = _run_action(verified_client(admin), "reset_mfa", second_admin,
                           _person(world, Role.DPO))
    assert "Zwei-Faktor-Anmeldung für 2 Personen zurückgesetzt." in _messages(response)
    assert _state(second_admin)[1] == 0


def test_admin_action_keeps_the_last_provider_admin(world, verified_client, superuser):
    admin = _person(world, Role.PROVIDER_ADMIN)
    response = _run_action(verified_client(superuser), "deactivate", admin)
    assert any(text.startswith(f"{admin}: ") and LAST_ADMIN_MESSAGE in text
               for text in _messages(response))
    assert _state(admin)[0]


# --- The admin: change forms -------------------------------------------------------------------


def _person_form(person: User, **names) -> dict:
    """The admin's change form of a person, with its (read-only) membership inline."""
    membership = _membership(person)
    return {"first_name": person.first_name, "last_name": person.last_name, "language": "de",
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "0",
            "memberships-0-id": str(membership.pk), "memberships-0-user": str(person.pk),
            **names}

@pytest.mark.parametrize(("actor_role", "target_role"), STAFF_HIGHER, ids=map(_id, STAFF_HIGHER))
def test_admin_role_form_refuses_higher_roles(world, verified_client, actor_role, target_role):
    target = _person(world, target_role)
    membership = _membership(target)
    url = reverse("admin:portal_membership_change", args=[membership.pk])
    client = verified_client(_person(world, actor_role))
    page = client.get(url)
    if page.status_code == 200:  # visible to the actor: shown read-only, with the reason
        assert not page.context["has_change_permission"]
        assert any(RANK_MESSAGE in text for text in _messages(page))
    response = client.post(url, {"role": _other_role(target_role)})
    assert response.status_code in (302, 403)
    assert _membership(target).role == target_role


@pytest.mark.parametrize(("actor_role", "target_role"), STAFF_HIGHER, ids=map(_id, STAFF_HIGHER))
def test_admin_person_form_refuses_higher_roles(world, verified_client, actor_role, target_role):
    target = _person(world, target_role)
    url = reverse("admin:portal_user_change", args=[target.pk])
    client = verified_client(_person(world, actor_role))
    page = client.get(url)
    if page.status_code == 200:
        assert not page.context["has_change_permission"]
    response = client.post(url, _person_form(target, first_name="Falsch"))
    assert response.status_code in (302, 403)
    target.refresh_from_db()
    assert target.first_name != "Falsch"


def test_admin_forms_allow_the_same_and_lower_ranks(world, verified_client):
    admin = _person(world, Role.PROVIDER_ADMIN)
    dpo = _person(world, Role.DPO)
    client = verified_client(admin)
    url = reverse("admin:portal_membership_change", args=[_membership(dpo).pk])
    assert client.get(url).context["has_change_permission"]
    assert client.post(url, {"role": Role.PROVIDER_STAFF}).status_code == 302
    assert _membership(dpo).role == Role.PROVIDER_STAFF
    staff_client = verified_client(_person(world, Role.PROVIDER_STAFF))
    member = _person(world, Role.CUSTOMER_MEMBER)
    response = staff_client.post(reverse("admin:portal_user_change", args=[member.pk]),
                                 _person_form(member, last_name="Neu"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.last_name == "Neu"


def test_admin_role_form_keeps_the_last_provider_admin(world, verified_client, superuser):
    admin = _person(world, Role.PROVIDER_ADMIN)
    url = reverse("admin:portal_membership_change", args=[_membership(admin).pk])
    response = verified_client(superuser).post(url, {"role": Role.PROVIDER_STAFF})
    assert response.status_code == 302
    assert any(LAST_ADMIN_MESSAGE in text for text in _messages(response))
    assert _membership(admin).role == Role.PROVIDER_ADMIN
