"""Re-authentication before security changes: the one rule, and the password-and-code check.

Adding or removing an authenticator, new backup codes, a new password or e-mail address need a
verified session *and* a fresh confirmation with password and a current code (TOTP or backup
code) within ``PORTAL_REAUTH_MAX_AGE_SECONDS``. ``ReauthenticationRequiredMiddleware`` applies
``REAUTH_REQUIRED`` to every request by URL name, allauth's pages included. The very first
enrolment is not affected: without a confirmed device there is nothing to confirm with, and
the session is not verified yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.http import is_verified
from portal.mfa import check_token

REAUTH_SESSION_KEY = "portal_reauthenticated_at"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Guard:
    """``on_read``: reading the page already needs it (it shows a new secret).
    ``return_to``: the page to come back to when the guarded URL only takes POST."""

    on_read: bool = False
    return_to: str | None = None


#: URL name -> guard. Other pages never ask for a re-authentication.
REAUTH_REQUIRED: dict[str, Guard] = {
    "portal:mfa_enrol": Guard(on_read=True),
    "portal:backup_codes_regenerate": Guard(return_to="portal:security"),
    "portal:device_remove": Guard(return_to="portal:security"),
    "account_change_password": Guard(),
    "account_set_password": Guard(),
    "account_email": Guard(),
}


def is_recently_reauthenticated(request: HttpRequest) -> bool:
    stamp = request.session.get(REAUTH_SESSION_KEY)
    if not isinstance(stamp, (int, float)):
        return False
    return 0 <= time.time() - stamp <= settings.PORTAL_REAUTH_MAX_AGE_SECONDS


def reauthentication_required(request: HttpRequest, view_name: str) -> bool:
    """A verified person with a confirmed device asks for a guarded page without a fresh
    re-authentication. Unverified sessions are the MFA gate's business."""
    from portal.services.mfa import has_confirmed_device

    guard = REAUTH_REQUIRED.get(view_name)
    if guard is None or (request.method in SAFE_METHODS and not guard.on_read):
        return False
    user = request.user
    if not (user.is_authenticated and is_verified(user)):
        return False
    return has_confirmed_device(user) and not is_recently_reauthenticated(request)


def reauthentication_url(request: HttpRequest, view_name: str | None = None) -> str:
    """The confirmation page, coming back to the page asked for (or the guard's page)."""
    guard = REAUTH_REQUIRED.get(view_name or "")
    if request.method not in SAFE_METHODS and guard is not None and guard.return_to:
        back = reverse(guard.return_to)
    elif request.method not in SAFE_METHODS:
        back = request.path
    else:
        back = request.get_full_path()
    return f"{reverse('portal:reauthenticate')}?{urlencode({'next': back})}"


def guarded_url(request: HttpRequest, url_name: str) -> str:
    """A link to a guarded page that goes through the confirmation first when needed."""
    url = reverse(url_name)
    if is_recently_reauthenticated(request):
        return url
    return f"{reverse('portal:reauthenticate')}?{urlencode({'next': url})}"


def mark_reauthenticated(request: HttpRequest) -> None:
    """Remember the confirmation and give the session a new key."""
    request.session[REAUTH_SESSION_KEY] = int(time.time())
    request.session.cycle_key()


@dataclass(frozen=True)
class ReauthCheck:
    device: object | None
    method: str
    error: str | None = None


def _refused() -> str:
    # One message for a wrong password, a wrong code and a throttled code: the page must not
    # tell someone holding the session which half was right.
    return _("Das Passwort oder der Code ist nicht korrekt. Nach mehreren Fehlversuchen "
             "warten Sie bitte einige Sekunden, bevor Sie es erneut versuchen.")


def check_reauthentication(request: HttpRequest, password: str, token: str) -> ReauthCheck:
    """Password first (allauth's authentication, with its failed-login throttle), then the
    code (django-otp, throttled per device). A backup code is only used when the password is
    right, so a wrong password never costs one."""
    user = request.user
    if not ratelimit.consume(request, action="reauthenticate", user=user):
        return ReauthCheck(None, "rate_limited", _(
            "Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es erneut."))
    try:
        authenticated = get_adapter(request).authenticate(request, email=user.email,
                                                          password=password)
    except ValidationError:
        return ReauthCheck(None, "rate_limited", _(
            "Zu viele gescheiterte Versuche. Bitte warten Sie einige Minuten und versuchen "
            "Sie es erneut."))
    if authenticated is None or authenticated.pk != user.pk:
        return ReauthCheck(None, "password", _refused())
    result = check_token(user, token)
    if result.device is None:
        return ReauthCheck(None, result.method or "invalid", _refused())
    return ReauthCheck(result.device, result.method)
