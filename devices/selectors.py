"""Reads of the device inventory; every query starts from ``visible_to``."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from devices.models import Device, DeviceImport

#: A signature older than this many days is flagged in lists and filters.
SIGNATURE_STALE_DAYS = 3


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
        cutoff = timezone.localdate() - timedelta(days=SIGNATURE_STALE_DAYS)
        devices = devices.filter(Q(av_signature_date__lt=cutoff)
                                 | Q(av_signature_date__isnull=True))
    return devices.order_by("hostname", "pk")


def imports_for(user) -> QuerySet[DeviceImport]:
    return DeviceImport.objects.visible_to(user).select_related("customer", "created_by")
