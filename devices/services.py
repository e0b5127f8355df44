"""Writes of the device inventory: devices by hand, imports, exports; each with an audit event."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.importing import apply_plan, plan_import
from devices.models import Device, DeviceImport, ImportStatus
from devices.spreadsheets import SpreadsheetError, file_format, read_sheet
from portal.models import Organisation, User
from portal.roles import DEVICE_EDITOR_ROLES, DEVICE_EXPORT_ROLES, OrganisationKind
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

EDITABLE_FIELDS = ("hostname", "serial_number", "kind", "operating_system", "location",
                   "agent_id", "last_seen", "av_signature_date", "pending_critical_updates",
                   "notes")
MESSAGES_KEPT = 500


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


# --- Imports -------------------------------------------------------------------------------------

def _run_job(func_path: str, device_import: DeviceImport) -> None:
    """Small files run right after the commit in this process; larger ones as a job."""
    if device_import.file_size <= settings.DEVICE_IMPORT_INLINE_BYTES:
        from django.utils.module_loading import import_string

        import_string(func_path)(device_import.pk)
        return
    from django_q.tasks import async_task

    async_task(func_path, device_import.pk, task_name=f"{func_path}:{device_import.pk}")


@transaction.atomic
def device_import_upload(*, actor: User, customer: Organisation, file_name: str, data: bytes,
                         via_admin: bool = False, ip: str | None = None) -> DeviceImport:
    """Store an uploaded inventory file and start its preview (a dry run)."""
    require_device_editor(actor, customer)
    try:
        extension = file_format(file_name)
    except SpreadsheetError as exc:
        raise ValidationError(str(exc)) from exc
    if not data:
        raise ValidationError(_("Die Datei ist leer."))
    if len(data) > settings.DEVICE_IMPORT_MAX_BYTES:
        raise ValidationError(_("Die Datei ist größer als %(limit)s MB.")
                              % {"limit": settings.DEVICE_IMPORT_MAX_BYTES // (1024 * 1024)})
    device_import = DeviceImport(customer=customer, created_by=actor, via_admin=via_admin,
                                 file_name=file_name[:255], file_format=extension,
                                 file_size=len(data),
                                 file_sha256=hashlib.sha256(data).hexdigest())
    device_import.save()
    device_import.storage_path = default_storage.save(
        f"device-imports/{device_import.public_id}.{extension}", ContentFile(data))
    device_import.save(update_fields=["storage_path"])
    audit_event_record(actor=actor, action="device_import.uploaded", target=device_import,
                       organisation=customer, ip=ip,
                       details={"file": device_import.file_name, "bytes": len(data),
                                "sha256": device_import.file_sha256})
    transaction.on_commit(lambda: _run_job("devices.tasks.preview_import", device_import))
    return device_import


def _claim(import_id: int, expected: str, next_status: str) -> DeviceImport | None:
    """Move an import from ``expected`` to ``next_status``; None if someone else did already."""
    with transaction.atomic():
        device_import = (DeviceImport.objects.select_for_update().select_related("customer")
                         .filter(pk=import_id, status=expected).first())
        if device_import is None:
            return None
        device_import.status = next_status
        device_import.rows_done = 0
        device_import.save(update_fields=["status", "rows_done"])
    return device_import


def _read(device_import: DeviceImport):
    with default_storage.open(device_import.storage_path, "rb") as handle:
        return read_sheet(handle.read(), device_import.file_name)


def _progress(device_import: DeviceImport):
    def report(done: int) -> None:
        DeviceImport.objects.filter(pk=device_import.pk).update(rows_done=done)
    return report


def _row_messages(plan) -> list[dict]:
    shown = [row for row in plan.rows if row.errors or row.changes or row.status == "new"]
    shown.sort(key=lambda row: (row.status != "invalid", row.line))
    return [{"line": row.line, "status": row.status, "serial": row.serial,
             "hostname": row.hostname, "errors": row.errors,
             "changes": {name: list(pair) for name, pair in row.changes.items()}}
            for row in shown[:MESSAGES_KEPT]]


def _finish(device_import: DeviceImport, status: str, *, counts=None, messages=None,
            error: str = "", actor: User | None = None, action: str) -> None:
    device_import.status = status
    device_import.counts = counts if counts is not None else device_import.counts
    device_import.messages = messages if messages is not None else device_import.messages
    device_import.error = error
    device_import.rows_done = device_import.rows_total
    if status in {ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.INVALID}:
        device_import.finished_at = timezone.now()
    device_import.save(update_fields=["status", "counts", "messages", "error", "rows_done",
                                      "finished_at"])
    audit_event_record(actor=actor, action=action, target=device_import,
                       organisation=device_import.customer,
                       details={"status": status, "counts": device_import.counts,
                                "error": error[:500]})


def device_import_preview(*, import_id: int) -> DeviceImport | None:
    """The dry run: check every row and compare with the inventory; writes no device."""
    device_import = _claim(import_id, ImportStatus.UPLOADED, ImportStatus.PREVIEWING)
    if device_import is None:
        return None
    try:
        sheet = _read(device_import)
    except SpreadsheetError as exc:
        with transaction.atomic():
            _finish(device_import, ImportStatus.INVALID, counts={}, messages=[],
                    error=str(exc), action="device_import.previewed")
        return device_import
    DeviceImport.objects.filter(pk=import_id).update(rows_total=len(sheet.rows))
    device_import.rows_total = len(sheet.rows)
    plan = plan_import(device_import.customer, sheet, _progress(device_import))
    with transaction.atomic():
        _finish(device_import,
                ImportStatus.PREVIEWED if plan.is_valid else ImportStatus.INVALID,
                counts=plan.counts, messages=_row_messages(plan),
                action="device_import.previewed")
    return device_import


@transaction.atomic
def device_import_confirm(*, actor: User, device_import: DeviceImport,
                          ip: str | None = None) -> DeviceImport:
    """The person confirms the preview; the import is applied (inline or as a job)."""
    device_import = DeviceImport.objects.select_for_update().get(pk=device_import.pk)
    require_device_editor(actor, device_import.customer)
    if device_import.status != ImportStatus.PREVIEWED:
        raise ValidationError(_("Dieser Import kann nicht (mehr) bestätigt werden."))
    device_import.status = ImportStatus.CONFIRMED
    device_import.confirmed_by = actor
    device_import.save(update_fields=["status", "confirmed_by"])
    audit_event_record(actor=actor, action="device_import.confirmed", target=device_import,
                       organisation=device_import.customer, ip=ip)
    transaction.on_commit(lambda: _run_job("devices.tasks.apply_import", device_import))
    return device_import


def device_import_apply(*, import_id: int) -> DeviceImport | None:
    """Write a confirmed import, all or nothing; checks every row again against the inventory
    as it is now. Safe to run twice: only one run can claim the confirmed import."""
    device_import = _claim(import_id, ImportStatus.CONFIRMED, ImportStatus.APPLYING)
    if device_import is None:
        return None
    actor = device_import.confirmed_by
    try:
        sheet = _read(device_import)
        plan = plan_import(device_import.customer, sheet, _progress(device_import))
        del sheet  # the plan holds every value; the raw rows need not stay in memory
        if not plan.is_valid:
            with transaction.atomic():
                _finish(device_import, ImportStatus.FAILED, counts=plan.counts,
                        messages=_row_messages(plan), actor=actor,
                        error=_("Seit der Vorschau hat sich die Geräteliste geändert; einige "
                                "Zeilen sind jetzt ungültig. Es wurde nichts übernommen."),
                        action="device_import.failed")
            return device_import
        with transaction.atomic():
            counts = apply_plan(device_import.customer, plan, actor=actor)
            _finish(device_import, ImportStatus.DONE, counts=counts,
                    messages=_row_messages(plan), actor=actor, action="device_import.applied")
    except (SpreadsheetError, IntegrityError) as exc:
        with transaction.atomic():
            _finish(device_import, ImportStatus.FAILED, actor=actor, error=str(exc),
                    action="device_import.failed")
        return device_import
    _discard_file(device_import)
    return device_import


def _discard_file(device_import: DeviceImport) -> None:
    if device_import.storage_path:
        default_storage.delete(device_import.storage_path)
        DeviceImport.objects.filter(pk=device_import.pk).update(storage_path="")
        device_import.storage_path = ""


@transaction.atomic
def device_import_cancel(*, actor: User, device_import: DeviceImport,
                         ip: str | None = None) -> DeviceImport:
    device_import = DeviceImport.objects.select_for_update().get(pk=device_import.pk)
    require_device_editor(actor, device_import.customer)
    if device_import.status not in {ImportStatus.UPLOADED, ImportStatus.PREVIEWED,
                                    ImportStatus.INVALID}:
        raise ValidationError(_("Dieser Import kann nicht mehr abgebrochen werden."))
    device_import.status = ImportStatus.CANCELLED
    device_import.finished_at = timezone.now()
    device_import.save(update_fields=["status", "finished_at"])
    audit_event_record(actor=actor, action="device_import.cancelled", target=device_import,
                       organisation=device_import.customer, ip=ip)
    transaction.on_commit(lambda: _discard_file(device_import))
    return device_import


def device_imports_cleanup(*, now=None) -> int:
    """Delete stored files of imports that ended or were left unconfirmed; idempotent."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.DEVICE_IMPORT_KEEP_HOURS)
    stale = DeviceImport.objects.filter(created_at__lt=cutoff).exclude(storage_path="")
    cleaned = 0
    for device_import in stale.exclude(status__in=[ImportStatus.CONFIRMED,
                                                   ImportStatus.APPLYING]):
        with transaction.atomic():
            if device_import.status in {ImportStatus.UPLOADED, ImportStatus.PREVIEWED,
                                        ImportStatus.PREVIEWING}:
                device_import.status = ImportStatus.CANCELLED
                device_import.finished_at = timezone.now()
                device_import.save(update_fields=["status", "finished_at"])
            audit_event_record(actor=None, action="device_import.file_deleted",
                               target=device_import, organisation=device_import.customer)
        _discard_file(device_import)
        cleaned += 1
    return cleaned
