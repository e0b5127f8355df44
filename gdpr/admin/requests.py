"""Data-subject requests in the staff admin (Art. 12, 15–21 DSGVO).

Thin over ``gdpr.services.requests``. The add form enters a request received by letter,
e-mail or otherwise (``dsr_create``); a request is never edited, its page offers the next
steps as their own pages, each a small form over its service: "Identität geprüft" (how),
"Bearbeitung beginnen", "Frist verlängern" (reason), "abschließen" (outcome), "ablehnen"
(reason). The list shows the deadline in force and flags overdue requests (annotated by
``gdpr.selectors.requests.with_due``, no query per row).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import OPEN_STATES, DataSubjectRequest, RequestKind, RequestState
from gdpr.selectors.requests import requests_visible, with_due
from gdpr.services.erasure import dsr_erase, erasure_preview, erasure_refusal
from gdpr.services.exports import (
    EXPORT_HANDLER_ROLES,
    EXPORTABLE_STATES,
    export_downloadable,
    person_export_start,
)
from gdpr.services.requests import (
    dsr_close,
    dsr_closes_by_hand,
    dsr_create,
    dsr_extend,
    dsr_identity_checked,
    dsr_may_handle,
    dsr_refuse,
    dsr_require_received_on,
    dsr_start,
)
from portal.admin.base import ServiceAddMixin, TenantScopedAdmin, service_refusal_on_form
from portal.http import client_ip
from portal.models import User
from portal.tenancy import role_of

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEXT = forms.Textarea(attrs={"rows": 4})


class RequestAddForm(forms.ModelForm):
    """What was received; the service sets the deadline, the organisation and the state."""

    class Meta:
        model = DataSubjectRequest
        fields = ("kind", "channel", "received_on", "requester_name", "requester_email",
                  "subject", "details")
        widgets = {"received_on": _DATE}
        help_texts = {"subject": _("Leer lassen: das Konto wird über die E-Mail-Adresse "
                                   "gesucht; ohne Treffer bleibt die Anfrage ohne Konto.")}

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        try:
            dsr_require_received_on(received_on)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return received_on


class IdentityForm(forms.Form):
    how = forms.CharField(label=_("Wie wurde die Identität geprüft?"), widget=_TEXT)


class StartForm(forms.Form):
    pass


class ExtendForm(forms.Form):
    reason = forms.CharField(label=_("Grund der Verlängerung"), widget=_TEXT,
                             help_text=_("Der Antragsteller erhält ihn per E-Mail."))


class CloseForm(forms.Form):
    outcome = forms.CharField(label=_("Ergebnis"), widget=_TEXT)


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Grund der Ablehnung"), widget=_TEXT)


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Ich habe die Übersicht geprüft; die Löschung ist endgültig."), required=True)


@dataclass(frozen=True)
class Step:
    """One next step on a request's page: its URL part, title, form and service call."""

    slug: str
    title: str
    form: type[forms.Form]
    states: tuple[str, ...]
    service: object  # (actor, request, cleaned_data) -> request
    done: str
    kinds: tuple[str, ...] = tuple(RequestKind)  # the kinds of request it belongs to


