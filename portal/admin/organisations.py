"""Organisations and memberships in the staff admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.admin.base import TenantScopedAdmin
from portal.admin.users import PersonRankAdminMixin
from portal.http import client_ip
from portal.models import Membership, Organisation
from portal.selectors import invitable_role_choices
from portal.services.accounts import membership_change_role
from portal.services.organisations import organisation_create, organisation_update


@admin.register(Organisation)
class OrganisationAdmin(TenantScopedAdmin):
    list_display = ("name", "kind", "partner", "customer_number", "city", "vat_id", "is_active")
    list_filter = ("kind", "is_active", ("partner", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("partner",)
    search_fields = ("name", "customer_number", "city", "vat_id")
    autocomplete_fields = ("partner",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("kind", "name", "customer_number", "partner", "is_active")}),
        (_("Anschrift"), {"fields": ("street", "postal_code", "city", "country", "vat_id")}),
        (_("Protokoll"), {"fields": ("created_at", "updated_at")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        service = organisation_update if change else organisation_create
        service(actor=request.user, organisation=obj, ip=client_ip(request))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(PersonRankAdminMixin, TenantScopedAdmin):
    list_display = ("user", "organisation", "role", "updated_at")
    list_filter = ("role", "organisation__kind",
                   ("organisation", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "organisation")
    search_fields = ("user__email", "user__last_name", "user__first_name", "organisation__name")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("user", "organisation", "created_at", "updated_at")
    fields = ("user", "organisation", "role", "created_at", "updated_at")

    def person_of(self, obj: Membership):
        return obj.user

    def has_add_permission(self, request) -> bool:
        # Memberships come with the invitation of a person (Personen → hinzufügen).
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = invitable_role_choices(request.user)
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        membership_change_role(actor=request.user, membership=Membership.objects.get(pk=obj.pk),
                               role=obj.role, ip=client_ip(request))

