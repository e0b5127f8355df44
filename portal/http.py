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
