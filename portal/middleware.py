"""Mandatory second factor for every logged-in request, and the access log."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from portal.http import client_ip

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
})


def _is_verified(user) -> bool:
    """django-otp adds ``is_verified``; a user logged in during this request lacks it."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


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
        if user.is_authenticated and not _is_verified(user) and not is_mfa_exempt(path):
            from portal.services.mfa import has_confirmed_device

            target = "portal:mfa_verify" if has_confirmed_device(user) else "portal:mfa_enrol"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)


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
            and _is_verified(user)
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
