"""Reads of the device inventory; every query starts from ``visible_to``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Aggregate, Count, Q, QuerySet
from django.utils import timezone

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
    if signature == "stale":
        cutoff = signature_stale_before()
        devices = devices.filter(Q(av_signature_date__lt=cutoff)
                                 | Q(av_signature_date__isnull=True))
    return devices.order_by("hostname", "pk")


def imports_for(user) -> QuerySet[DeviceImport]:
    return DeviceImport.objects.visible_to(user).select_related("customer", "created_by")


def device_summary_for(user, **more_counts: Aggregate) -> dict[str, int]:
    """Active devices and those among them with a stale AV signature, in one query; with
    ``more_counts``, further counts over the same active devices in that query (a layer above,
    e.g. contracts, adds its own, so the dashboard reads the device table once)."""
    cutoff = signature_stale_before()
    return Device.objects.visible_to(user).filter(retired_at__isnull=True).aggregate(
        active=Count("pk"),
        stale=Count("pk", filter=Q(av_signature_date__lt=cutoff)
                    | Q(av_signature_date__isnull=True)),
        **more_counts,
    )


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
    """What the import pages (portal and admin) say about a running or stuck step."""
    return {
        "activity": activity,
        "checking": activity.step == PREVIEW,
        # Every row is checked again; then the devices are written in one transaction, which
        # reports no progress: the page must not claim "n of n" as if it were nearly done.
        "writing": activity.step == APPLY and activity.phase == "running"
        and 0 < device_import.rows_total <= device_import.rows_done,
    }
