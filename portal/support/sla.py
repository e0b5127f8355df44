"""SLA clocks in service hours (DOMAIN §7, 001, 004 § 11): the calendars tickets are measured
in and the targets they are due against.

Calendars are code (their hours come from the contracts); the targets are data
(:class:`portal.support.models.SlaTarget`, per plan and severity, seeded with 001's defaults:
critical 4 service hours, every other priority 24 service hours to start the solution). A
ticket's due times are computed here from its receipt, its target and the service time it
spent waiting for the customer, which does not count (the clock pauses).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.periods import WorkCalendar, add_service_hours, service_hours_between


class SlaCalendar(models.TextChoices):
    SERVICE = "service", _("Servicezeit Mo–Fr 09:00–18:00 (001)")
    SERVICE_0818 = "service_0818", _("Servicezeit Mo–Fr 08:00–18:00 (004)")
    RECEPTION = "reception", _("Störungsannahme Mo–Fr 07:00–19:00 (001)")


#: Opening hours per calendar, Europe/Berlin, nationwide holidays excluded.
_HOURS = {
    SlaCalendar.SERVICE: (time(9), time(18)),
    SlaCalendar.SERVICE_0818: (time(8), time(18)),
    SlaCalendar.RECEPTION: (time(7), time(19)),
}
_CALENDARS: dict[str, WorkCalendar] = {}


def calendar_of(code: str) -> WorkCalendar:
    if code not in _CALENDARS:
        _CALENDARS[code] = WorkCalendar.germany(hours=_HOURS[SlaCalendar(code)])
    return _CALENDARS[code]


class Severity(models.TextChoices):
    """What a target is keyed by: a critical ticket, or the priority of any other."""

    CRITICAL = "critical", _("kritisch")
    URGENT = "1", _("I – dringend")
    HIGH = "2", _("II – hoch")
    LOW = "3", _("III – niedrig")


def due_after(code: str, *, start: datetime, hours: Decimal | None,
              paused_hours: Decimal = Decimal(0)) -> datetime | None:
    """When ``hours`` of service time (plus the time paused) have passed since ``start``."""
    if hours is None:
        return None
    return add_service_hours(calendar_of(code), start=start, hours=Decimal(hours) + paused_hours)


def paused_between(code: str, *, start: datetime, end: datetime) -> Decimal:
    """The service hours between ``start`` and ``end`` (a wait for the customer)."""
    seconds = service_hours_between(calendar_of(code), start=start, end=end) / timedelta(hours=1)
    return Decimal(str(round(seconds, 6)))
