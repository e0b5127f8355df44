"""Template context every page needs: the portal's name and the person's role."""

from __future__ import annotations

from django.conf import settings

from portal.http import is_verified
from portal.registries import banners_for, navigation_for
from portal.roles import CUSTOMER_ROLES, STAFF_ROLES
from portal.tenancy import membership_of


def portal(request) -> dict:
    user = getattr(request, "user", None)
    membership = membership_of(user) if user is not None else None
    verified = is_verified(user)
    role = membership.role if membership else None
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_OPEN_SIGNUP": settings.PORTAL_OPEN_SIGNUP,
        "current_membership": membership,
        "is_customer_role": role in CUSTOMER_ROLES,
        "is_staff_role": role in STAFF_ROLES,
        "nav_items": navigation_for(request, membership) if verified else [],
        "banners": banners_for(request) if verified else [],
    }
