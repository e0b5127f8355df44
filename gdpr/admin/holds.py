"""Legal holds in the staff admin (issue 11 item 5).

Thin over ``gdpr.services.holds``. The DPO places a hold with the add form ("Sperre
anordnen": the customer, optionally one record of a registry entry, the reason; the service
creates it) and releases it on the hold's page ("Sperre aufheben": a form with the reason,
``legal_hold_release``). A hold is never edited or deleted. The provider admin reads the list
(without the holds of purged customers, which only the DPO sees, portal/tenancy.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gdpr.models import LegalHold
from gdpr.selectors.holds import holds_visible
from gdpr.services.holds import (
    legal_hold_may_manage,
    legal_hold_place,
    legal_hold_release,
    legal_hold_require_record,
)
from portal.admin.base import ServiceAddMixin, TenantScopedAdmin, service_refusal_on_form
from portal.models import Organisation
from portal.privacy import entries
from portal.roles import OrganisationKind

_TEXT = forms.Textarea(attrs={"rows": 4})


def _store_choices() -> list[tuple[str, str]]:
    """The registry entries that have rows of a customer and can be held row by row
    (``holdable``), by their German plural name."""
    choices = [(entry.model, f"{entry.model_class._meta.verbose_name_plural} ({entry.model})")
               for entry in entries if entry.customer is not None and entry.holdable]
    return [("", _("– alle Daten des Kunden –")), *sorted(choices, key=lambda c: c[1].lower())]


class HoldAddForm(forms.ModelForm):
    """What to hold and why; the service checks the record and writes the audit event."""

    model_label = forms.ChoiceField(label=_("Datenbestand"), required=False, choices=(),
                                    help_text=_("Leer: die Löschung aller Daten des Kunden "
                                                "ist angehalten."))

    class Meta:
        model = LegalHold
        fields = ("customer", "model_label", "object_id", "reason")
        widgets = {"reason": _TEXT}
        help_texts = {"object_id": _("Nur mit einem Datenbestand: die ID des Datensatzes, "
                                     "dessen Löschung angehalten wird.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "model_label" in self.fields:  # not on a hold's (read-only) page
            self.fields["model_label"].choices = _store_choices()

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        if customer is not None and not self.errors:
            try:
                legal_hold_require_record(customer, data.get("model_label", ""),
                                          data.get("object_id", ""))
            except ValidationError as exc:
                service_refusal_on_form(self, exc)
        return data


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Grund der Aufhebung"), widget=_TEXT)


class ActiveFilter(admin.SimpleListFilter):
    title = _("Stand")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("aktiv")), ("no", _("aufgehoben"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(released_at__isnull=self.value() == "yes")
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(ServiceAddMixin, TenantScopedAdmin):
    add_service = staticmethod(legal_hold_place)
    form = HoldAddForm
    list_display = ("customer", "scope", "placed_at", "placed_by", "state_badge")
    list_filter = (ActiveFilter, "placed_at")
    list_select_related = ("customer", "placed_by")
    search_fields = ("customer__name", "customer__customer_number", "model_label", "object_id")
    date_hierarchy = "placed_at"
    readonly_fields = ("customer", "model_label", "object_id", "reason", "placed_by",
                       "placed_at", "state_badge", "released_by", "released_at",
                       "release_reason")
    change_form_template = "admin/gdpr/legalhold/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        return holds_visible(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = (Organisation.objects.visible_to(request.user)
                                  .filter(kind=OrganisationKind.CUSTOMER).order_by("name"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        return HoldAddForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return legal_hold_may_manage(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # A hold is never edited; it is released on its own page.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Umfang"), ordering="model_label")
    def scope(self, obj: LegalHold) -> str:
        if not obj.model_label:
            return gettext("alle Daten des Kunden")
        return f"{obj.model_label} {obj.object_id}"

    @admin.display(description=_("Stand"), ordering="released_at")
    def state_badge(self, obj: LegalHold) -> str:
        if obj.is_active:
            return format_html('<span class="badge badge--warn">{}</span>', gettext("aktiv"))
        return gettext("aufgehoben am %(when)s") % {
            "when": date_format(timezone.localtime(obj.released_at), "SHORT_DATE_FORMAT")}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        may_release = obj is not None and obj.is_active and legal_hold_may_manage(request.user)
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "may_release": may_release})

    def get_urls(self):
        return [path("<path:object_id>/aufheben/", self.admin_site.admin_view(self.release_view),
                     name="gdpr_legalhold_release"), *super().get_urls()]

    def release_view(self, request, object_id):
        """Release a hold: the reason, then ``legal_hold_release``; a refusal shows on the
        form."""
        if not legal_hold_may_manage(request.user):
            raise PermissionDenied
        hold = get_object_or_404(self.get_queryset(request).select_related("customer"),
                                 pk=object_id)
        form = ReleaseForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                legal_hold_release(actor=request.user, hold=hold, reason=form.cleaned_data[
                    "reason"])
            except ValidationError as exc:
                service_refusal_on_form(form, exc)
            else:
                self.message_user(request, gettext(
                    "Die Aufbewahrungssperre ist aufgehoben; der nächste tägliche Löschlauf "
                    "holt nach, was sie angehalten hat, sofern keine andere Sperre dieselben "
                    "Daten hält."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:gdpr_legalhold_change",
                                                    args=[hold.pk]))
        return TemplateResponse(request, "admin/gdpr/legalhold/release.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Sperre aufheben"),
            "hold": hold,
            "form": form,
        })
