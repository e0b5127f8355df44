"""What every staff admin shares: tenant scoping, people shown by one rule, audited changes,
confirmation pages."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from portal.http import client_ip
from portal.models import User
from portal.pagination import PAGE_SIZE
from portal.services.audit import audit_event_record


class VisiblePeopleFilter(admin.RelatedOnlyFieldListFilter):
    """A filter by person that offers only the people the viewer may see."""

    def field_choices(self, field, request, model_admin):
        pk_qs = (model_admin.get_queryset(request).distinct()
                 .values_list(f"{self.field_path}__pk", flat=True))
        visible = User.objects.visible_to(request.user).values("pk")
        return field.get_choices(include_blank=False,
                                 limit_choices_to=Q(pk__in=pk_qs) & Q(pk__in=visible),
                                 ordering=self.field_admin_ordering(field, request, model_admin))


class TenantScopedAdmin(admin.ModelAdmin):
    """Rows and foreign-key choices both go through ``visible_to(request.user)``."""

    #: Rows per changelist page, as on the portal's lists (Django's default is 100).
    list_per_page = PAGE_SIZE

    def get_queryset(self, request) -> QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.remote_field.model
        if "queryset" not in kwargs and hasattr(related.objects, "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A service's refusal that the form could not foresee (a concurrent change, the last
        # active provider admin, an address that has an account) is a message, not an error page.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # Every admin change is also written to the audit trail, in the admin's transaction.
    def _audit(self, request, obj, verb: str, message) -> None:
        audit_event_record(actor=request.user, action=f"admin.{verb}", target=obj,
                           ip=client_ip(request), details={"message": str(message)})

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


def service_refusal_on_form(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal shown on the form that asked for it: per field where it names one
    of the form's fields, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, problems in exc.error_dict.items():
        form.add_error(name if name in form.fields else None,
                       ValidationError(problems).messages)


class ServiceAddMixin:
    """The admin's add form creates the row through a service (``add_service(actor=...,
    **cleaned_data)``), which writes the audit event; Django's own admin log entry stays."""

    add_service: Callable[..., object]

    def save_model(self, request, obj, form, change) -> None:
        saved = self.add_service(actor=request.user, **form.cleaned_data)
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def log_addition(self, request, obj, message):
        return admin.ModelAdmin.log_addition(self, request, obj, message)


class ReadOnlyAdmin(TenantScopedAdmin):
    """For logs: nobody adds, changes or deletes through the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def run_service_action(
    modeladmin: admin.ModelAdmin,
    request,
    queryset: QuerySet,
    *,
    title: str,
    question: str,
    service: Callable[[object], object],
    done,
    action_name: str,
    refusal: Callable[[object], str | None] | None = None,
    form_class: type[forms.Form] | None = None,
):
    """Show a confirmation page; on confirmation call ``service`` for each selected row.

    ``refusal`` (optional) tells in advance why the service will refuse a row; the confirmation
    page lists those rows apart with the reason and does not submit them. The service still
    decides: a refused row gets its own error message.

    ``form_class`` (optional): what the confirmation asks for (e.g. how an identity was
    checked); the page is shown again until the form is valid, and ``service`` is called as
    ``service(row, cleaned_data)``.
    """
    confirmed = request.POST.get("confirmed") == "yes"
    form = form_class(request.POST if confirmed else None) if form_class else None
    if not confirmed or (form is not None and not form.is_valid()):
        selected = list(queryset)
        reasons = {obj.pk: refusal(obj) for obj in selected} if refusal else {}
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "question": question,
            "objects": [obj for obj in selected if not reasons.get(obj.pk)],
            "refused": [(obj, reasons[obj.pk]) for obj in selected if reasons.get(obj.pk)],
            "action_name": action_name,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "form": form,
        }
        return TemplateResponse(request, "admin/portal/confirm_action.html", context)
    succeeded = 0
    for obj in queryset:
        try:
            service(obj) if form is None else service(obj, form.cleaned_data)
            succeeded += 1
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
    if succeeded:
        modeladmin.message_user(request, done % {"count": succeeded}, messages.SUCCESS)
    return None

