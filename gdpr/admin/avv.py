"""The AVV in the staff admin: versions with their TOMs (edited inline while a draft, read-only
once published), publishing and "new draft from this version" as confirmed actions for the
provider admin, and the customers' acceptances read-only (tenant-scoped, so partner support
sees its customers' state) with the coverage list per customer."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gdpr.admin.dpo import coverage_view
from gdpr.avv import avv_text_of
from gdpr.models import AvvAcceptance, AvvVersion, TomMeasure
from gdpr.services.avv import avv_version_draft_from, avv_version_publish, current_avv
from portal.admin.base import ReadOnlyAdmin, TenantScopedAdmin, run_service_action
from portal.roles import Role
from portal.tenancy import role_of


def _is_provider_admin(request) -> bool:
    return role_of(request.user) == Role.PROVIDER_ADMIN


class TomMeasureInline(admin.TabularInline):
    model = TomMeasure
    fields = ("category", "order", "text", "text_en")
    extra = 0
    ordering = ("category", "order", "id")

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_published

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class DraftLabelForm(forms.Form):
    label = forms.CharField(label=_("Bezeichnung des neuen Entwurfs"), max_length=32,
                            help_text=_("z. B. 2027-1"))


@admin.register(AvvVersion)
class AvvVersionAdmin(TenantScopedAdmin):
    list_display = ("label", "status", "is_current", "published_at", "published_by",
                    "acceptance_count")
    list_filter = ("status",)
    list_select_related = ("published_by",)
    search_fields = ("label", "sha256")
    inlines = (TomMeasureInline,)
    actions = ("publish", "draft_from")
    readonly_fields = ("status", "published_at", "published_by", "sha256", "text_preview")

    def get_queryset(self, request):
        # The AVV is the same for everyone who may see it: no tenant scoping.
        return admin.ModelAdmin.get_queryset(self, request).annotate(
            acceptances_n=Count("acceptances"))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("label",)
        return ("label", "status", "published_at", "published_by", "sha256", "text_preview")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return ("label", *self.readonly_fields)
        return self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # A published version is shown, never edited (the database refuses it as well).
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_publish_permission(self, request) -> bool:
        return _is_provider_admin(request)

    def has_draft_permission(self, request) -> bool:
        return _is_provider_admin(request) and self.has_add_permission(request)

    @admin.display(description=_("aktuell"), boolean=True)
    def is_current(self, obj: AvvVersion) -> bool:
        current = getattr(self, "_current", None)
        return current is not None and current.pk == obj.pk

    @admin.display(description=_("Annahmen"), ordering="acceptances_n")
    def acceptance_count(self, obj: AvvVersion) -> int:
        return obj.acceptances_n

    @admin.display(description=_("Text"))
    def text_preview(self, obj: AvvVersion) -> str:
        if obj.pk is None:
            return "–"
        return format_html('<div class="avv-preview">{}</div>', avv_text_of(obj))

    def changelist_view(self, request, extra_context=None):
        self._current = current_avv()  # one query for the "aktuell" column, not one per row
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Ausgewählte Entwürfe veröffentlichen"),
                  permissions=["publish"])
    def publish(self, request, queryset):
        return run_service_action(
            self, request, queryset, title=_("AVV-Version veröffentlichen"),
            question=_("Veröffentlichen friert Text, TOMs und Prüfsumme ein; danach müssen "
                       "alle Administratoren der Kunden die neue Version annehmen. "
                       "Veröffentlichen?"),
            service=lambda version: avv_version_publish(actor=request.user, version=version),
            done=_("%(count)d Version(en) veröffentlicht."), action_name="publish",
            refusal=lambda version: (_("bereits veröffentlicht") if version.is_published
                                     else None))

    @admin.action(description=_("Neuen Entwurf aus dieser Version anlegen"),
                  permissions=["draft"])
    def draft_from(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Bitte genau eine Version auswählen."),
                              messages.WARNING)
            return None
        return run_service_action(
            self, request, queryset, title=_("Neuer AVV-Entwurf"),
            question=_("Der Entwurf übernimmt die TOMs dieser Version; Sie bearbeiten sie "
                       "und veröffentlichen ihn dann als neue Version."),
            service=lambda version, data: avv_version_draft_from(
                actor=request.user, source=version, label=data["label"]),
            done=_("Entwurf angelegt."), action_name="draft_from", form_class=DraftLabelForm)


@admin.register(AvvAcceptance)
class AvvAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("accepted_at", "customer", "version", "person", "ip")
    list_filter = ("version", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer", "version", "person")
    search_fields = ("customer__name", "person__email", "version__label", "sha256")
    date_hierarchy = "accepted_at"
    fields = ("customer", "version", "person", "accepted_at", "ip", "user_agent", "sha256")
    show_full_result_count = False

    def get_urls(self):
        return [path("je-kunde/", self.admin_site.admin_view(coverage_view(self.admin_site)),
                     name="gdpr_avv_coverage"), *super().get_urls()]
