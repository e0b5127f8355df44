"""List filters of the device admin (devices/admin.py): retired, age of the AV signature, a
serial active at several customers."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from devices.models import Device
from devices.selectors import last_stale_signature_date, stale_signature


class RetiredFilter(admin.SimpleListFilter):
    title = _("ausgemustert")
    parameter_name = "retired"

    def lookups(self, request, model_admin):
        return [("yes", _("ja")), ("no", _("nein"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(retired_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(retired_at__isnull=True)
        return queryset


class SignatureAgeFilter(admin.SimpleListFilter):
    title = _("Alter der Virensignatur")
    parameter_name = "signature"

    def lookups(self, request, model_admin):
        return [("current", _("aktuell (höchstens 2 Arbeitstage alt)")),
                ("stale", _("veraltet (älter als 2 Arbeitstage)")),
                ("missing", _("fehlt"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(av_signature_date__isnull=True)
        if self.value() == "stale":
            return queryset.filter(stale_signature())
        if self.value() == "current":
            return queryset.filter(av_signature_date__gt=last_stale_signature_date())
        return queryset


class SerialAtSeveralCustomersFilter(admin.SimpleListFilter):
    """Active devices whose serial is active at another customer as well: serials are unique
    per customer only (docs/adr/0007), and staff should notice a device that moved without
    being retired. Both sides of the comparison go through ``visible_to``: a partner's support
    only ever finds pairs among the partner's own customers (rows it sees anyway), a customer
    never finds any. One EXISTS subquery, whatever the number of rows."""

    title = _("Seriennummer bei mehreren Kunden aktiv")
    parameter_name = "serial_shared"

    def lookups(self, request, model_admin):
        return [("yes", _("ja"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        twins = (Device.objects.visible_to(request.user)
                 .filter(serial_number=OuterRef("serial_number"), retired_at__isnull=True)
                 .exclude(customer=OuterRef("customer_id")))
        return queryset.filter(Exists(twins), retired_at__isnull=True)
