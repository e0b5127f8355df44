"""The outbox in the staff admin, read-only: what was sent to whom and when, what failed and
why (for provider staff and the DPO). Nothing is edited or resent by hand here; the sweep
sends again what is due."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.admin.base import ReadOnlyAdmin
from portal.models import Notification
from portal.notifications.registry import event_label, rules


class EventFilter(admin.SimpleListFilter):
    title = _("Ereignis")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return sorted(((rule.event, event_label(rule.event)) for rule in rules),
                      key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_display", "email", "customer", "state")
    list_filter = ("state", EventFilter, "created_at",
                   ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("email", "event", "customer__name")
    date_hierarchy = "created_at"
    fields = ("created_at", "event_display", "template", "customer", "email", "language", "state",
              "attempts", "sent_at", "last_error", "context", "document_ids", "batch",
              "claimed_by", "heartbeat_at")
    readonly_fields = ("event_display",)
    show_full_result_count = False

    @admin.display(description=_("Ereignis"), ordering="event")
    def event_display(self, obj: Notification) -> str:
        return event_label(obj.event)

