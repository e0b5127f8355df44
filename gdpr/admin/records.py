"""The register of processing activities in the staff admin (Art. 30 DSGVO).

Read-only for everybody: the records are generated (gdpr/services/records.py), so nobody
edits them here. The DPO (and the provider admin) records a review on a record's page
("Prüfung erfassen", a form over ``processing_review_record``); both download the whole
register as PDF, XLSX or CSV from the list; the provider admin regenerates the register with
the button "Verzeichnisse erzeugen" (a button, not a list action: it also works while the list
is still empty, and it always covers the whole register).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gdpr.models import ProcessingRecord, ProcessingReview, ReviewOutcome
from gdpr.records import retention_text
from gdpr.register_export import FORMATS, register_export
from gdpr.selectors.records import records_visible
from gdpr.services.records import (
    processing_records_generate_all,
    processing_records_may_generate,
    processing_register_export_record,
    processing_register_may_export,
    processing_review_may_record,
    processing_review_record,
)
from portal.admin.base import ReadOnlyAdmin, service_refusal_on_form
from portal.http import client_ip


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = _("Prüfung")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("überfällig")), ("current", _("nicht überfällig"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(review_overdue=True)
        if self.value() == "current":
            return queryset.filter(review_overdue=False)
        return queryset


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("geprüft am"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))
    outcome = forms.ChoiceField(label=_("Ergebnis"), choices=ReviewOutcome.choices)
    notes = forms.CharField(label=_("Vermerk"), required=False, widget=forms.Textarea(
        attrs={"rows": 4}))


class ProcessingReviewInline(admin.TabularInline):
    model = ProcessingReview
    fields = ("reviewed_on", "outcome", "notes", "reviewer", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("reviewer")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProcessingRecord)
class ProcessingRecordAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "customer", "last_review", "next_review_due",
                    "overdue_badge", "is_active")
    list_filter = (ReviewOverdueFilter, "kind", "is_active")
    list_select_related = ("customer", "tom_version")
    search_fields = ("name", "customer__name", "customer__customer_number")
    inlines = (ProcessingReviewInline,)
    fieldsets = (
        (None, {"fields": ("kind", "customer", "name", "is_active")}),
        (_("Inhalt (Art. 30 DSGVO)"), {"fields": (
            "purposes", "legal_basis", "data_categories", "subject_categories", "recipients",
            "third_country_transfers", "retention_from_registry", "tom_version", "services")}),
        (_("Prüfung"), {"fields": ("next_review_due", "generated_at", "created_at")}),
    )
    readonly_fields = ("kind", "customer", "name", "is_active", "purposes", "legal_basis",
                       "data_categories", "subject_categories", "recipients",
                       "third_country_transfers", "retention_from_registry", "tom_version",
                       "services", "next_review_due", "generated_at", "created_at")
    change_list_template = "admin/gdpr/processingrecord/change_list.html"
    change_form_template = "admin/gdpr/processingrecord/change_form.html"

    def get_queryset(self, request):
        # records_visible goes through ProcessingRecord.objects.visible_to(request.user).
        return records_visible(request.user, timezone.localdate())

    @admin.display(description=_("letzte Prüfung"), ordering="last_reviewed_on")
    def last_review(self, obj: ProcessingRecord):
        return obj.last_reviewed_on or "–"

    @admin.display(description=_("überfällig"), ordering="review_overdue")
    def overdue_badge(self, obj: ProcessingRecord):
        if not obj.review_overdue:
            return "–"
        return format_html('<span class="badge badge--warn">{}</span>', gettext("überfällig"))

    @admin.display(description=_("Löschfristen (Datenschutz-Register)"))
    def retention_from_registry(self, obj: ProcessingRecord) -> str:
        text = retention_text(obj.retention_entries) if obj.retention_entries else obj.retention
        return format_html("<div style='white-space: pre-line'>{}</div>", text)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {
            **(extra_context or {}),
            "may_export": processing_register_may_export(request.user),
            "may_generate": processing_records_may_generate(request.user),
            "export_formats": FORMATS,
        })

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}),
            "may_review": processing_review_may_record(request.user),
        })

    # --- extra pages --------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("export/<slug:file_format>/", wrap(self.export_view),
                 name=f"{prefix}_export"),
            path("generate/", wrap(self.generate_view), name=f"{prefix}_generate"),
            path("<path:object_id>/review/", wrap(self.review_view), name=f"{prefix}_review"),
            *super().get_urls(),
        ]

    def export_view(self, request, file_format: str):
        """The whole active register as a file (provider roles only), audited."""
        if not processing_register_may_export(request.user):
            raise PermissionDenied
        if file_format not in FORMATS:
            raise Http404
        exported = register_export(request.user, file_format)
        processing_register_export_record(actor=request.user, file_format=file_format,
                                          count=exported.count, ip=client_ip(request))
        response = HttpResponse(exported.content, content_type=exported.content_type)
        response["Content-Disposition"] = content_disposition_header(True, exported.file_name)
        return response

    def generate_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not processing_records_may_generate(request.user):
            raise PermissionDenied
        counts = processing_records_generate_all(actor=request.user)
        self.message_user(request, gettext(
            "Verzeichnis erzeugt: %(controller)d eigene Verarbeitungen, %(processor)d "
            "Verarbeitungen im Auftrag geprüft.") % counts, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:gdpr_processingrecord_changelist"))

    def review_view(self, request, object_id):
        """Record a review of one record (form → ``processing_review_record``)."""
        if not processing_review_may_record(request.user):
            raise PermissionDenied
        record = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = ReviewForm(request.POST or None,
                          initial={"reviewed_on": timezone.localdate(),
                                   "outcome": ReviewOutcome.UNCHANGED})
        if request.method == "POST" and form.is_valid():
            try:
                processing_review_record(actor=request.user, record=record, **form.cleaned_data)
            except ValidationError as exc:
                service_refusal_on_form(form, exc)
            else:
                self.message_user(request, gettext(
                    "Prüfung von „%(name)s“ erfasst.") % {"name": record.name},
                    messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:gdpr_processingrecord_change",
                                                    args=[record.pk]))
        return TemplateResponse(request, "admin/gdpr/processingrecord/review.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Prüfung erfassen"),
            "record": record,
            "form": form,
        })


@admin.register(ProcessingReview)
class ProcessingReviewAdmin(ReadOnlyAdmin):
    list_display = ("record", "reviewed_on", "outcome", "reviewer", "created_at")
    list_filter = ("outcome", "record__kind")
    list_select_related = ("record", "record__customer", "reviewer")
    search_fields = ("record__name", "record__customer__name", "notes")
    date_hierarchy = "reviewed_on"
