"""Reading second factors: matching a code against a person's devices, QR codes, secrets."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import segno
from django.conf import settings
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


@dataclass(frozen=True)
class TokenCheck:
    device: object | None
    error: str | None
    method: str = ""


def check_token(user, token: str) -> TokenCheck:
    """Match ``token`` against the person's confirmed devices, honouring django-otp throttling.

    A six-digit code is checked against the authenticator apps, anything else against the
    backup codes (each backup code works once).
    """
    token = (token or "").strip().replace(" ", "").replace("-", "")
    if not token:
        return TokenCheck(None, _("Bitte geben Sie einen Code ein."))
    wanted = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    throttled = False
    for device in devices_for_user(user, confirmed=True):
        if not isinstance(device, wanted):
            continue
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(token):
            method = "totp" if wanted is TOTPDevice else "backup_code"
            return TokenCheck(device, None, method)
    if throttled:
        return TokenCheck(None, _("Zu viele falsche Codes. Bitte warten Sie einige Sekunden "
                                  "und versuchen Sie es erneut."), "throttled")
    return TokenCheck(None, _("Der Code ist nicht korrekt."), "invalid")


def base32_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it (base32, no padding)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def provisioning_uri(device: TOTPDevice) -> str:
    return device.config_url


def qr_svg(device: TOTPDevice) -> str:
    """An inline SVG QR code of the otpauth:// URI (no external service involved)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#0f172a")


def issuer() -> str:
    return settings.OTP_TOTP_ISSUER


def backup_codes_left(user) -> int:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return device.token_set.count() if device else 0
