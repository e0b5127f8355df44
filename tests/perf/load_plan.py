"""What the load benchmark requests: the pages of the mix, what each must show, and the plan
file the wrk script (``load.lua``) rotates through (one ``path<TAB>cookie`` line a request)."""

from __future__ import annotations

from pathlib import Path

#: The customer admin's portal pages: dashboard, device list, contract (contracts/urls.py).
PORTAL_PATHS = ("/", "/geraete/", "/vertrag/")
#: The provider admin's changelists: devices, organisations, people, audit log.
ADMIN_PATHS = ("/admin/devices/device/", "/admin/portal/organisation/", "/admin/portal/user/",
               "/admin/portal/auditevent/")
#: The baseline view of tests/perf/load_urls.py (anonymous, one query, one template).
BARE_PATH = "/bench/bare/"
#: The same view requested with the customer sessions: session, person, second factor,
#: membership and access log on top of the baseline, the fixed cost every real page pays. The
#: second baseline; the anonymous one stays the primary figure.
BARE_VERIFIED = f"{BARE_PATH} (verified)"


def page_markers(customer: str) -> dict[str, tuple[str, ...]]:
    """Text each page must show when the session is really logged in and verified."""
    return {
        "/": (customer, "Kosten"),
        "/geraete/": ("PC-FILIALE-01", "PC-LAST-0001"),
        "/vertrag/": (customer, "Managed Client Standard", "Server Management Basis"),
        "/admin/devices/device/": (customer, "PC-FILIALE-01"),
        "/admin/portal/organisation/": ("Nordlicht IT-Service GmbH", customer),
        "/admin/portal/user/": ("admin@nordlicht-it.example", "it@baeckerei-schroeder.example"),
        "/admin/portal/auditevent/": ("booking.created",),
        BARE_PATH: ("PC-LAST-",),
    }


def mixed_plan(customer_cookies: list[str], provider_cookie: str) -> list[tuple[str, str]]:
    """Every customer session over every portal page, then the provider admin's changelists:
    with four customer sessions, three quarters portal pages and one quarter admin."""
    plan = [(path, cookie) for cookie in customer_cookies for path in PORTAL_PATHS]
    plan += [(path, provider_cookie) for path in ADMIN_PATHS]
    return plan


def bare_verified_plan(customer_cookies: list[str]) -> list[tuple[str, str]]:
    """The baseline view once with every customer session of the real mix."""
    return [(BARE_PATH, cookie) for cookie in customer_cookies]


def write_plan(target: Path, plan: list[tuple[str, str]]) -> Path:
    for path, cookie in plan:
        if "\t" in path + cookie or "\n" in path + cookie:
            raise ValueError(f"a plan entry must be one line without tabs: {path!r}")
    target.write_text("".join(f"{path}\t{cookie}\n" for path, cookie in plan), encoding="ascii")
    return target
