"""Price changes in the staff admin: the plan's "Preisänderung ankündigen" view (form, then a
confirmation page with how many customers and the deadline), the announced changes with a link
to their notices per customer, and the special termination rights after an objection.

Thin over ``contracts.price_changes``; imported by ``contracts.admin`` for registration."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from contracts.models import Plan, PlanPriceChange, PriceChangeKind, SpecialTerminationOffer
from contracts.price_changes import (
    ANNOUNCING_ROLES,
    PRICE_NOTICE_KINDS,
    SUBJECT_TYPE,
    plan_price_change_announce,
    plan_price_change_preview,
    special_termination_exercise,
)
from portal.admin.base import ReadOnlyAdmin, run_service_action, service_refusal_on_form
from portal.change_notices.kinds import kind_label
from portal.http import client_ip
from portal.tenancy import role_of


class PriceChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Art"), choices=PriceChangeKind.choices)
    new_price = forms.DecimalField(label=_("neuer Nettopreis pro Monat (EUR)"), min_value=0,
                                   max_digits=10, decimal_places=2)
    effective_on = forms.DateField(label=_("wirksam ab"),
                                   widget=forms.DateInput(attrs={"type": "date"}))
    notice_kind = forms.ChoiceField(
        label=_("Mitteilung bei Erhöhung"), required=False,
        help_text=_("Preiserhöhung: 4 Wochen Widerspruchsfrist, höchstens eine je Quartal. "
                    "2 Monate: Ankündigung 2 Monate vorher, bei Widerspruch dürfen beide Seiten "
                    "mit 14 Tagen zum Änderungstag kündigen."))
    note = forms.CharField(label=_("Hinweis für die Kunden"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notice_kind"].choices = [(code, kind_label(code))
                                              for code in PRICE_NOTICE_KINDS]


def plan_price_change_view(model_admin, request, object_id):
    """Step 1: the form; step 2 (``preview``): the confirmation page; step 3 (``confirmed``):
    ``plan_price_change_announce``, back to the plan."""
    plan = get_object_or_404(Plan, pk=object_id)
    if not model_admin.has_change_permission(request, plan) or \
            role_of(request.user) not in ANNOUNCING_ROLES:
        raise PermissionDenied
    form = PriceChangeForm(request.POST or None,
                           initial={"kind": PriceChangeKind.INCREASE,
                                    "new_price": plan.monthly_price})
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("confirmed") == "yes":
                change = plan_price_change_announce(
                    actor=request.user, plan=plan, new_price=data["new_price"],
                    effective_on=data["effective_on"], kind=data["kind"],
                    notice_kind=data["notice_kind"], note=data["note"])
                model_admin.message_user(request, gettext(
                    "Die Preisänderung von %(plan)s zum %(day)s ist angekündigt.") % {
                    "plan": plan.name, "day": change.effective_on.strftime("%d.%m.%Y")},
                    messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:contracts_planpricechange_changelist")
                                            + "?" + urlencode({"plan__id__exact": plan.pk}))
            preview = plan_price_change_preview(
                plan=plan, new_price=data["new_price"], effective_on=data["effective_on"],
                kind=data["kind"], notice_kind=data["notice_kind"])
        except PermissionDenied as exc:
            model_admin.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            service_refusal_on_form(form, exc)
    return TemplateResponse(request, "admin/contracts/plan/price_change.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts, "original": plan, "plan": plan, "form": form,
        "preview": preview, "title": gettext("Preisänderung ankündigen"),
        "notice_kind_label": kind_label(preview.notice_kind) if preview and
        preview.notice_kind else "",
    })


def notices_url(change: PlanPriceChange) -> str:
    """The change-notice admin filtered to the notices of ``change`` (state per customer)."""
    return reverse("admin:portal_changenotice_changelist") + "?" + urlencode(
        {"subject_type": SUBJECT_TYPE, "subject_id": change.pk})


@admin.register(PlanPriceChange)
class PlanPriceChangeAdmin(ReadOnlyAdmin):
    list_display = ("plan", "kind", "old_price", "new_price", "effective_on", "announced_on",
                    "deadline", "state", "notices_link")
    list_filter = ("kind", "state", ("plan", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("plan",)
    search_fields = ("plan__name", "plan__code")
    date_hierarchy = "effective_on"
    exclude = ("announced_by",)
    readonly_fields = ("notices_link",)
    show_full_result_count = False

    def get_queryset(self, request):
        # The catalogue belongs to nobody: no tenant scoping (only provider roles may view).
        return admin.ModelAdmin.get_queryset(self, request)

    @admin.display(description=_("Mitteilungen je Kunde"))
    def notices_link(self, obj: PlanPriceChange) -> str:
        if obj.kind != PriceChangeKind.INCREASE:
            return "–"
        return format_html('<a href="{}">{}</a>', notices_url(obj), gettext("anzeigen"))


@admin.register(SpecialTerminationOffer)
class SpecialTerminationOfferAdmin(ReadOnlyAdmin):
    list_display = ("customer", "price_change", "offered_on", "customer_may_terminate",
                    "exercised_at", "end")
    list_filter = ("customer_may_terminate", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer", "price_change__plan")
    search_fields = ("customer__name", "price_change__plan__name")
    exclude = ("exercised_by",)
    actions = ("exercise",)
    show_full_result_count = False

    def has_exercise_permission(self, request) -> bool:
        return (request.user.has_perm("contracts.view_specialterminationoffer")
                and role_of(request.user) in ANNOUNCING_ROLES)

    @admin.action(description=_("Sonderkündigung ausüben"), permissions=["exercise"])
    def exercise(self, request, queryset):
        return run_service_action(
            self, request, queryset.select_related("customer"), action_name="exercise",
            title=gettext("Sonderkündigung ausüben"),
            question=gettext("Die Leistungen, für die nach dem Widerspruch die bisherigen "
                             "Preise gelten, werden außerordentlich gekündigt. Fortfahren?"),
            service=lambda offer: special_termination_exercise(
                actor=request.user, offer=offer, ip=client_ip(request)),
            done=ngettext_lazy("%(count)d Sonderkündigung ausgeübt.",
                               "%(count)d Sonderkündigungen ausgeübt.", "count"),
        )
