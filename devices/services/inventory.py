"""Writes of the device inventory by hand (create, update, retire) and the export record,
each with an audit event."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from portal.models import Organisation, User
from portal.roles import DEVICE_EDITOR_ROLES, DEVICE_EXPORT_ROLES, OrganisationKind
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

EDITABLE_FIELDS = ("hostname", "serial_number", "kind", "operating_system", "location",
                   "agent_id", "last_seen", "av_signature_date", "pending_critical_updates",
                   "notes")


def require_device_editor(actor: User, customer: Organisation) -> None:
    """Refuse unless ``actor`` may change the inventory of ``customer``."""
    if role_of(actor) not in DEVICE_EDITOR_ROLES:
        raise PermissionDenied(_("Sie dürfen die Geräteliste nicht ändern."))
    if customer.kind != OrganisationKind.CUSTOMER or not (
            Organisation.objects.visible_to(actor).filter(pk=customer.pk).exists()):
        raise PermissionDenied(_("Sie dürfen die Geräte dieses Kunden nicht ändern."))


def device_unique_errors(device: Device) -> dict[str, list[str]]:
    """Readable messages for the uniqueness rules (before the database has to refuse).

    Both rules hold within the device's customer only: what other customers have is never
    looked at, so no message can tell anything about them (docs/adr/0007)."""
    errors: dict[str, list[str]] = {}
    others = Device.objects.exclude(pk=device.pk)
    if others.filter(customer=device.customer_id, serial_number=device.serial_number).exists():
        errors["serial_number"] = [_("Diese Seriennummer ist bereits erfasst.")]
    if device.retired_at is None and others.filter(
            customer=device.customer_id, hostname__iexact=device.hostname,
            retired_at__isnull=True).exists():
        errors["hostname"] = [_("Ein aktives Gerät mit diesem Hostnamen gibt es bereits.")]
    return errors


def _save_checked(device: Device, **kwargs) -> None:
    device.serial_number = device.serial_number.strip().upper()
    device.hostname = device.hostname.strip()
    device.full_clean(validate_constraints=False)
    errors = device_unique_errors(device)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            device.save(**kwargs)
    except IntegrityError as exc:  # a concurrent writer won the race
        raise ValidationError(_("Das Gerät wurde gleichzeitig von jemand anderem angelegt oder "
                                "geändert. Bitte laden Sie die Seite neu.")) from exc


@transaction.atomic
def device_create(*, actor: User, customer: Organisation, ip: str | None = None,
                  **fields) -> Device:
    require_device_editor(actor, customer)
    device = Device(customer=customer, created_by=actor, updated_by=actor,
                    **{name: value for name, value in fields.items() if name in EDITABLE_FIELDS})
    _save_checked(device)
    audit_event_record(actor=actor, action="device.created", target=device, ip=ip,
                       details={"serial": device.serial_number, "hostname": device.hostname})
    return device


@transaction.atomic
def device_update(*, actor: User, device: Device, ip: str | None = None, **fields) -> Device:
    # The check uses the row as stored, not the customer of the object handed in.
    device = Device.objects.select_for_update().get(pk=device.pk)
    require_device_editor(actor, device.customer)
    changes = {}
    for name, value in fields.items():
        if name in EDITABLE_FIELDS and getattr(device, name) != value:
            changes[name] = [str(getattr(device, name) or ""), str(value or "")]
            setattr(device, name, value)
    if not changes:
        return device
    device.updated_by = actor
    _save_checked(device, update_fields=[*changes, "updated_by", "updated_at"])
    audit_event_record(actor=actor, action="device.updated", target=device, ip=ip,
                       details={"changes": changes})
    return device


@transaction.atomic
def device_retire(*, actor: User, device: Device, ip: str | None = None) -> Device:
    """Mark a device as retired; it is kept with its history, never deleted here."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    require_device_editor(actor, device.customer)
    if device.retired_at is not None:
        raise ValidationError(_("Dieses Gerät ist bereits ausgemustert."))
    device.retired_at = timezone.now()
    device.updated_by = actor
    device.save(update_fields=["retired_at", "updated_by", "updated_at"])
    audit_event_record(actor=actor, action="device.retired", target=device, ip=ip)
    return device


@transaction.atomic
def device_export_record(*, actor: User, customer: Organisation | None, count: int,
                         file_format_name: str, ip: str | None = None) -> None:
    """Audit one inventory export (the file itself is built by ``devices.exporting``)."""
    if role_of(actor) not in DEVICE_EXPORT_ROLES:
        raise PermissionDenied(_("Sie dürfen die Geräteliste nicht exportieren."))
    if customer is not None and not (
            Organisation.objects.visible_to(actor).filter(pk=customer.pk).exists()):
        raise PermissionDenied(_("Sie dürfen die Geräte dieses Kunden nicht exportieren."))
    audit_event_record(actor=actor, action="device.exported", target=customer,
                       organisation=customer, ip=ip,
                       details={"devices": count, "format": file_format_name})
