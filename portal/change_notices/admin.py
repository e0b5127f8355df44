"""Change notices in the staff admin, read-only: every notice's state per customer (delivery,
first sight, deadline, decision and who made it). Decisions change only through the services.
Provider admins and staff send a notice of a kind that names its recipients (a terms change)
from the list ("Mitteilung versenden", ``admin_send.py``)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from portal.admin.base import ReadOnlyAdmin
from portal.change_notices.admin_send import notice_send_view
from portal.change_notices.kinds import kind_label, kinds
from portal.change_notices.models import ChangeNotice
from portal.change_notices.services import change_notice_may_issue
from portal.documents.kinds import KindFilter as _KindFilter


class NoticeKindFilter(_KindFilter):
    """The filter over the declared change-notice kinds, by label."""

    def lookups(self, request, model_admin):
        return [(kind.code, kind.label) for kind in kinds]


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(ReadOnlyAdmin):
    list_display = ("received_on", "title", "kind_display", "customer", "deadline", "decision",
                    "decided_by", "delivered_at", "first_seen_at")
    list_filter = (NoticeKindFilter, "decision", "deadline",
                   ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer", "decided_by")
    search_fields = ("title", "customer__name", "subject_id")
    date_hierarchy = "received_on"
    fields = ("customer", "kind_display", "title", "text", "subject_type", "subject_id",
              "window", "received_on", "effective_on", "deadline", "delivered_at",
              "first_seen_at", "decision", "decided_at", "decided_by", "reason", "created_at",
              "created_by")
    readonly_fields = ("kind_display",)
    show_full_result_count = False
    change_list_template = "admin/portal/changenotice/change_list.html"

    @admin.display(description=_("Art"), ordering="kind")
    def kind_display(self, obj: ChangeNotice) -> str:
        return kind_label(obj.kind)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {
            **(extra_context or {}), "may_send": change_notice_may_issue(request.user)})

    def get_urls(self):
        return [path("versenden/", self.admin_site.admin_view(self.send_view),
                     name=f"{self.opts.app_label}_{self.opts.model_name}_send"),
                *super().get_urls()]

    def send_view(self, request):
        return notice_send_view(self, request)
