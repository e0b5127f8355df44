"""The audit trail and the access log, read-only, for the DPO and provider admins."""

from __future__ import annotations

from django.contrib import admin

from portal.admin.base import ReadOnlyAdmin
from portal.models import AccessLogEntry, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "target_repr", "organisation",
                    "ip_address")
    list_filter = ("action", "created_at", ("organisation", admin.RelatedOnlyFieldListFilter),
                   ("actor", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("organisation",)
    search_fields = ("actor_label", "action", "target_repr", "target_id", "organisation__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("actor", "organisation")
    show_full_result_count = False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "organisation", "method", "path", "status_code",
                    "is_download", "ip_address")
    list_filter = ("is_download", "method", "created_at",
                   ("organisation", admin.RelatedOnlyFieldListFilter),
                   ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "organisation")
    search_fields = ("user__email", "user__last_name", "path", "organisation__name",
                     "ip_address")
    date_hierarchy = "created_at"
    show_full_result_count = False
