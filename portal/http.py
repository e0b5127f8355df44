"""Small request helpers shared by views, middleware and the allauth adapter."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the web server saw it (REMOTE_ADDR).

    Behind a reverse proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn's
    ``--forwarded-allow-ips``); X-Forwarded-For is not trusted here because a client can set it.
    """
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def is_logged_in(request: HttpRequest | None) -> bool:
    """A person is logged in on this request (the password step at least)."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def is_verified(user) -> bool:
    """The person's session has a verified second factor. django-otp adds ``is_verified``;
    a user logged in during this request lacks it."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())
