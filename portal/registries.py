"""The registries through which feature apps plug into the core (DESIGN "Layers and
registries"). Core iterates them and never names an app; each app fills them from its
``plugins`` module, which :func:`autodiscover` imports once all apps are loaded.

- :data:`sections`: parts of a page another app contributes (dashboard cards, the bookings
  of a device on its page). A section's ``context`` returns ``None`` to stay hidden.
- :data:`schedules`: every scheduled django-q2 job (``setup_schedules`` writes them).
- :data:`login_blockers`: reasons a person may not log in (e.g. the contract has ended).
- :data:`demo_seeders`: demo data of an app, run by ``seed_demo`` after the demo people exist.
- :data:`navigation`: the entries of the main navigation.
- :data:`banners`: notes shown on top of every portal page (e.g. a contract to accept).
- :data:`deletion_holds`: organisations whose data the core's deletion jobs must keep for now
  (e.g. a legal hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.utils.module_loading import autodiscover_modules

#: The module names every app may have to plug into the core (imported by ``autodiscover``).
PLUGIN_MODULES = ("plugins", "audit_actions", "privacy")

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered set of entries with unique keys; registering a key twice is a programming
    error (two apps claiming one name), so it raises instead of silently replacing."""

    def __init__(self, name: str, *, key: Callable[[T], str], order: Callable[[T], Any]):
        self.name = name
        self._key = key
        self._order = order
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        key = self._key(entry)
        if key in self._entries:
            raise ValueError(f"{self.name}: {key!r} is registered twice")
        self._entries[key] = entry
        return entry

    def unregister(self, key: str) -> None:
        del self._entries[key]

    def get(self, key: str) -> T:
        return self._entries[key]

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(sorted(self._entries.values(), key=self._order))

    def __len__(self) -> int:
        return len(self._entries)


# --- page sections ------------------------------------------------------------------------

#: The pages that show sections, with the keyword arguments their sections' context gets.
PAGE_DASHBOARD = "dashboard"  # context(request) -> dict | None
PAGE_DEVICE_DETAIL = "device_detail"  # context(request, device=Device) -> dict | None
PAGE_ADMIN_INDEX = "admin_index"  # context(request) -> dict | None; e.g. the DPO's start page


@dataclass(frozen=True)
class Section:
    page: str
    key: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    key: str
    template: str
    data: dict


sections: Registry[Section] = Registry(
    "sections", key=lambda s: f"{s.page}:{s.key}", order=lambda s: (s.page, s.order, s.key))


def sections_for(page: str, request, **kwargs) -> list[RenderedSection]:
    """The sections of ``page`` that have something to show, in their order; each section's
    template gets its data as ``section`` (``{% include s.template with section=s.data %}``)."""
    shown = []
    for section in sections:
        if section.page != page:
            continue
        data = section.context(request, **kwargs)
        if data is not None:
            shown.append(RenderedSection(key=section.key, template=section.template, data=data))
    return shown


# --- schedules ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    name: str
    func: str
    cron: str
    description: str


schedules: Registry[Job] = Registry("schedules", key=lambda j: j.name, order=lambda j: j.name)


# --- login blockers -----------------------------------------------------------------------

@dataclass(frozen=True)
class LoginBlocker:
    """``check(user, membership)`` returns the message shown on the login page when the
    person may not log in, or ``None``."""

    key: str
    check: Callable[..., str | None]


login_blockers: Registry[LoginBlocker] = Registry(
    "login_blockers", key=lambda b: b.key, order=lambda b: b.key)


def login_refusal(user, membership) -> str | None:
    """The first reason a registered blocker gives for refusing the login, or ``None``."""
    for blocker in login_blockers:
        message = blocker.check(user, membership)
        if message:
            return message
    return None


# --- demo seeders -------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoSeeder:
    """``seed(organisations)`` adds an app's demo data; ``organisations`` maps the demo keys
    ("provider", "partner0", customer numbers like "K-10001") to organisations. Seeders must
    be idempotent: ``seed_demo`` runs any number of times."""

    key: str
    seed: Callable[[dict], None]
    order: int = 100


demo_seeders: Registry[DemoSeeder] = Registry(
    "demo_seeders", key=lambda d: d.key, order=lambda d: (d.order, d.key))


# --- navigation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation. It is current on every page of its URL ``namespace``
    (or, without one, on exactly its own page); ``visible(membership)`` hides it for people
    it does not concern."""

    key: str
    label: Any  # a lazy translation
    url_name: str
    order: int = 100
    namespace: str = ""
    visible: Callable[..., bool] | None = None


navigation: Registry[NavItem] = Registry(
    "navigation", key=lambda n: n.key, order=lambda n: (n.order, n.key))


def navigation_for(request, membership) -> list[dict]:
    """The navigation entries a person sees, with their URL and whether the page is theirs."""
    from django.urls import reverse

    match = getattr(request, "resolver_match", None)
    entries = []
    for item in navigation:
        if item.visible is not None and not item.visible(membership):
            continue
        url = reverse(item.url_name)
        current = (match is not None and match.namespace == item.namespace if item.namespace
                   else request.path == url)
        entries.append({"key": item.key, "label": item.label, "url": url, "current": current})
    return entries


# --- banners ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Banner:
    """A note on top of every portal page. ``context(request)`` returns ``None`` to stay
    hidden, or a dict with ``message`` and optionally ``url`` and ``link_label``; it runs on
    every page, so it must be cheap (at most one query) and cache nothing across requests."""

    key: str
    context: Callable[..., dict | None]
    order: int = 100


banners: Registry[Banner] = Registry("banners", key=lambda b: b.key,
                                     order=lambda b: (b.order, b.key))


def banners_for(request) -> list[dict]:
    """The banners that have something to say on this request, in their order."""
    shown = []
    for banner in banners:
        data = banner.context(request)
        if data is not None:
            shown.append({"key": banner.key, **data})
    return shown


# --- deletion holds -----------------------------------------------------------------------

@dataclass(frozen=True)
class DeletionHold:
    """``held_organisations()`` returns the ids of the organisations none of whose rows may be
    deleted now (an iterable or a ``values_list`` queryset, one query). The core's own
    deletion jobs (the audit trail's retention, the access log) ask through
    :func:`held_organisation_ids` and keep those organisations' expired rows: the core cannot
    know about legal holds (gdpr/ registers them), and a job that ignored them would delete
    what a data-protection decision keeps."""

    key: str
    held_organisations: Callable[[], Any]


deletion_holds: Registry[DeletionHold] = Registry(
    "deletion_holds", key=lambda h: h.key, order=lambda h: h.key)


def held_organisation_ids() -> set[int]:
    """The ids of the organisations any registered hold keeps (one query per hold)."""
    held: set[int] = set()
    for hold in deletion_holds:
        held.update(hold.held_organisations())
    return held


def autodiscover() -> None:
    """Import every app's plugin modules (called once from ``PortalConfig.ready``)."""
    autodiscover_modules(*PLUGIN_MODULES)
