"""Stored documents in the staff admin, read-only: which document of which customer, its
checksum and who made it; the file itself only through the tenant-checked download view
(the storage has no public URL)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin.base import ReadOnlyAdmin
from portal.documents.kinds import KindFilter, kind_label
from portal.documents.models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "title", "kind_display", "customer", "retain_until")
    list_filter = (KindFilter, "created_at", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("title", "filename", "kind", "customer__name", "sha256")
    date_hierarchy = "created_at"
    fields = ("created_at", "kind_display", "title", "customer", "download", "content_type", "size",
              "sha256", "created_by", "retain_until")
    readonly_fields = ("download", "kind_display")
    show_full_result_count = False

    @admin.display(description=_("Datei"))
    def download(self, obj: Document) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.filename)

    @admin.display(description=_("Art"), ordering="kind")
    def kind_display(self, obj: Document) -> str:
        return kind_label(obj.kind)
