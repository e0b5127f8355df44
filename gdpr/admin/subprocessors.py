"""The sub-processor register and the objection cases in the staff admin (002 AVV §7).

Thin over ``gdpr.services.subprocessors``. A register row is never edited: the provider admin
adds one (the add form calls ``subprocessor_add``) and, on a row's page, changes, replaces or
ends it through its own pages ("ändern", "ersetzen", "beenden"): a form, then a confirmation
that says how many customers get a change notice and until when they can object, then the
service. The DPO and provider staff read the register. The objection cases are read-only
lists; the DPO (or a provider admin) closes a case on its page ("abschließen": result and
note, ``objection_case_resolve``).
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
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from gdpr.models import CaseResolution, ObjectionCase, SubProcessor
from gdpr.selectors.subprocessors import (
    RegisterState,
    register_state,
    register_state_filter,
    subprocessor_change_preview,
)
from gdpr.services.subprocessors import (
    CHANGEABLE_FIELDS,
    objection_case_may_resolve,
    objection_case_resolve,
    subprocessor_add,
    subprocessor_change,
    subprocessor_end,
    subprocessor_may_write,
    subprocessor_replace,
)
from portal.admin.base import (
    ReadOnlyAdmin,
    ServiceAddMixin,
    TenantScopedAdmin,
    service_refusal_on_form,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_STATE_BADGES = {RegisterState.IN_FORCE: "badge--ok", RegisterState.PENDING: "badge--warn",
                 RegisterState.ENDED: ""}


def _summary(form: forms.Form) -> list[tuple[str, str]]:
    """The valid form's values as the confirmation page shows them (labels of choices, German
    dates)."""
    rows = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if getattr(field, "choices", None):
            value = dict(field.choices).get(value, value)
        elif hasattr(value, "strftime"):
            value = value.strftime("%d.%m.%Y")
        rows.append((str(field.label), str(value or "–")))
    return rows


class SubProcessorForm(forms.ModelForm):
    """The add form; the service creates the row."""

    class Meta:
        model = SubProcessor
        fields = ("name", "service", "location", "country", "safeguard", "data_categories",
                  "valid_from")
        widgets = {"valid_from": _DATE}


class ChangeForm(forms.ModelForm):
    """What changes at the same company, from when."""

    class Meta:
        model = SubProcessor
        fields = (*CHANGEABLE_FIELDS, "valid_from")
        widgets = {"valid_from": _DATE}
        labels = {"valid_from": _("gilt ab")}


class ReplaceForm(forms.ModelForm):
    """The company that takes over, from when."""

    class Meta:
        model = SubProcessor
        fields = ("name", *CHANGEABLE_FIELDS, "valid_from")
        widgets = {"valid_from": _DATE}
        labels = {"name": _("Name des neuen Unterauftragsverarbeiters"),
                  "valid_from": _("übernimmt ab")}


class EndForm(forms.Form):
    valid_to = forms.DateField(label=_("eingesetzt bis einschließlich"), widget=_DATE)


class RegisterStateFilter(admin.SimpleListFilter):
    title = _("Stand")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return RegisterState.choices

    def queryset(self, request, queryset):
        if self.value() in RegisterState.values:
            return queryset.filter(register_state_filter(self.value(), timezone.localdate()))
        return queryset


@admin.register(SubProcessor)
class SubProcessorAdmin(ServiceAddMixin, TenantScopedAdmin):
    add_service = staticmethod(subprocessor_add)
    form = SubProcessorForm
    list_display = ("name", "service", "location", "country", "safeguard", "valid_from",
                    "valid_to", "state_badge", "predecessor")
    list_filter = (RegisterStateFilter, "safeguard", "country")
    list_select_related = ("predecessor",)
    search_fields = ("name", "service", "location")
    date_hierarchy = "valid_from"
    readonly_fields = ("state_badge", "predecessor", "created_at", "created_by")
    change_form_template = "admin/gdpr/subprocessor/change_form.html"

    def get_queryset(self, request):
        # The register is the provider's and the same for everyone: no tenant scoping.
        return admin.ModelAdmin.get_queryset(self, request)

    def get_fields(self, request, obj=None):
        fields = SubProcessorForm.Meta.fields
        return fields if obj is None else (*fields, "valid_to", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(self.get_fields(request, obj))

    def has_add_permission(self, request) -> bool:
        return subprocessor_may_write(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # A row is never edited; changes are new rows (the pages below).
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _may_write(self, request) -> bool:
        return self.has_add_permission(request)

    @admin.display(description=_("Stand"))
    def state_badge(self, obj: SubProcessor) -> str:
        state = register_state(obj, timezone.localdate())
        return format_html('<span class="badge {}">{}</span>', _STATE_BADGES[state],
                           state.label)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "may_write": self._may_write(request)})

    # --- change, replace, end -----------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/aendern/", wrap(self.change_entry_view),
                 name=f"{prefix}_change_entry"),
            path("<path:object_id>/ersetzen/", wrap(self.replace_view),
                 name=f"{prefix}_replace"),
            path("<path:object_id>/beenden/", wrap(self.end_view), name=f"{prefix}_end"),
            *super().get_urls(),
        ]

    def change_entry_view(self, request, object_id):
        def service(row, data):
            return subprocessor_change(actor=request.user, subprocessor=row, **data)

        return self._register_page(
            request, object_id, form_class=ChangeForm, service=service, notices=True,
            title=gettext("Unterauftragsverarbeiter ändern"),
            done=lambda count: ngettext(
                "Änderung von %(name)s ab %(day)s eingetragen; %(count)d Kunde erhält eine "
                "Änderungsmitteilung.",
                "Änderung von %(name)s ab %(day)s eingetragen; %(count)d Kunden erhalten eine "
                "Änderungsmitteilung.", count))

    def replace_view(self, request, object_id):
        def service(row, data):
            return subprocessor_replace(actor=request.user, subprocessor=row, **data)

        return self._register_page(
            request, object_id, form_class=ReplaceForm, service=service, notices=True,
            title=gettext("Unterauftragsverarbeiter ersetzen"),
            done=lambda count: ngettext(
                "%(name)s übernimmt ab %(day)s; %(count)d Kunde erhält eine "
                "Änderungsmitteilung.",
                "%(name)s übernimmt ab %(day)s; %(count)d Kunden erhalten eine "
                "Änderungsmitteilung.", count))

    def end_view(self, request, object_id):
        def service(row, data):
            return subprocessor_end(actor=request.user, subprocessor=row, **data)

        return self._register_page(
            request, object_id, form_class=EndForm, service=service, notices=False,
            title=gettext("Unterauftragsverarbeiter beenden"),
            done=lambda count: gettext("%(name)s endet am %(day)s."))

    def _register_page(self, request, object_id, *, form_class, service, notices: bool,
                       title: str, done):
        """Form, then a confirmation (customers noticed, objection deadline), then
        ``service(row, cleaned_data)``; a refusal shows on the form."""
        if not self._may_write(request):
            raise PermissionDenied
        row = get_object_or_404(self.get_queryset(request), pk=object_id)
        initial = {field: getattr(row, field) for field in ("name", *CHANGEABLE_FIELDS)}
        if form_class is ReplaceForm:
            initial.pop("name")
        bound = request.method == "POST"
        form = (form_class(request.POST, initial=initial) if bound
                else form_class(initial=initial))
        preview = subprocessor_change_preview() if notices else None
        confirming = bound and form.is_valid()
        if confirming and request.POST.get("confirmed") == "yes":
            try:
                saved = service(row, form.cleaned_data)
            except ValidationError as exc:
                service_refusal_on_form(form, exc)
                confirming = False
            else:
                day = saved.valid_to if form_class is EndForm else saved.valid_from
                count = preview["customers"] if preview else 0
                self.message_user(request, done(count) % {
                    "name": saved.name, "day": day.strftime("%d.%m.%Y"), "count": count},
                    messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:gdpr_subprocessor_change",
                                                    args=[saved.pk]))
        return TemplateResponse(request, "admin/gdpr/subprocessor/register_change.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "row": row,
            "form": form,
            "confirming": confirming,
            "summary": _summary(form) if confirming else [],
            "preview": preview,
        })


# --- Objection cases ----------------------------------------------------------------------------


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Ergebnis"),
        choices=[choice for choice in CaseResolution.choices
                 if choice[0] != CaseResolution.OPEN])
    note = forms.CharField(label=_("Vermerk"), widget=forms.Textarea(attrs={"rows": 4}))


@admin.register(ObjectionCase)
class ObjectionCaseAdmin(ReadOnlyAdmin):
    list_display = ("customer", "notice_title", "opened_at", "deadline", "resolution",
                    "resolved_at")
    list_filter = ("resolution", "opened_at", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer", "notice")
    search_fields = ("customer__name", "notice__title", "resolution_note")
    date_hierarchy = "opened_at"
    fields = ("customer", "notice_title", "deadline", "objection_reason", "opened_at",
              "resolution", "resolution_note", "resolved_at", "resolved_by")
    readonly_fields = ("notice_title", "deadline", "objection_reason")
    change_form_template = "admin/gdpr/objectioncase/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("notice", "customer",
                                                            "resolved_by")

    @admin.display(description=_("Änderungsmitteilung"), ordering="notice__title")
    def notice_title(self, obj: ObjectionCase) -> str:
        return obj.notice.title

    @admin.display(description=_("Widerspruch möglich bis"), ordering="notice__deadline")
    def deadline(self, obj: ObjectionCase):
        return obj.notice.deadline

    @admin.display(description=_("Begründung des Kunden"))
    def objection_reason(self, obj: ObjectionCase) -> str:
        return obj.notice.reason

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "may_resolve": objection_case_may_resolve(request.user)})

    def get_urls(self):
        return [path("<path:object_id>/abschliessen/",
                     self.admin_site.admin_view(self.resolve_view),
                     name="gdpr_objectioncase_resolve"), *super().get_urls()]

    def resolve_view(self, request, object_id):
        """Close one case (form → ``objection_case_resolve``)."""
        if not objection_case_may_resolve(request.user):
            raise PermissionDenied
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                objection_case_resolve(actor=request.user, case=case, **form.cleaned_data)
            except ValidationError as exc:
                service_refusal_on_form(form, exc)
            else:
                self.message_user(request, gettext("Widerspruchsfall von %(customer)s "
                                                   "abgeschlossen.")
                                  % {"customer": case.customer}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:gdpr_objectioncase_change",
                                                    args=[case.pk]))
        return TemplateResponse(request, "admin/gdpr/objectioncase/resolve.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Widerspruchsfall abschließen"),
            "case": case,
            "form": form,
        })
