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

    def pre_login(self, request, user, **kwargs):
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        from contracts.services import customer_access_ended
        from portal.tenancy import membership_of

        membership = membership_of(user)
        if membership is not None and customer_access_ended(membership.organisation):
            from allauth.account.internal.stagekit import clear_login
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            clear_login(request)
            messages.error(request, _("Der Vertrag Ihres Unternehmens ist beendet; der Zugang "
                                      "zum Portal ist deshalb gesperrt. Bei Fragen wenden Sie "
                                      "sich bitte an Ihren Ansprechpartner beim Anbieter."))
            return redirect("account_login")
        return None

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
