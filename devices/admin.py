"""The device inventory in the staff admin: devices by hand, retire, export, import.

Thin over ``devices.services``: the admin form only shows the services' rules as form errors;
every write goes through a service with the person as actor. Extra staff pages (import upload,
import status, export of the filtered list) are routed through ``get_urls()``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from devices.admin_filters import RetiredFilter, SerialAtSeveralCustomersFilter, SignatureAgeFilter
from devices.admin_imports import ROW_STATUS_LABELS, DeviceImportForm
from devices.exporting import FORMATS, export_devices
from devices.importing import CHANGED, INVALID, NEW, UNCHANGED
from devices.models import Device, DeviceImport, ImportStatus
from devices.selectors import job_progress
from devices.services import (
    EDITABLE_FIELDS,
    IMPORT_FLOW,
    MESSAGES_KEPT,
    device_create,
    device_export_record,
    device_import_cancel,
    device_import_confirm,
    device_import_upload,
    device_retire,
    device_unique_errors,
    device_update,
    import_cancellable,
)
from portal.admin.base import TenantScopedAdmin, run_service_action
from portal.http import client_ip
from portal.jobs import job_activity
from portal.models import Organisation
from portal.selectors import person_label


def _perm(opts, action: str) -> str:
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


# --- Devices ----------------------------------------------------------------------------------


class DeviceAdminForm(forms.ModelForm):
    """The model's checks, then the uniqueness rules of ``devices.services`` in its words, so a
    conflict is a form error before anything is saved (the service checks again)."""

    class Meta:
        model = Device
        fields = ("customer", *EDITABLE_FIELDS)

    def clean_serial_number(self) -> str:
        return self.cleaned_data["serial_number"].strip().upper()

    def _post_clean(self) -> None:
        # As devices.services.inventory._save_checked: full_clean without the database constraints
        # (their generic messages), then the same rules with readable messages.
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields,
                                               self._meta.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        try:
            self.instance.full_clean(exclude=self._get_validation_exclusions(),
                                     validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)
        if self.instance.customer_id:
            for name, problems in device_unique_errors(self.instance).items():
                if name not in self.errors:  # a value that failed its own check is not saved
                    self.add_error(name, problems)


@admin.register(Device)
class DeviceAdmin(TenantScopedAdmin):
    form = DeviceAdminForm
    change_list_template = "admin/devices/device/change_list.html"
    list_display = ("hostname", "serial_number", "kind", "customer", "operating_system",
                    "location", "last_seen", "av_signature_date", "retired")
    list_filter = ("kind", ("customer", admin.RelatedOnlyFieldListFilter), RetiredFilter,
                   ("last_seen", admin.DateFieldListFilter), SignatureAgeFilter,
                   SerialAtSeveralCustomersFilter)
    list_select_related = ("customer",)
    search_fields = ("hostname", "serial_number", "customer__name", "location")
    autocomplete_fields = ("customer",)
    readonly_fields = ("retired_at", "created_at", "created_by_name", "updated_at",
                       "updated_by_name")
    fieldsets = (
        (None, {"fields": ("customer", "hostname", "serial_number", "kind")}),
        (_("System"), {"fields": ("operating_system", "location", "agent_id")}),
        (_("Überwachung"), {"fields": ("last_seen", "av_signature_date",
                                       "pending_critical_updates")}),
        (_("Notizen"), {"fields": ("notes",)}),
        (_("Protokoll"), {"fields": ("retired_at", "created_at", "created_by_name",
                                     "updated_at", "updated_by_name")}),
    )
    actions = ("retire", "export_csv", "export_xlsx")

    @admin.display(description=_("ausgemustert"), boolean=True, ordering="retired_at")
    def retired(self, obj: Device) -> bool:
        return obj.retired_at is not None

    @admin.display(description=_("angelegt von"))
    def created_by_name(self, obj: Device) -> str:
        return getattr(obj, "created_by_label", "–")

    @admin.display(description=_("geändert von"))
    def updated_by_name(self, obj: Device) -> str:
        return getattr(obj, "updated_by_label", "–")

    # --- permissions --------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None) -> bool:
        # Devices are retired (kept with their history), never deleted.
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(_perm(self.opts, "import"))

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(_perm(self.opts, "export"))

    # --- the change form ----------------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.created_by_label = person_label(request.user, obj.created_by)
            obj.updated_by_label = person_label(request.user, obj.updated_by)
        return obj

    def get_readonly_fields(self, request, obj=None):
        # A device stays with its customer; moving it is a retire plus a new device.
        return (*self.readonly_fields, "customer") if obj else self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.fieldsets[:-1]

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: value for name, value in form.cleaned_data.items() if name != "customer"}
        if change:
            saved = device_update(actor=request.user, device=obj, ip=client_ip(request),
                                  **fields)
        else:
            saved = device_create(actor=request.user, customer=form.cleaned_data["customer"],
                                  ip=client_ip(request), **fields)
        for field in Device._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change) -> None:
        pass  # no relations beyond the customer, which the service sets

    # --- the list -----------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        query = request.GET.copy()
        query.pop(PAGE_VAR, None)
        context = {
            "may_import": self.has_import_permission(request),
            "may_export": self.has_export_permission(request),
            "export_query": query.urlencode(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    @admin.action(description=_("Ausgewählte Geräte ausmustern"), permissions=["change"])
    def retire(self, request, queryset):
        return run_service_action(
            self, request, queryset, action_name="retire",
            title=gettext("Geräte ausmustern"),
            question=gettext("Diese Geräte werden als ausgemustert markiert. Sie bleiben mit "
                             "ihrer Historie erhalten, werden aber nicht mehr überwacht. "
                             "Fortfahren?"),
            service=lambda device: device_retire(actor=request.user, device=device,
                                                 ip=client_ip(request)),
            done=ngettext_lazy("%(count)d Gerät ausgemustert.",
                               "%(count)d Geräte ausgemustert.", "count"),
        )

    @admin.action(description=_("Ausgewählte Geräte exportieren (CSV)"),
                  permissions=["export"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description=_("Ausgewählte Geräte exportieren (XLSX)"),
                  permissions=["export"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    def _export(self, request, queryset: QuerySet, file_format: str) -> HttpResponse:
        """The devices of ``queryset`` (already visible to the person) as a download."""
        customer_ids = list(queryset.order_by().values_list("customer_id", flat=True)
                            .distinct()[:2])
        customer = (Organisation.objects.visible_to(request.user).get(pk=customer_ids[0])
                    if len(customer_ids) == 1 else None)
        exported = export_devices(queryset, file_format,
                                  name=slugify(customer.name) if customer else "auswahl")
        device_export_record(actor=request.user, customer=customer, count=exported.count,
                             file_format_name=file_format, ip=client_ip(request))
        response = HttpResponse(exported.content, content_type=exported.content_type)
        response["Content-Disposition"] = content_disposition_header(True, exported.file_name)
        return response

    # --- extra pages --------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=f"{prefix}_import"),
            path("import/<uuid:public_id>/", wrap(self.import_status_view),
                 name=f"{prefix}_import_status"),
            path("export/<slug:file_format>/", wrap(self.export_view),
                 name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def _page(self, request, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "has_view_permission": self.has_view_permission(request),
            **context,
        })

    def export_view(self, request, file_format: str):
        """The changelist as it is filtered and searched right now, as a file."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        if file_format not in FORMATS:
            raise Http404
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:devices_device_changelist"))
        return self._export(request, queryset, file_format)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = DeviceImportForm(request.POST or None, request.FILES or None, user=request.user,
                                admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                device_import = device_import_upload(
                    actor=request.user, customer=form.cleaned_data["customer"],
                    file_name=upload.name,
                    # One byte beyond the limit is enough for the service to refuse the file.
                    data=upload.read(settings.DEVICE_IMPORT_MAX_BYTES + 1),
                    via_admin=True, ip=client_ip(request))
            except ValidationError as exc:
                form.add_error("file", exc.messages)
            else:
                return HttpResponseRedirect(reverse(
                    "admin:devices_device_import_status", args=[device_import.public_id]))
        return self._page(request, "admin/devices/device/import_upload.html",
                          gettext("Geräte importieren"), form=form,
                          media=self.media + form.media)

    def import_status_view(self, request, public_id):
        """Progress, preview with confirmation, errors or result of one import."""
        may_import = self.has_import_permission(request)
        if not (may_import or request.user.has_perm(_perm(DeviceImport._meta, "view"))):
            raise PermissionDenied
        device_import = get_object_or_404(
            DeviceImport.objects.visible_to(request.user).select_related("customer",
                                                                        "created_by"),
            public_id=public_id)
        if request.method == "POST":
            if not may_import:
                raise PermissionDenied
            return self._decide(request, device_import)
        changes_label = {field.name: field.verbose_name for field in Device._meta.fields}
        rows = [{**row, "status_label": ROW_STATUS_LABELS.get(row["status"], row["status"]),
                 "changes": [(changes_label.get(name, name), before, after)
                             for name, (before, after) in row.get("changes", {}).items()]}
                for row in device_import.messages]
        counts = [(ROW_STATUS_LABELS[key], device_import.counts.get(key, 0))
                  for key in (NEW, CHANGED, UNCHANGED, INVALID)]
        return self._page(
            request, "admin/devices/device/import_status.html",
            gettext("Geräte-Import: %(file)s") % {"file": device_import.file_name},
            device_import=device_import, rows=rows, counts=counts,
            has_counts=bool(device_import.counts), may_import=may_import,
            rows_truncated=len(rows) >= MESSAGES_KEPT,
            uploaded_by=person_label(request.user, device_import.created_by),
            # Which outcome the page shows: flags, so that the template compares no states.
            **{outcome.value: device_import.status == outcome for outcome in (
                ImportStatus.PREVIEWED, ImportStatus.INVALID, ImportStatus.FAILED,
                ImportStatus.DONE, ImportStatus.CANCELLED)},
            **job_progress(device_import, job_activity(IMPORT_FLOW, device_import)),
            may_confirm=may_import and device_import.status == ImportStatus.PREVIEWED,
            may_cancel=may_import and import_cancellable(device_import),
        )

    def _decide(self, request, device_import: DeviceImport) -> HttpResponse:
        decision = request.POST.get("decision")
        service = {"confirm": device_import_confirm, "cancel": device_import_cancel}.get(decision)
        if service is None:
            return HttpResponse(status=400)
        try:
            service(actor=request.user, device_import=device_import, ip=client_ip(request))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, gettext("Der Import wurde bestätigt und wird übernommen.")
                              if decision == "confirm" else
                              gettext("Der Import wurde abgebrochen; es wurde nichts "
                                      "übernommen."), messages.SUCCESS)
        return HttpResponseRedirect(request.path)
