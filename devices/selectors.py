"""Reads of the device inventory; every query starts from ``visible_to``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from devices.coverage import av_covered
from devices.models import Device, DeviceImport, ImportStatus
from devices.services.imports import APPLY, PREVIEW
from portal.periods import WorkCalendar, av_alarm_check


def last_stale_signature_date(now=None) -> date:
    """The newest signature date whose anti-virus alarm is due by ``now``: older than two
    working days at a daily check (DOMAIN.md § 7, ``portal.periods.av_alarm_check``)."""
    now = now or timezone.now()
    calendar = WorkCalendar.germany()
    day = timezone.localdate(now)
    while av_alarm_check(calendar, signature_date=day) > now:
        day -= timedelta(days=1)
    return day


def signature_stale_before(now=None) -> date:
    """Signatures dated before this day (or missing) are stale: their alarm is due."""
    return last_stale_signature_date(now) + timedelta(days=1)


def stale_signature(now=None) -> Q:
    """The one home of "this device's anti-virus signature is stale" (list filter and badge,
    detail badge, dashboard count, admin filter): an active device that reports a signature
    older than ``signature_stale_before``, or reports none although it is under anti-virus
    management (``devices.coverage``). A switch, access point or printer without a signature
    and without anti-virus management is not stale: nothing is expected of it."""
    reported_old = Q(av_signature_date__lt=signature_stale_before(now))
    missing = Q(av_signature_date__isnull=True) & av_covered()
    return Q(retired_at__isnull=True) & (reported_old | missing)


def with_staleness(devices: QuerySet[Device], now=None) -> QuerySet[Device]:
    """``devices`` with ``is_stale`` (``stale_signature``) computed by the query."""
    return devices.annotate(is_stale=Case(When(stale_signature(now), then=Value(True)),
                                          default=Value(False), output_field=BooleanField()))


def devices_for(user, *, search: str = "", kind: str = "", state: str = "active",
                signature: str = "") -> QuerySet[Device]:
    devices = Device.objects.visible_to(user).select_related("customer")
    if state == "active":
        devices = devices.filter(retired_at__isnull=True)
    elif state == "retired":
        devices = devices.filter(retired_at__isnull=False)
    if kind:
        devices = devices.filter(kind=kind)
    if search:
        devices = devices.filter(Q(hostname__icontains=search)
                                 | Q(serial_number__icontains=search)
                                 | Q(location__icontains=search)
                                 | Q(operating_system__icontains=search))
    devices = with_staleness(devices)
    if signature == "stale":
        devices = devices.filter(is_stale=True)
    return devices.order_by("hostname", "pk")


def imports_for(user) -> QuerySet[DeviceImport]:
    return DeviceImport.objects.visible_to(user).select_related("customer", "created_by")


def device_summary_for(user) -> dict[str, int]:
    """Active devices and those among them with a stale AV signature (``stale_signature``),
    in one query."""
    return Device.objects.visible_to(user).filter(retired_at__isnull=True).aggregate(
        active=Count("pk"), stale=Count("pk", filter=stale_signature()))


#: The badge of an import's status on the import pages (a stalled step is always "bad").
STATUS_BADGE = {
    ImportStatus.PREVIEWED: "badge--warn",
    ImportStatus.DONE: "badge--ok",
    ImportStatus.INVALID: "badge--bad",
    ImportStatus.FAILED: "badge--bad",
}


def import_badge(device_import: DeviceImport, activity) -> str:
    """The badge class for an import, given its ``portal.jobs.job_activity``."""
    if activity.phase == "stuck":
        return "badge--bad"
    return STATUS_BADGE.get(device_import.status, "")


def job_progress(device_import: DeviceImport, activity) -> dict:
    """What the import pages (portal and admin) say about a running or stuck step, as flags
    the templates show (``stuck``, ``queued``, ``checking``, ``writing``)."""
    return {
        "activity": activity,
        "stuck": activity.phase == "stuck",
        "queued": activity.phase == "queued",
        "checking": activity.step == PREVIEW,
        # Every row is checked again; then the devices are written in one transaction, which
        # reports no progress: the page must not claim "n of n" as if it were nearly done.
        "writing": activity.step == APPLY and activity.phase == "running"
        and 0 < device_import.rows_total <= device_import.rows_done,
    }
