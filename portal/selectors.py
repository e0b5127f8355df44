"""Reads of the portal package: what a person may see and choose."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Membership, Organisation, User
from portal.roles import INVITABLE_ROLES, INVITING_ROLES, Role, outranks
from portal.tenancy import membership_of, role_of

# --- How a person is shown to a viewer --------------------------------------------------------
# One rule for every page that names a person (admin lists, change pages, history, logs): the
# name only if the viewer may see that person (``User.objects.visible_to``), otherwise a neutral
# word, so partner support never learns who at the provider did something.


def person_label(viewer: User | None, person: User | None, *, visible: bool | None = None) -> str:
    """``person``'s name for ``viewer``, or "(nicht einsehbar)". Pass ``visible`` when it was
    computed for a whole list already (``person_visible`` or ``visible_person_ids``)."""
    if person is None:
        return "–"
    if visible is None:
        visible = User.objects.visible_to(viewer).filter(pk=person.pk).exists()
    return str(person) if visible else _("(nicht einsehbar)")


def person_visible(viewer: User, field: str) -> Exists:
    """An annotation: whether the person in the foreign key ``field`` is visible to ``viewer``
    (one subquery in the list's own query, no query per row)."""
    return Exists(User.objects.visible_to(viewer).filter(pk=OuterRef(field)))


def visible_person_ids(viewer: User, ids: Iterable[int | None]) -> set[int]:
    """Which of the people ``ids`` ``viewer`` may see, in one query."""
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return set()
    return set(User.objects.visible_to(viewer).filter(pk__in=wanted)
               .values_list("pk", flat=True))


# --- Invitations and the team page ------------------------------------------------------------


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


def team_summary(user: User) -> dict[str, int]:
    """The people of the user's own organisation: how many are active, deactivated, and active
    with a confirmed authenticator app (``with_mfa``), in one query."""
    with_app = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    return team_of(user).aggregate(
        active=Count("pk", filter=Q(user__is_active=True)),
        inactive=Count("pk", filter=Q(user__is_active=False)),
        with_mfa=Count("pk", filter=Q(user__is_active=True, user_id__in=with_app)),
    )


def team_with_actions(user: User) -> list[Membership]:
    """``team_of`` with a flag per person, ``may_manage``: whether the team page offers to end
    or restore that person's access (never the own account, never a higher role)."""
    role = role_of(user)
    members = list(team_of(user))
    for member in members:
        member.may_manage = (role in INVITING_ROLES and member.user_id != user.pk
                             and not outranks(member.role, role))
    return members


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
