"""Device imports in the staff admin: the upload form the device admin's import page uses, and
the read-only list of imports with their status (the status page itself is a view of the
device admin, devices/admin.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from devices.importing import CHANGED, INVALID, NEW, UNCHANGED
from devices.models import Device, DeviceImport
from devices.selectors import job_progress
from devices.services import IMPORT_FLOW
from portal.admin.base import ReadOnlyAdmin
from portal.jobs import job_activity
from portal.models import Organisation
from portal.roles import OrganisationKind
from portal.selectors import person_label, person_visible

#: Labels of the row states an import reports (``devices.importing``).
ROW_STATUS_LABELS = {NEW: _("neu"), CHANGED: _("geändert"), UNCHANGED: _("unverändert"),
                     INVALID: _("fehlerhaft")}



class DeviceImportForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Kunde"), queryset=Organisation.objects.none())
    file = forms.FileField(label=_("Datei"),
                           help_text=_("CSV (UTF-8, Trennzeichen ; oder ,) oder XLSX, mit den "
                                       "Spalten hostname, serial, kind und weiteren. Vor dem "
                                       "Übernehmen sehen Sie eine Vorschau."))

    def __init__(self, *args, user, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        # The same search as the device form (Device.customer), scoped by visible_to there.
        field.widget = AutocompleteSelect(Device._meta.get_field("customer"), admin_site)
        field.queryset = (Organisation.objects.visible_to(user)
                          .filter(kind=OrganisationKind.CUSTOMER).order_by("name"))


@admin.register(DeviceImport)
class DeviceImportAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "customer", "status_shown", "counts_summary", "uploaded_by",
                    "created_at", "status_page")
    list_filter = ("status", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer", "created_by")
    search_fields = ("file_name", "customer__name")
    date_hierarchy = "created_at"
    fields = ("file_name", "customer", "status_shown", "status_page", "counts_summary", "error",
              "uploaded_by", "created_at", "file_format", "file_size", "file_sha256",
              "rows_total", "finished_at", "attempts", "claimed_by", "claimed_at",
              "heartbeat_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            uploader_visible=person_visible(request.user, "created_by_id"))

    @admin.display(description=_("Status"), ordering="status")
    def status_shown(self, obj: DeviceImport) -> str:
        """The status, and whether its job hangs (no sign of life: nothing runs)."""
        if job_progress(obj, job_activity(IMPORT_FLOW, obj))["stuck"]:
            if obj.attempts < settings.PORTAL_JOB_MAX_ATTEMPTS:
                return gettext("%(status)s – hängt, wird automatisch neu gestartet") % {
                    "status": obj.get_status_display()}
            return gettext("%(status)s – hängt, wird als fehlgeschlagen gekennzeichnet") % {
                "status": obj.get_status_display()}
        return obj.get_status_display()

    @admin.display(description=_("Ergebnis"))
    def counts_summary(self, obj: DeviceImport) -> str:
        if not obj.counts:
            return "–"
        return ", ".join(f"{obj.counts.get(key, 0)} {label}"
                         for key, label in ROW_STATUS_LABELS.items())

    @admin.display(description=_("hochgeladen von"), ordering="created_by__last_name")
    def uploaded_by(self, obj: DeviceImport) -> str:
        return person_label(None, obj.created_by, visible=obj.uploader_visible)

    @admin.display(description=_("Statusseite"))
    def status_page(self, obj: DeviceImport) -> str:
        return format_html('<a href="{}">{}</a>',
                           reverse("admin:devices_device_import_status", args=[obj.public_id]),
                           gettext("öffnen"))
