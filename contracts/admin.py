"""The service catalogue, framework contracts and bookings in the staff admin.

Thin over ``contracts.services``: contracts change only through services (ISA date and terms
version, extraordinary termination); bookings are read-only here except for their removal,
which is the cancellation and goes through ``booking_remove``.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from contracts.models import Booking, BookingState, Contract, Plan
from contracts.services import (
    BOOKING_ROLES,
    booking_remove,
    contract_record_isa,
    contract_terminate_extraordinary,
)
from portal.admin.base import ReadOnlyAdmin, TenantScopedAdmin, run_service_action
from portal.http import client_ip
from portal.selectors import person_label, person_visible
from portal.tenancy import role_of

# --- Catalogue --------------------------------------------------------------------------------


@admin.register(Plan)
class PlanAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "family", "tier", "unit", "monthly_price", "is_active")
    list_filter = ("family", "is_active", "unit")
    search_fields = ("code", "name", "tier")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {
            "fields": ("code", "name", "family", "tier", "unit", "monthly_price",
                       "billing_mode", "requires_isa", "features", "sort_order", "is_active"),
            "description": _("Änderungen am Katalog gelten nur für neue Buchungen. Bestehende "
                             "Buchungen behalten Preis, Bezeichnung und Kündigungsregeln, die "
                             "bei ihrer Buchung galten (Momentaufnahme). Den Preis einer "
                             "gebuchten Leistung ändert „Preisänderung ankündigen“ (oben): "
                             "mit Änderungsmitteilung und Widerspruchsfrist."),
        }),
        (_("Kündigungsregeln (Kunde)"), {
            "fields": ("min_term", "renewal", "notice", "notice_anchor", "cap_at_term_length"),
            "description": _("Fristen wie 15d, 4w, 3m oder 12m. Auch diese Regeln gelten nur "
                             "für neue Buchungen."),
        }),
        (_("Kündigung durch den Anbieter"), {
            "fields": ("provider_notice", "provider_notice_anchor"),
        }),
        (_("Protokoll"), {"fields": ("created_at", "updated_at")}),
    )

    change_form_template = "admin/contracts/plan/change_form.html"

    def get_queryset(self, request):
        # The catalogue is the same for everyone who may see it: no tenant scoping.
        return admin.ModelAdmin.get_queryset(self, request)

    def get_readonly_fields(self, request, obj=None):
        # A booked plan's price changes only by an announced price change (DOMAIN § 4).
        if obj is not None and obj.bookings.exists():
            return (*self.readonly_fields, "monthly_price")
        return self.readonly_fields

    def get_urls(self):
        from contracts.price_admin import plan_price_change_view

        view = self.admin_site.admin_view(
            lambda request, object_id: plan_price_change_view(self, request, object_id))
        return [path("<path:object_id>/preisaenderung/", view,
                     name="contracts_plan_price_change"), *super().get_urls()]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Plans behind bookings stay; a plan that is no longer offered is made "not bookable".
        return False


# --- Framework contracts ----------------------------------------------------------------------


class TerminationForm(forms.Form):
    end = forms.DateField(label=_("Vertragsende"), widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("Letzter Tag, an dem die Leistungen erbracht werden."))
    reason = forms.CharField(label=_("Grund"), widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("Der wichtige Grund der außerordentlichen Kündigung; er "
                                         "wird im Protokoll festgehalten."))

    def clean_end(self):
        end = self.cleaned_data["end"]
        if end < timezone.localdate():
            raise ValidationError(_("Das Vertragsende darf nicht in der Vergangenheit liegen."))
        return end


class ContractAdminForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ("isa_completed_on", "terms_version")

    def clean_isa_completed_on(self):
        day = self.cleaned_data["isa_completed_on"]
        if day is not None and day > timezone.localdate():
            raise ValidationError(_("Das Datum der Infrastrukturanalyse darf nicht in der "
                                    "Zukunft liegen."))
        return day


@admin.register(Contract)
class ContractAdmin(TenantScopedAdmin):
    form = ContractAdminForm
    list_display = ("customer", "start", "status", "effective_end", "purge_on",
                    "isa_completed_on")
    list_filter = ("status", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("customer__name",)
    editable_fields = ("isa_completed_on", "terms_version")
    fieldsets = (
        (None, {"fields": ("customer", "start", "status", "terms_version")}),
        (_("Infrastrukturanalyse"), {
            "fields": ("isa_completed_on",),
            "description": _("Server Management Plus und Premium sind erst buchbar, wenn die "
                             "Infrastrukturanalyse (ISA) erfasst ist."),
        }),
        (_("Kündigung"), {"fields": ("cancellation_received", "cancelled_by_name",
                                     "extraordinary", "cancellation_reason", "effective_end",
                                     "purge_on")}),
        (_("Protokoll"), {"fields": ("created_at", "updated_at")}),
    )
    actions = ("terminate_extraordinary",)

    def get_readonly_fields(self, request, obj=None):
        return [*(field.name for field in Contract._meta.fields
                  if field.name not in (*self.editable_fields, "id", "cancelled_by")),
                "cancelled_by_name"]

    @admin.display(description=_("gekündigt von"))
    def cancelled_by_name(self, obj: Contract) -> str:
        return getattr(obj, "cancelled_by_label", "–")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:  # partner support must not learn who at the provider cancelled
            obj.cancelled_by_label = person_label(request.user, obj.cancelled_by)
        return obj

    def has_add_permission(self, request) -> bool:
        # A contract is opened by the first booking.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = contract_record_isa(actor=request.user, contract=obj,
                                    isa_completed_on=form.cleaned_data.get("isa_completed_on"),
                                    terms_version=form.cleaned_data.get("terms_version"),
                                    ip=client_ip(request))
        for field in Contract._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def log_change(self, request, obj, message):
        # The service wrote the audit event already; keep only Django's admin log entry.
        return admin.ModelAdmin.log_change(self, request, obj, message)

    @admin.action(description=_("außerordentlich kündigen"), permissions=["change"])
    def terminate_extraordinary(self, request, queryset):
        """Confirmation page with end date and reason, then ``contract_terminate_extraordinary``
        for the one selected contract."""
        contracts = list(queryset[:2])
        if len(contracts) != 1:
            self.message_user(request, gettext("Bitte wählen Sie genau einen Rahmenvertrag."),
                              messages.WARNING)
            return None
        contract = contracts[0]
        confirmed = request.POST.get("confirmed") == "yes"
        form = TerminationForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            try:
                contract_terminate_extraordinary(
                    actor=request.user, contract=contract, end=form.cleaned_data["end"],
                    reason=form.cleaned_data["reason"], ip=client_ip(request))
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, problems in exc.message_dict.items():
                        form.add_error(name if name in form.fields else None, problems)
                else:
                    form.add_error(None, exc.messages)
            else:
                self.message_user(request, gettext(
                    "Der Rahmenvertrag von %(customer)s endet außerordentlich am %(end)s.")
                    % {"customer": contract.customer,
                       "end": form.cleaned_data["end"].strftime("%d.%m.%Y")},
                    messages.SUCCESS)
                return None
        running = contract.bookings.filter(state__in=BookingState.RUNNING).count()
        return TemplateResponse(request, "admin/contracts/contract/terminate.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Rahmenvertrag außerordentlich kündigen"),
            "contract": contract,
            "running": running,
            "form": form,
            "action_name": "terminate_extraordinary",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


# --- Bookings ---------------------------------------------------------------------------------


class EndingWithinFilter(admin.SimpleListFilter):
    title = _("endet in")
    parameter_name = "ending_within"

    def lookups(self, request, model_admin):
        return [("30", _("den nächsten 30 Tagen")), ("90", _("den nächsten 90 Tagen"))]

    def queryset(self, request, queryset):
        if self.value() in ("30", "90"):
            today = timezone.localdate()
            return queryset.filter(state=BookingState.ENDING, effective_end__gte=today,
                                   effective_end__lte=today + timedelta(days=int(self.value())))
        return queryset


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("customer", "device", "plan_name", "monthly_price", "state", "active_from",
                    "min_term_end", "effective_end", "booked_by_name", "on_behalf")
    list_filter = ("state", "family", ("plan", admin.RelatedOnlyFieldListFilter),
                   ("customer", admin.RelatedOnlyFieldListFilter), EndingWithinFilter)
    list_select_related = ("customer", "device", "booked_by")
    search_fields = ("device__hostname", "device__serial_number", "customer__name")
    exclude = ("booked_by", "removed_by")
    readonly_fields = ("booked_by_name", "removed_by_name")
    actions = ("remove",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            booker_visible=person_visible(request.user, "booked_by_id"),
            remover_visible=person_visible(request.user, "removed_by_id"))

    @admin.display(description=_("gebucht von"), ordering="booked_by__last_name")
    def booked_by_name(self, obj: Booking) -> str:
        # Partner support must not learn who at the provider booked.
        return person_label(None, obj.booked_by, visible=obj.booker_visible)

    @admin.display(description=_("gekündigt von"))
    def removed_by_name(self, obj: Booking) -> str:
        return person_label(None, obj.removed_by, visible=obj.remover_visible)

    def has_remove_permission(self, request) -> bool:
        return (request.user.has_perm("contracts.view_booking")
                and role_of(request.user) in BOOKING_ROLES)

    @admin.action(description=_("Ausgewählte Leistungen entfernen (kündigen)"),
                  permissions=["remove"])
    def remove(self, request, queryset):
        return run_service_action(
            self, request, queryset.select_related("customer", "device"), action_name="remove",
            title=gettext("Leistungen entfernen"),
            question=gettext("Das Entfernen ist die Kündigung der Leistung. Jede Leistung endet "
                             "zum nächstmöglichen Termin nach ihren Kündigungsregeln und wird "
                             "bis dahin erbracht und berechnet. Fortfahren?"),
            service=lambda booking: booking_remove(actor=request.user, booking=booking,
                                                   ip=client_ip(request)),
            done=ngettext_lazy("%(count)d Leistung gekündigt.",
                               "%(count)d Leistungen gekündigt.", "count"),
        )


# The price-change admin (its own module, registered on import).
from contracts import price_admin  # noqa: E402, F401
