"""Failed-password throttling that a stranger cannot turn into a lockout (docs/adr/0009).

allauth consumes its ``login_failed`` allowance *before* the password is checked and gives it
back after a correct password. Keyed by the e-mail address alone, five wrong passwords from
anywhere lock the owner out. Here the allowances are kept per source instead:

* a browser that has completed a login with password and second factor carries a signed
  *known-device* cookie; its attempts count only against that device's own bucket, so nothing
  a stranger does elsewhere affects it;
* every other attempt counts per source IP (credential stuffing across many addresses), per
  address and source IP (one stranger guessing one person's password), and per address over
  all sources (a distributed guess), which is the only bucket strangers share with the owner
  and has the largest allowance.

The rates are ``ACCOUNT_RATE_LIMITS`` entries (settings), evaluated by allauth's rate-limit
implementation on the shared cache.
"""

from __future__ import annotations

import secrets

from allauth.core.internal import ratelimit
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from portal.models import User

RATE_LIMIT_APP = "allauth.account"
#: Per source IP, and per address and source IP (allauth's own action, keyed ``address|ip``).
PER_SOURCE = "login_failed"
#: Per address over every source without a known-device cookie.
PER_ADDRESS = "login_failed_address"
#: Per known device (browser) of the address.
PER_KNOWN_DEVICE = "login_failed_known_device"

KNOWN_DEVICE_COOKIE = "portal_known_device"
_KNOWN_DEVICE_SALT = "portal.login_throttle.known_device"


def _normalised(address: str) -> str:
    return (address or "").strip().lower()


def _known_device_max_age() -> int:
    return settings.PORTAL_KNOWN_DEVICE_DAYS * 24 * 60 * 60


def remember_known_device(response: HttpResponse, user: User) -> None:
    """Mark the browser as one that ``user`` completed a login with (password and code)."""
    value = signing.dumps({"u": user.pk, "d": secrets.token_urlsafe(16)},
                          salt=_KNOWN_DEVICE_SALT, compress=True)
    response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=_known_device_max_age(),
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")


def known_device_id(request: HttpRequest, address: str) -> str | None:
    """The id of the request's known-device cookie if it belongs to the owner of ``address``."""
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not raw or not address:
        return None
    try:
        data = signing.loads(raw, salt=_KNOWN_DEVICE_SALT, max_age=_known_device_max_age())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        return None
    if not User.objects.filter(pk=data.get("u"), email__iexact=address).exists():
        return None
    return data["d"]


def _buckets(request: HttpRequest, address: str) -> list[tuple[str, str]]:
    device = known_device_id(request, address)
    if device is not None:
        return [(PER_KNOWN_DEVICE, f"{address}|{device}")]
    return [(PER_SOURCE, f"{address}|{ratelimit.get_ip(request)}"), (PER_ADDRESS, address)]


def failed_login_allowance_consume(request: HttpRequest,
                                   address: str) -> ratelimit.RateLimitUsage | None:
    """Take one failed-login allowance from every bucket that applies to this attempt.

    Returns the usage (to be rolled back when the password turns out correct), or ``None``
    when a bucket is exhausted and the attempt must be refused without checking the password.
    """
    address = _normalised(address)
    consumed = ratelimit.RateLimitUsage(usage=[])
    for action, key in _buckets(request, address):
        usage = ratelimit.consume(request, app=RATE_LIMIT_APP, action=action, key=key)
        if usage is None:
            return None
        consumed.usage.extend(usage.usage)
    return consumed


def failed_login_allowance_clear(request: HttpRequest, address: str) -> None:
    """After a password reset: the address may be tried again at once (from this source)."""
    address = _normalised(address)
    for action, key in [(PER_SOURCE, f"{address}|{ratelimit.get_ip(request)}"),
                        (PER_ADDRESS, address)]:
        ratelimit.clear(request, app=RATE_LIMIT_APP, action=action, key=key)
