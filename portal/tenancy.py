"""Tenant scoping: the one place that decides which rows a user may see.

Every customer-owned model uses :class:`TenantQuerySet` (directly or through
``TenantManager``) and names, in ``tenant_lookup``, the path from the model to the customer
organisation it belongs to (``"customer"`` by default, ``""`` for ``Organisation`` itself).
``visible_to(user)`` then applies the role rules:

* provider admin, provider staff and the DPO see every row, except that the rows a purge
  kept under a legal retention duty (those of a customer whose data was purged, its
  organisation a tombstone) are restricted to ``RESTRICTED_RECORD_ROLES`` (DOMAIN §5);
* partner support sees the rows of the customers that belong to its partner organisation,
  and those of its partner organisation itself (its colleagues, its own record);
* customer admins and members see the rows of their own organisation;
* anybody else (anonymous, inactive, no membership) sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from portal.roles import PROVIDER_ROLES, RESTRICTED_RECORD_ROLES, Role

if TYPE_CHECKING:
    from portal.models import Membership

_CACHE_ATTR = "_portal_membership_cache"


def membership_of(user) -> Membership | None:
    """The user's membership with its organisation, cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, _CACHE_ATTR):
        from portal.models import Membership

        # One membership per person (``membership_one_per_person``): a plain lookup, without
        # the model's ordering, which would join the person only to sort a single row. This
        # runs on every request.
        try:
            membership = Membership.objects.select_related(
                "organisation", "organisation__partner").get(user_id=user.pk)
        except Membership.DoesNotExist:
            membership = None
        setattr(user, _CACHE_ATTR, membership)
    return getattr(user, _CACHE_ATTR)


def forget_membership(user) -> None:
    """Drop the cached membership (after a role change in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def role_of(user) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def tenant_filter(lookup: str, user) -> Q | None:
    """The filter for ``user`` over rows whose customer is reached by ``lookup``.

    Returns ``None`` for "everything", ``Q(pk__in=[])`` for "nothing".
    """
    membership = membership_of(user)
    if membership is None:
        return Q(pk__in=[])
    if membership.role in RESTRICTED_RECORD_ROLES:
        return None
    if membership.role in PROVIDER_ROLES:
        return Q(**{f"{lookup}__purged_at__isnull" if lookup else "purged_at__isnull": True})
    org_id = membership.organisation_id
    own = f"{lookup}_id" if lookup else "pk"
    if membership.role == Role.PARTNER_SUPPORT:
        partner = f"{lookup}__partner_id" if lookup else "partner_id"
        return Q(**{partner: org_id}) | Q(**{own: org_id})
    return Q(**{own: org_id})


class TenantQuerySet(models.QuerySet):
    """A queryset that knows how to scope itself to a user."""

    def visible_to(self, user) -> TenantQuerySet:
        lookup = getattr(self.model, "tenant_lookup", "customer")
        condition = tenant_filter(lookup, user)
        if condition is None:
            return self.all()
        return self.filter(condition)


TenantManager = models.Manager.from_queryset(TenantQuerySet)
