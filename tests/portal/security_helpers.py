"""Account-security helpers for tests: a code that is not valid now, re-authentication
through the real confirmation page (password and TOTP code), a password reset by e-mail link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_now
from tests.factories import PASSWORD

REAUTH_URL = "/konto/sicherheit/bestaetigen/"


def wrong_totp(device: TOTPDevice) -> str:
    """A six-digit code that is not accepted in the current time window (±1 step)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    valid = set()
    for offset in (-1, 0, 1):
        totp.drift = device.drift + offset
        valid.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def reauthenticate(client, user, *, next_url: str | None = None, password: str = PASSWORD,
                   token: str | None = None):
    """Confirm password and a current code for ``user``'s (verified) session."""
    if token is None:
        token = totp_now(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
                         .first())
    data = {"password": password, "token": token,
            "next": next_url or reverse("portal:security")}
    return client.post(REAUTH_URL, data)


def reset_password_by_link(client, user, password: str, capture_on_commit):
    """Ask for a reset link, follow it from the e-mail and set ``password``; returns the last
    response. ``capture_on_commit`` is pytest-django's ``django_capture_on_commit_callbacks``."""
    with capture_on_commit(execute=True):
        client.post(reverse("account_reset_password"), {"email": user.email})
    body = mail.outbox[-1].body
    link = re.search(r"https?://\S+/konto/password/reset/key/\S+/", body).group(0)
    form_url = client.get(urlsplit(link).path)["Location"]
    with capture_on_commit(execute=True):
        return client.post(form_url, {"password1": password, "password2": password})
