"""What the device pages share: who may change or export, and service errors on forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from portal.models import Organisation, User
from portal.roles import CUSTOMER_ROLES, DEVICE_EDITOR_ROLES, DEVICE_EXPORT_ROLES, STAFF_ROLES
from portal.tenancy import membership_of, role_of


def can_edit(user: User) -> bool:
    return role_of(user) in DEVICE_EDITOR_ROLES


def can_export(user: User) -> bool:
    return role_of(user) in DEVICE_EXPORT_ROLES


def shows_customer(user: User) -> bool:
    """Staff roles see several customers, so lists name the customer of each row."""
    return role_of(user) in STAFF_ROLES


def picks_customer(user: User) -> bool:
    """Staff roles choose the customer; a customer admin always works for their own one."""
    return role_of(user) not in CUSTOMER_ROLES


def require_editor(user: User) -> None:
    if not can_edit(user):
        raise PermissionDenied(_("Sie dürfen die Geräteliste nicht ändern."))


def own_customer(user: User) -> Organisation:
    """The organisation of a customer role (the customer it adds devices and imports for)."""
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied(_("Sie dürfen die Geräteliste nicht ändern."))
    return membership.organisation


def add_service_errors(form: forms.Form, exc: ValidationError, *,
                       default_field: str | None = None) -> None:
    """Show a service's ValidationError on the form: by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, exc.messages)
