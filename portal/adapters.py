"""allauth customised through its adapter: closed signup, audited logins and logouts."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from portal.http import client_ip
from portal.services.accounts import (
    auth_login_failed_record,
    auth_login_record,
    auth_logout_record,
)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.PORTAL_OPEN_SIGNUP

    def login(self, request, user) -> None:
        super().login(request, user)
        auth_login_record(user=user, ip=client_ip(request))

    def logout(self, request) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            auth_logout_record(user=user, ip=client_ip(request))
        super().logout(request)

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            auth_login_failed_record(email=str(credentials.get("email", "")),
                                     ip=client_ip(request), rate_limited=True)
            raise

    def authentication_failed(self, request, **credentials) -> None:
        auth_login_failed_record(email=str(credentials.get("email", "")), ip=client_ip(request))

    def get_login_redirect_url(self, request) -> str:
        # After the password the second factor is always asked; the MFA middleware
        # forwards to the page asked for once the session is verified.
        return super().get_login_redirect_url(request) or reverse("portal:dashboard")