STEPS = (
    Step("identitaet", _("Identität geprüft"), IdentityForm, (RequestState.RECEIVED,),
         lambda actor, request, data: dsr_identity_checked(actor=actor, request=request,
                                                           how=data["how"]),
         _("Die Identitätsprüfung ist vermerkt.")),
    Step("beginnen", _("Bearbeitung beginnen"), StartForm, (RequestState.IDENTITY_CHECKED,),
         lambda actor, request, data: dsr_start(actor=actor, request=request),
         _("Die Anfrage ist in Bearbeitung.")),
    Step("verlaengern", _("Frist verlängern"), ExtendForm, OPEN_STATES,
         lambda actor, request, data: dsr_extend(actor=actor, request=request,
                                                 reason=data["reason"]),
         _("Die Frist ist verlängert; der Antragsteller wird per E-Mail informiert.")),
    Step("abschliessen", _("Abschließen"), CloseForm, OPEN_STATES,
         lambda actor, request, data: dsr_close(actor=actor, request=request,
                                                outcome=data["outcome"]),
         _("Die Anfrage ist abgeschlossen.")),
    Step("loeschen", _("Löschung ausführen"), EraseForm, (RequestState.IN_PROGRESS,),
         lambda actor, request, data: dsr_erase(actor=actor, request=request),
         _("Die Löschung ist ausgeführt; das Ergebnis je Eintrag steht bei der Anfrage."),
         kinds=(RequestKind.ERASURE,)),
    Step("ablehnen", _("Ablehnen"), RefuseForm, OPEN_STATES,
         lambda actor, request, data: dsr_refuse(actor=actor, request=request,
                                                 reason=data["reason"]),
         _("Die Anfrage ist abgelehnt.")),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def _may_extend(obj: DataSubjectRequest) -> bool:
    """Whether to offer the extension (the service decides): not yet extended and the first
    month still running."""
    return obj.extended_deadline is None and timezone.localdate() <= obj.deadline


class OverdueFilter(admin.SimpleListFilter):
    title = _("Frist")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("überfällig")), ("open", _("offen, nicht überfällig"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(state__in=OPEN_STATES, overdue=True)
        if self.value() == "open":
            return queryset.filter(state__in=OPEN_STATES, overdue=False)
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ServiceAddMixin, TenantScopedAdmin):
    add_service = staticmethod(dsr_create)
    form = RequestAddForm
    list_display = ("kind", "requester_name", "received_on", "due_display", "state",
                    "overdue_badge", "customer")
    list_filter = ("state", OverdueFilter, "kind", "channel", "received_on")
    list_select_related = ("customer",)
    autocomplete_fields = ("subject",)
    search_fields = ("requester_name", "requester_email", "subject__email", "customer__name")
    date_hierarchy = "received_on"
    ordering = ("deadline", "pk")
    readonly_fields = ("due_display", "overdue_badge", "deadline", "extended_deadline",
                       "extension_reason", "identity_check", "state", "outcome", "customer",
                       "created_at", "created_by", "closed_at", "reminded_7_days_at",
                       "reminded_1_day_at")
    change_form_template = "admin/gdpr/datasubjectrequest/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        return with_due(requests_visible(request.user), timezone.localdate())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "subject":
            kwargs["queryset"] = User.objects.visible_to(request.user).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        fields = RequestAddForm.Meta.fields
        return fields if obj is None else (*fields, *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else tuple(self.get_fields(request, obj))

    def has_add_permission(self, request) -> bool:
        return dsr_may_handle(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # A request is never edited; its steps are the pages below.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Frist (geltend)"), ordering="due")
    def due_display(self, obj: DataSubjectRequest):
        return getattr(obj, "due", None) or obj.due_on

    @admin.display(description=_("überfällig"), ordering="overdue")
    def overdue_badge(self, obj: DataSubjectRequest) -> str:
        if obj.state not in OPEN_STATES:
            return "–"
        if getattr(obj, "overdue", False):
            return format_html('<span class="badge badge--bad">{}</span>', gettext("überfällig"))
        days = obj.time_left.days if getattr(obj, "time_left", None) is not None else 0
        return format_html('<span class="badge badge--ok">{}</span>', ngettext(
            "noch %(days)d Tag", "noch %(days)d Tage", days) % {"days": days})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        steps = []
        if obj is not None and dsr_may_handle(request.user):
            steps = [step for step in STEPS if obj.state in step.states
                     and obj.kind in step.kinds
                     and not (step.slug == "verlaengern" and not _may_extend(obj))
                     and not (step.slug == "abschliessen" and not dsr_closes_by_hand(obj))]
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "steps": steps, **self._exports_context(request, obj)})

    def _exports_context(self, request, obj) -> dict:
        """The exports that answer an access request, each with whether this person may
        download it, and whether a new one can be started now."""
        if obj is None or obj.kind != RequestKind.ACCESS:
            return {}
        exports = [(export, export_downloadable(request.user, export))
                   for export in obj.exports.order_by("-created_at", "-pk")]
        may_start = (obj.subject_id is not None and role_of(request.user) in EXPORT_HANDLER_ROLES
                     and obj.state in EXPORTABLE_STATES)
        return {"exports": exports, "may_start_export": may_start}

    def get_urls(self):
        return [path("<path:object_id>/schritt/<slug:step>/",
                     self.admin_site.admin_view(self.step_view),
                     name="gdpr_datasubjectrequest_step"),
                path("<path:object_id>/datenkopie/",
                     self.admin_site.admin_view(self.export_view),
                     name="gdpr_datasubjectrequest_export"), *super().get_urls()]

    def export_view(self, request, object_id):
        """Start the export that answers an access request (POST only; the job runs after
        the commit, the request's page shows its progress and the download)."""
        if request.method != "POST":
            raise PermissionDenied
        dsr = get_object_or_404(self.get_queryset(request), pk=object_id)
        try:
            person_export_start(actor=request.user, request=dsr, ip=client_ip(request))
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, gettext(
                "Die Datenkopie wird erstellt; diese Seite zeigt sie, sobald sie fertig ist."),
                messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:gdpr_datasubjectrequest_change",
                                            args=[dsr.pk]))

    def step_view(self, request, object_id, step):
        """One next step: its form, then its service; a refusal shows on the form."""
        if not dsr_may_handle(request.user) or step not in STEP_BY_SLUG:
            raise PermissionDenied
        step = STEP_BY_SLUG[step]
        dsr = get_object_or_404(self.get_queryset(request), pk=object_id)
        if dsr.kind not in step.kinds:
            raise PermissionDenied
        form = step.form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                step.service(request.user, dsr, form.cleaned_data)
            except ValidationError as exc:
                service_refusal_on_form(form, exc)
            else:
                self.message_user(request, str(step.done), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:gdpr_datasubjectrequest_change",
                                                    args=[dsr.pk]))
        return TemplateResponse(request, "admin/gdpr/datasubjectrequest/step.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(step.title),
            "dsr": dsr,
            "form": form,
            **({"erasure_preview": erasure_preview(dsr.subject),
                "erasure_refusal": erasure_refusal(dsr.subject, customer=dsr.customer)}
               if step.slug == "loeschen" and dsr.subject_id else {}),
        })
