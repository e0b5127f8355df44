"""The end of a contract in the staff admin: the customers' full exports and the e-mails about
their end (read-only; the export's download is the portal's tenant-checked view), and the data
provision orders, which provider staff mark done through ``provision_order_done`` (a
confirmation page, audited)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import BooleanField, Value
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gdpr.models import CustomerExport, DataProvisionOrder
from gdpr.models.contract_end import ContractEndMail, ProvisionState
from gdpr.services.contract_end import (
    PROVISION_HANDLER_ROLES,
    customer_exports_downloadable_by,
    provision_order_done,
)
from gdpr.services.export_jobs import export_valid
from portal.admin.base import ReadOnlyAdmin, TenantScopedAdmin, run_service_action
from portal.tenancy import role_of


@admin.register(CustomerExport)
class CustomerExportAdmin(ReadOnlyAdmin):
    list_display = ("customer", "state", "parts", "created_at", "expires_at", "download")
    list_filter = ("state",)
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__customer_number")
    fields = ("customer", "requested_by", "state", "parts_done", "parts_total", "sha256",
              "size", "error", "created_at", "finished_at", "expires_at")

    @admin.display(description=_("Fortschritt"))
    def parts(self, obj) -> str:
        return f"{obj.parts_done}/{obj.parts_total}"

    @admin.display(description=_("Datei"))
    def download(self, obj):
        if not (obj.viewer_downloads and export_valid(obj)):  # customer_export_downloadable
            return "–"
        return format_html('<a href="{}">{}</a>', reverse("gdpr:customer_export_download",
                                                          args=[obj.pk]), _("ZIP"))

    def get_queryset(self, request):
        """Whether the viewer may download, on each row: the admin instance is shared by all
        requests (threads), so who looks is never kept on it."""
        return super().get_queryset(request).annotate(viewer_downloads=Value(
            customer_exports_downloadable_by(request.user), output_field=BooleanField()))


@admin.register(ContractEndMail)
class ContractEndMailAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "contract_end", "recipients", "sent_at")
    list_filter = ("kind",)
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__customer_number")


@admin.register(DataProvisionOrder)
class DataProvisionOrderAdmin(TenantScopedAdmin):
    list_display = ("customer", "ordered_on", "contract_end", "wanted_by", "state",
                    "handled_at")
    list_filter = ("state",)
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__customer_number", "scope")
    readonly_fields = ("customer", "ordered_by", "ordered_on", "contract_end", "wanted_by",
                       "scope", "delivery", "state", "handled_by", "handled_at", "note",
                       "created_at")
    actions = ("mark_done",)

    def has_add_permission(self, request) -> bool:
        return False  # the customer orders in the portal

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_handle_permission(self, request) -> bool:
        return role_of(request.user) in PROVISION_HANDLER_ROLES

    @admin.action(description=_("Als bereitgestellt markieren"), permissions=["handle"])
    def mark_done(self, request, queryset):
        return run_service_action(
            self, request, queryset, title=_("Datenbereitstellung erledigt"),
            question=_("Wurden die Daten dieser Aufträge übergeben?"),
            service=lambda order: provision_order_done(actor=request.user, order=order),
            done=_("%(count)s Datenbereitstellung(en) als erledigt vermerkt."),
            action_name="mark_done",
            refusal=lambda order: (None if order.state == ProvisionState.ORDERED
                                   else _("bereits abgeschlossen")))
