"""allauth customised through its adapter: closed signup, audited logins and logouts, failed
logins throttled per source (portal/login_throttle.py), password and e-mail changes through
the portal's services (audited, the person notified)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from portal.http import client_ip, is_logged_in, is_verified
from portal.login_throttle import failed_login_allowance_clear, failed_login_allowance_consume
from portal.services.accounts import (
    auth_login_failed_record,
    auth_login_record,
    auth_logout_record,
)
from portal.services.security import (
    user_email_change_record,
    user_email_remove_record,
    user_password_change,
)

#: allauth's "Successfully signed in as …" message.
LOGGED_IN_MESSAGE = "account/messages/logged_in.txt"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.PORTAL_OPEN_SIGNUP

    def pre_login(self, request, user, **kwargs):
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        from portal.registries import login_refusal
        from portal.tenancy import membership_of

        refusal = login_refusal(user, membership_of(user))
        if refusal:
            from allauth.account.internal.stagekit import clear_login
            from django.contrib import messages
            from django.shortcuts import redirect

            clear_login(request)
            messages.error(request, refusal)
            return redirect("account_login")
        return None

    def login(self, request, user) -> None:
        super().login(request, user)
        auth_login_record(user=user, ip=client_ip(request))

    def add_message(self, request, level, message_template=None, message_context=None,
                    extra_tags="", message=None) -> None:
        """allauth says "signed in" right after the password, above the second-factor form;
        the portal says it once the second factor is verified (portal/views/mfa.py)."""
        if message_template == LOGGED_IN_MESSAGE and not is_verified(
                getattr(request, "user", None)):
            return
        super().add_message(request, level, message_template, message_context, extra_tags,
                            message)

    def logout(self, request) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            auth_logout_record(user=user, ip=client_ip(request))
        super().logout(request)

    # --- failed-login throttle (replaces allauth's per-address key, docs/adr/0009) ---------

    def pre_authenticate(self, request, **credentials) -> None:
        """Consumed before the password is checked; ``authenticate`` rolls it back when the
        password is right (allauth reads ``_login_failed_rl_usage`` for that)."""
        email = str(credentials.get("email", ""))
        self._login_failed_rl_usage = failed_login_allowance_consume(request, email)
        if self._login_failed_rl_usage is None:
            # A logged-in person confirming their password: portal/reauth.py audits that.
            if not is_logged_in(request):
                auth_login_failed_record(email=email, ip=client_ip(request), rate_limited=True)
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials) -> None:
        if not is_logged_in(request):
            auth_login_failed_record(email=str(credentials.get("email", "")),
                                     ip=client_ip(request))

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        failed_login_allowance_clear(request, str(credentials.get("email", "")))

    # --- credentials changed through allauth's pages ---------------------------------------

    def set_password(self, user, password: str) -> None:
        """Password change, set or reset: a reset comes from a link, not a logged-in person."""
        request = self.request
        current = getattr(request, "user", None)
        own_session = bool(current is not None and current.is_authenticated
                           and current.pk == user.pk)
        user_password_change(actor=user, user=user, password=password, reset=not own_session,
                             ip=client_ip(request))

    def send_notification_mail(self, template_prefix: str, user, context=None,
                               email=None) -> None:
        """allauth calls this right after each change; the portal records the e-mail changes
        and sends its own notices (password notices come from ``user_password_change``)."""
        context = context or {}
        ip = client_ip(self.request)
        if template_prefix == "account/email/email_changed":
            user_email_change_record(actor=user, old_email=context["from_email"],
                                     new_email=context["to_email"], ip=ip)
        elif template_prefix == "account/email/email_deleted":
            user_email_remove_record(actor=user, email=context["deleted_email"], ip=ip)

    def get_login_redirect_url(self, request) -> str:
        # After the password the second factor is always asked; the MFA middleware
        # forwards to the page asked for once the session is verified.
        return super().get_login_redirect_url(request) or reverse("portal:dashboard")
