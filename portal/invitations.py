"""Signed, expiring, single-use invitation tokens.

The token carries the person's id and a fingerprint of the (unusable) password set at
invitation; setting a password changes that fingerprint, so a used link stops working. Links
expire after ``PORTAL_INVITATION_MAX_AGE_DAYS``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing

from portal.models import User

SALT = "portal.invitation"


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.pk}:{user.password}".encode()).hexdigest()[:16]


def invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "f": _fingerprint(user)}, salt=SALT, compress=True)


def invited_user(token: str) -> User | None:
    """The person the token invites, or ``None`` when it is forged, expired or used."""
    try:
        data = signing.loads(token, salt=SALT,
                             max_age=settings.PORTAL_INVITATION_MAX_AGE_DAYS * 24 * 60 * 60)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.has_usable_password() or _fingerprint(user) != data.get("f"):
        return None
    return user
