"""The audit trail and the access log, read-only, for the DPO and provider admins.

People are named by ``person_label`` (the viewer's ``visible_to``), as on every admin page; the
address recorded with an event is shown as is only when the event has no person any more
(``system``, or a person who was deleted). Actions are shown by their declared label
(portal/audit_actions.py), never as the raw code; the filter offers the declared actions, so
it needs no query over the whole trail.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.admin.base import ReadOnlyAdmin, VisiblePeopleFilter
from portal.audit_actions import audit_action_choices, audit_action_label
from portal.models import AccessLogEntry, AuditEvent
from portal.selectors import person_label, person_visible


class AuditActionFilter(admin.SimpleListFilter):
    title = _("Aktion")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return audit_action_choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action_label", "target_repr", "organisation",
                    "ip_address")
    list_filter = (AuditActionFilter, "created_at",
                   ("organisation", admin.RelatedOnlyFieldListFilter),
                   ("actor", VisiblePeopleFilter))
    list_select_related = ("organisation", "actor")
    search_fields = ("actor_label", "action", "target_repr", "target_id", "organisation__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("actor", "organisation")
    fields = ("created_at", "actor_name", "action_label", "target_type", "target_id", "target_repr",
              "organisation", "ip_address", "details")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            actor_visible=person_visible(request.user, "actor_id"))

    @admin.display(description=_("Handelnde Person"), ordering="actor_label")
    def actor_name(self, obj: AuditEvent) -> str:
        if obj.actor_id is None:
            return obj.actor_label or "–"
        return person_label(None, obj.actor, visible=obj.actor_visible)

    @admin.display(description=_("Aktion"), ordering="action")
    def action_label(self, obj: AuditEvent) -> str:
        return audit_action_label(obj.action)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user_name", "organisation", "method", "path", "status_code",
                    "is_download", "ip_address")
    list_filter = ("is_download", "method", "created_at",
                   ("organisation", admin.RelatedOnlyFieldListFilter),
                   ("user", VisiblePeopleFilter))
    list_select_related = ("user", "organisation")
    search_fields = ("user__email", "user__last_name", "path", "organisation__name",
                     "ip_address")
    date_hierarchy = "created_at"
    fields = ("created_at", "user_name", "organisation", "method", "path", "view_name",
              "status_code", "is_download", "ip_address", "user_agent")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            user_visible=person_visible(request.user, "user_id"))

    @admin.display(description=_("Person"), ordering="user__last_name")
    def user_name(self, obj: AccessLogEntry) -> str:
        return person_label(None, obj.user, visible=obj.user_visible)
