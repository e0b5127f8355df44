"""The kinds of change notices, declared once by the app whose changes need them (like the
document kinds): contracts declares price and terms changes, gdpr the sub-processor change.

A kind carries its default objection window; the window in force is the provider's setting
``PORTAL_CHANGE_NOTICE_WINDOWS`` (code -> period such as ``"4w"``), read when a notice is
issued, so a provider can change it without a release (DOMAIN §4).

A kind with ``recipients`` (the customers a notice of this kind goes to) can be sent by hand
from the staff admin (``admin_send.py``); the others are issued by their own flows only (a
price change on a plan, a sub-processor change in the register).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks
from django.db.models import QuerySet
from django.utils.functional import Promise

from portal.periods import Period
from portal.registries import Registry


@dataclass(frozen=True)
class NoticeKind:
    code: str
    label: str | Promise
    window: Period  # default; PORTAL_CHANGE_NOTICE_WINDOWS[code] wins
    on_objection: str | Promise  # what an objection leads to, stated in the notice
    silence_text: str | Promise  # the consequence of silence; may use {deadline}
    reason_required: bool = False
    min_lead: Period | None = None  # the notice must be received this long before the change
    #: ``on_objected(notice=..., actor=...)``: what the issuing app does about an objection
    #: (e.g. open a DPO case), called inside the objection's transaction.
    on_objected: Callable[..., Any] | None = None
    #: The customers a notice of this kind goes to when staff send it by hand; ``None``: the
    #: kind is issued by its app's own flow only.
    recipients: Callable[[], QuerySet] | None = None

    def __post_init__(self) -> None:
        for name in ("window", "min_lead"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Period):
                raise ValueError(f"{name} of the notice kind {self.code!r} must be a Period.")

    def current_window(self) -> Period:
        """The window in force: the provider's setting, else the kind's default."""
        configured = getattr(settings, "PORTAL_CHANGE_NOTICE_WINDOWS", {}).get(self.code)
        return Period.parse(configured) if configured else self.window


kinds: Registry[NoticeKind] = Registry(
    "change_notice_kinds", key=lambda k: k.code, order=lambda k: str(k.label))


@dataclass(frozen=True)
class NoticePage:
    """Where a customer's people read a notice and object: ``url(notice)`` gives the path
    (declared by the app that shows the notices, so the e-mail links to it)."""

    key: str
    url: Callable[..., str]


notice_pages: Registry[NoticePage] = Registry(
    "change_notice_pages", key=lambda p: p.key, order=lambda p: p.key)


def notice_page_url(notice) -> str:
    """The path of ``notice``'s page in the portal, or "" while no app shows notices."""
    for page in notice_pages:
        return page.url(notice)
    return ""


def kind_get(code: str) -> NoticeKind:
    """The declared kind of ``code``; an undeclared code is a programming error."""
    if code not in kinds:
        raise ValueError(f"change notice kind {code!r} is not declared; declare it in the "
                         "plugins module of the app that issues it")
    return kinds.get(code)


def kinds_sent_by_hand() -> list[NoticeKind]:
    """The kinds staff may send from the admin: those that name their recipients."""
    return [kind for kind in kinds if kind.recipients is not None]


def kind_label(code: str) -> str:
    """The label of ``code``; a kind no longer declared shows its code."""
    return str(kinds.get(code).label) if code in kinds else code


@checks.register()
def check_windows(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every configured window must be a period (``manage.py check``, at start-up), so a typo
    in the environment fails the deployment instead of the first notice sent."""
    errors = []
    for code, text in getattr(settings, "PORTAL_CHANGE_NOTICE_WINDOWS", {}).items():
        try:
            Period.parse(text)
        except ValueError as exc:
            errors.append(checks.Error(f"PORTAL_CHANGE_NOTICE_WINDOWS[{code!r}]: {exc}",
                                       id="portal.E101"))
    return errors
