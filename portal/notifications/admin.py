"""The outbox in the staff admin, read-only: what was sent to whom and when, what failed and
why (for provider staff and the DPO). Nothing is edited or resent by hand here; the sweep
sends again what is due."""

from __future__ import annotations

from django.contrib import admin

from portal.admin.base import ReadOnlyAdmin
from portal.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "email", "customer", "state", "attempts", "sent_at")
    list_filter = ("state", "event", "created_at",
                   ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("email", "event", "customer__name")
    date_hierarchy = "created_at"
    fields = ("created_at", "event", "template", "customer", "email", "language", "state",
              "attempts", "sent_at", "last_error", "context", "document_ids", "batch",
              "claimed_by", "heartbeat_at")
    show_full_result_count = False

