"""Second factor: enrolment (QR code + backup codes), verification, re-authentication before
security changes, and the security page."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.adapters import LOGGED_IN_MESSAGE
from portal.forms import ReauthenticationForm, TokenForm
from portal.http import client_ip
from portal.login_throttle import remember_known_device
from portal.mfa import backup_codes_left, base32_secret, check_token, qr_svg
from portal.reauth import (
    check_reauthentication,
    guarded_url,
    is_recently_reauthenticated,
    mark_reauthenticated,
)
from portal.services.mfa import (
    has_confirmed_device,
    mfa_backup_codes_regenerate,
    mfa_device_remove,
    mfa_enrolment_confirm,
    mfa_enrolment_start,
    mfa_verification_record,
)
from portal.services.security import reauthentication_record


def _next_url(request, default: str = "portal:dashboard") -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


def _verified_with(request, device) -> None:
    """Mark the session verified with ``device`` and give it a new key (no fixation)."""
    otp_login(request, device)
    request.session.cycle_key()


def _warn_if_backup_code_used(request, method: str) -> None:
    if method == "backup_code":
        left = backup_codes_left(request.user)
        messages.warning(request, ngettext(
            "Sie haben einen Backup-Code verwendet. Es bleibt %(count)d Code.",
            "Sie haben einen Backup-Code verwendet. Es bleiben %(count)d Codes.", left,
        ) % {"count": left})


@login_required
def mfa_enrol(request):
    """Set up an authenticator app: only without one, or from a verified session."""
    user = request.user
    if has_confirmed_device(user) and not user.is_verified():
        return redirect(f"{reverse('portal:mfa_verify')}?{urlencode({'next': _next_url(request)})}")
    device = mfa_enrolment_start(actor=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa_enrolment_confirm(actor=user, device=device,
                                          token=form.cleaned_data["token"], ip=client_ip(request))
        except ValidationError as exc:
            form.add_error("token", exc.messages)
        else:
            device.refresh_from_db()
            _verified_with(request, device)
            messages.success(request, _("Die Zwei-Faktor-Anmeldung ist eingerichtet."))
            if codes:
                response = render(request, "portal/mfa/backup_codes.html",
                                  {"codes": codes, "next": _next_url(request)})
            else:
                response = HttpResponseRedirect(reverse("portal:security"))
            remember_known_device(response, user)
            return response
    return render(request, "portal/mfa/enrol.html", {
        "form": form, "qr_svg": qr_svg(device), "secret": base32_secret(device),
        "next": _next_url(request), "first_device": not has_confirmed_device(user),
    })


@login_required
def mfa_verify(request):
    user = request.user
    if user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    if not has_confirmed_device(user):
        return redirect(f"{reverse('portal:mfa_enrol')}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = check_token(user, form.cleaned_data["token"])
        mfa_verification_record(actor=user, method=result.method,
                                succeeded=result.device is not None, ip=client_ip(request))
        if result.device is not None:
            _verified_with(request, result.device)
            # Held back by the adapter until now: signed in means both factors.
            get_adapter(request).add_message(request, messages.SUCCESS, LOGGED_IN_MESSAGE,
                                             {"user": user})
            _warn_if_backup_code_used(request, result.method)
            response = HttpResponseRedirect(_next_url(request))
            remember_known_device(response, user)
            return response
        form.add_error("token", result.error)
    return render(request, "portal/mfa/verify.html", {"form": form, "next": _next_url(request)})


@login_required
def reauthenticate(request):
    """Password and a current code before a security change; then back to the page asked for."""
    user = request.user
    form = ReauthenticationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = check_reauthentication(request, form.cleaned_data["password"],
                                        form.cleaned_data["token"])
        reauthentication_record(actor=user, succeeded=result.device is not None,
                                method=result.method, ip=client_ip(request))
        if result.device is not None:
            mark_reauthenticated(request)
            _warn_if_backup_code_used(request, result.method)
            return HttpResponseRedirect(_next_url(request, default="portal:security"))
        form.add_error(None, result.error)
    return render(request, "portal/mfa/reauthenticate.html", {
        "form": form, "next": _next_url(request, default="portal:security"),
        "max_age_minutes": max(1, settings.PORTAL_REAUTH_MAX_AGE_SECONDS // 60),
    })


@login_required
def security(request):
    user = request.user
    devices = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")
    return render(request, "portal/security.html", {
        "devices": devices, "backup_codes_left": backup_codes_left(user),
        "backup_codes_total": settings.PORTAL_BACKUP_CODE_COUNT,
        "recently_reauthenticated": is_recently_reauthenticated(request),
        "reauth_max_age_minutes": max(1, settings.PORTAL_REAUTH_MAX_AGE_SECONDS // 60),
        "enrol_url": guarded_url(request, "portal:mfa_enrol"),
        "change_password_url": guarded_url(request, "account_change_password"),
        "change_email_url": guarded_url(request, "account_email"),
    })


@login_required
@require_POST
def backup_codes_regenerate(request):
    try:
        codes = mfa_backup_codes_regenerate(actor=request.user, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal:security")
    return render(request, "portal/mfa/backup_codes.html",
                  {"codes": codes, "next": reverse("portal:security")})


@login_required
@require_POST
def device_remove(request, device_id: int):
    try:
        mfa_device_remove(actor=request.user, device_id=device_id, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Das Gerät wurde entfernt."))
    return redirect("portal:security")
