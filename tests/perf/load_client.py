"""A small HTTP client for the load benchmark: real logins through the login form and the
second-factor form, and the checks that a page answers 200 with its real content.

It talks plain HTTP to a server on loopback. Behind the production settings it says it came
through a TLS proxy (``X-Forwarded-Proto: https``, SECURE_PROXY_SSL_HEADER), so secure cookies,
HSTS and the CSRF origin check work as they do in production.
"""

from __future__ import annotations

import base64
import html
import http.client
import re
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from django_otp.oath import TOTP

LOGIN_PATH = "/konto/login/"
VERIFY_PATH = "/konto/2fa/pruefen/"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class PageCheckFailed(AssertionError):
    """A page did not answer as a logged-in, verified person should see it."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


def totp_code(secret: str, *, at: float | None = None) -> str:
    """What an authenticator app shows for the base32 ``secret`` (30 s steps, 6 digits)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


@dataclass
class PortalClient:
    """One browser-like client: its own cookie jar, no redirects followed."""

    base_url: str
    behind_tls_proxy: bool = True
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def _origin(self) -> str:
        netloc = urlsplit(self.base_url).netloc
        return f"{'https' if self.behind_tls_proxy else 'http'}://{netloc}"

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in sorted(self.cookies.items()))

    def headers(self) -> dict[str, str]:
        headers = {"Accept-Language": "de", "User-Agent": "portal-load-benchmark"}
        if self.behind_tls_proxy:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        return headers

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> Response:
        parts = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = self.headers()
        body = None
        if data is not None:
            body = urlencode(data)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": self._origin, "Referer": f"{self._origin}{path}"})
        try:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            content = raw.read().decode("utf-8", errors="replace")
            seconds = time.perf_counter() - started
            self._store_cookies(raw.headers.get_all("Set-Cookie") or [])
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content,
                            seconds)
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict[str, str]) -> Response:
        """GET the form for its CSRF token, then POST ``data`` with it."""
        page = self.get(path)
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or match is None:
            raise PageCheckFailed(f"{path}: no form (status {page.status})")
        return self.request("POST", path, {"csrfmiddlewaretoken": match.group(1), **data})

    def _store_cookies(self, set_cookie_headers: list[str]) -> None:
        for header in set_cookie_headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value in ("", '""') or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def login_verified(client: PortalClient, *, email: str, password: str, code: str) -> None:
    """Log in through the login form, then pass the second factor with ``code`` (a TOTP code
    or a backup code); raises unless the session ends up verified."""
    response = client.post_form(LOGIN_PATH, {"login": email, "password": password})
    if response.status != 302:
        raise PageCheckFailed(f"login of {email}: status {response.status}, no redirect")
    response = client.post_form(VERIFY_PATH, {"token": code, "next": "/"})
    if response.status != 302 or VERIFY_PATH in response.headers.get("location", ""):
        raise PageCheckFailed(f"second factor of {email}: status {response.status}")


def expect_page(client: PortalClient, path: str, *markers: str) -> Response:
    """GET ``path``: it must answer 200 (not a redirect to login or MFA) and show ``markers``
    (plain text, looked for HTML-escaped as templates print it)."""
    response = client.get(path)
    if response.status != 200:
        where = response.headers.get("location", "")
        raise PageCheckFailed(f"{path}: status {response.status} {where}".rstrip())
    missing = [marker for marker in markers if html.escape(marker) not in response.body]
    if missing:
        raise PageCheckFailed(f"{path}: the page does not show {missing}")
    return response
