"""Reads of the portal package: what a person may see and choose."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.models import Membership, Organisation, User
from portal.roles import INVITABLE_ROLES, Role
from portal.tenancy import membership_of, role_of


def invitable_role_choices(user: User) -> list[tuple[str, str]]:
    """The roles ``user`` may hand out, as form choices."""
    allowed = frozenset(Role) if user.is_superuser else INVITABLE_ROLES.get(role_of(user), ())
    return [(value, label) for value, label in Role.choices if value in allowed]


def team_of(user: User) -> QuerySet[Membership]:
    """The memberships of the user's own organisation, people first-name sorted."""
    membership = membership_of(user)
    if membership is None:
        return Membership.objects.none()
    return (
        Membership.objects.visible_to(user)
        .filter(organisation_id=membership.organisation_id)
        .select_related("user")
        .order_by("-user__is_active", "user__last_name", "user__first_name")
    )


def team_member(user: User, user_id: int) -> User:
    """A person of the user's own organisation, or ``User.DoesNotExist``."""
    membership = membership_of(user)
    if membership is None:
        raise User.DoesNotExist
    return User.objects.visible_to(user).get(
        pk=user_id, memberships__organisation_id=membership.organisation_id
    )


def organisations_for_invitation(user: User) -> QuerySet[Organisation]:
    """Organisations the user may invite people into."""
    return Organisation.objects.visible_to(user).filter(is_active=True)
