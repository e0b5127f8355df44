"""Mandatory second factor for every logged-in request, re-authentication before security
changes, session limits (idle and absolute), no caching of personal pages, the access log."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

from portal.http import client_ip, is_logged_in, is_verified

#: URL names a logged-in but unverified session may reach.
MFA_EXEMPT_URL_NAMES = frozenset({
    "account_login",
    "account_logout",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "portal:mfa_enrol",
    "portal:mfa_verify",
    "portal:healthz",
    # Only sets the language cookie for an unverified session (portal/views/account.py), so
    # the second-factor pages can be read in the person's language.
    "portal:language_switch",
})


def is_mfa_exempt(path: str) -> bool:
    """``path`` is ``request.path_info`` (without a script prefix)."""
    if path.startswith(settings.STATIC_URL):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in MFA_EXEMPT_URL_NAMES


class MFARequiredMiddleware:
    """Send logged-in requests without a verified second factor to enrolment or verification.

    Runs after django-otp's ``OTPMiddleware``, which sets ``request.user.is_verified()``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        path = request.path_info
        if user.is_authenticated and not is_verified(user) and not is_mfa_exempt(path):
            from portal.services.mfa import has_confirmed_device

            target = "portal:mfa_verify" if has_confirmed_device(user) else "portal:mfa_enrol"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)


class ReauthenticationRequiredMiddleware:
    """Guarded URL names (portal/reauth.py) need a fresh password-and-code confirmation.

    Runs after ``MFARequiredMiddleware``; as a ``process_view`` hook it sees the resolved URL
    name, allauth's pages included, without wrapping their views.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from portal.reauth import reauthentication_required, reauthentication_url

        match = request.resolver_match
        if match is None or not reauthentication_required(request, match.view_name):
            return None
        return HttpResponseRedirect(reauthentication_url(request, match.view_name))


class NoStoreMiddleware:
    """Pages of a logged-in person (portal, allauth, admin) are never stored by a browser or
    proxy: they show personal data and, on enrolment, the TOTP secret. Not static files."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        authenticated = is_logged_in(request)
        response = self.get_response(request)
        if (authenticated or is_logged_in(request)) and not request.path_info.startswith(
                settings.STATIC_URL):
            add_never_cache_headers(response)
        return response


#: Unix time of the password login, and of the last activity (written at most once a minute).
SESSION_STARTED_KEY = "portal_session_started"
LAST_ACTIVITY_KEY = "portal_last_activity"
ACTIVITY_WRITE_INTERVAL_SECONDS = 60


def _start_session_clock(session, now: float) -> None:
    session[SESSION_STARTED_KEY] = int(now)
    session[LAST_ACTIVITY_KEY] = int(now)


def _session_over(session, now: float) -> str | None:
    """``"absolute"`` after SESSION_COOKIE_AGE since the login, ``"idle"`` after
    PORTAL_SESSION_IDLE_TIMEOUT_MINUTES without a request, else ``None``."""
    started = session.get(SESSION_STARTED_KEY)
    last = session.get(LAST_ACTIVITY_KEY, started)
    if now - started >= settings.SESSION_COOKIE_AGE:
        return "absolute"
    if now - last >= settings.PORTAL_SESSION_IDLE_TIMEOUT_MINUTES * 60:
        return "idle"
    return None


class SessionLimitsMiddleware:
    """End a session after the idle timeout or its absolute age, whatever else happens.

    The absolute limit counts from the login and is not moved by activity or by saving the
    session (``SESSION_SAVE_EVERY_REQUEST``, allauth's browser-session expiry): Django's own
    expiry rolls forward on every save. The activity stamp is written at most once a minute,
    so an ordinary request does not write the session.

    The clocks start with the request that logs in (it writes the session anyway). A session
    without them (one from before this middleware) gets them with its next write and is
    bounded by Django's expiry until then; no request writes a session only to add them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (is_logged_in(request) and SESSION_STARTED_KEY in request.session
                and not request.path_info.startswith(settings.STATIC_URL)):
            session, now = request.session, time.time()
            reason = _session_over(session, now)
            if reason is not None:
                return self._end(request, reason, now)
            if now - session.get(LAST_ACTIVITY_KEY, 0) >= ACTIVITY_WRITE_INTERVAL_SECONDS:
                session[LAST_ACTIVITY_KEY] = int(now)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (is_logged_in(request) and session is not None and session.modified
                and SESSION_STARTED_KEY not in session):
            _start_session_clock(session, time.time())
        return response

    def _end(self, request, reason: str, now: float):
        from portal.services.security import session_timeout_record

        session = request.session
        minutes = settings.PORTAL_SESSION_IDLE_TIMEOUT_MINUTES
        session_timeout_record(
            actor=request.user, reason=reason, ip=client_ip(request),
            details={"idle_seconds": int(now - session.get(LAST_ACTIVITY_KEY, now)),
                     "age_seconds": int(now - session[SESSION_STARTED_KEY])})
        logout(request)
        if reason == "idle":
            text = ngettext("Sie wurden nach %(minutes)d Minute ohne Aktivität abgemeldet.",
                            "Sie wurden nach %(minutes)d Minuten ohne Aktivität abgemeldet.",
                            minutes) % {"minutes": minutes}
        else:
            hours = max(1, settings.SESSION_COOKIE_AGE // 3600)
            text = ngettext("Ihre Sitzung endet spätestens %(hours)d Stunde nach der Anmeldung. "
                            "Bitte melden Sie sich erneut an.",
                            "Ihre Sitzung endet spätestens %(hours)d Stunden nach der Anmeldung. "
                            "Bitte melden Sie sich erneut an.", hours) % {"hours": hours}
        messages.info(request, text)
        if request.method == "GET":
            return redirect_to_login(request.get_full_path(), reverse("account_login"))
        return HttpResponseRedirect(reverse("account_login"))


class AccessLogMiddleware:
    """Record who viewed which page or downloaded which file, when and from where."""

    SKIPPED_PREFIXES = ("/healthz", "/i18n/", "/favicon.ico")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and is_verified(user)
            and not request.path.startswith(settings.STATIC_URL)
            and not request.path.startswith(self.SKIPPED_PREFIXES)
        ):
            from portal.services.audit import access_log_record

            match = getattr(request, "resolver_match", None)
            disposition = response.get("Content-Disposition", "")
            access_log_record(
                actor=user,
                method=request.method,
                path=request.get_full_path(),
                view_name=match.view_name if match else "",
                status_code=response.status_code,
                is_download=disposition.startswith("attachment"),
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        return response
