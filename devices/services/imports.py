"""Writes of inventory imports: upload, the preview and apply job steps, confirm, cancel,
recovery and cleanup (docs/adr/0005, 0008); each with an audit event."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from devices.importing import NEW, apply_plan, plan_import
from devices.models import Device, DeviceImport, ImportStatus
from devices.services.inventory import require_device_editor
from devices.spreadsheets import SpreadsheetError, file_format, read_sheet
from portal.jobs import (
    Claim,
    ClaimLost,
    JobFlow,
    Step,
    Stuck,
    is_stale,
    job_activity,
    job_claim,
    job_queue,
    jobs_recover,
    stuck_reason,
)
from portal.models import Organisation, User
from portal.services.audit import audit_event_record

MESSAGES_KEPT = 500

logger = logging.getLogger(__name__)


# --- Imports -------------------------------------------------------------------------------------
# An import goes through two job steps (portal.jobs, docs/adr/0008): the preview and the apply.

PREVIEW = Step(ImportStatus.UPLOADED, ImportStatus.PREVIEWING, "devices.tasks.preview_import")
APPLY = Step(ImportStatus.CONFIRMED, ImportStatus.APPLYING, "devices.tasks.apply_import")
#: Who reads what a step writes: its messages are stored in that person's language.
READER = {PREVIEW: "created_by", APPLY: "confirmed_by"}
#: How many clashing serials or hostnames a failed apply names.
CLASHES_NAMED = 10


def import_reader_language(import_id: int, step: Step) -> str:
    """The language of the person a step works for (a job has no request)."""
    language = (DeviceImport.objects.filter(pk=import_id)
                .values_list(f"{READER[step]}__language", flat=True).first())
    return language or settings.LANGUAGE_CODE


def _give_up(device_import: DeviceImport, step: Step, why: Stuck) -> None:
    """Fail a stuck step with a message for the person (the flow's ``give_up``)."""
    with translation.override(import_reader_language(device_import.pk, step)):
        last = device_import.heartbeat_at
        values = {"attempts": device_import.attempts,
                  "when": formats.date_format(timezone.localtime(last), "SHORT_DATETIME_FORMAT")
                  if last else "–"}
        preview = step == PREVIEW
        if why == Stuck.NOT_STARTED:
            error = (_("Die Prüfung der Datei ist nicht angelaufen: Die Hintergrundverarbeitung "
                       "hat den Auftrag nicht übernommen (zuletzt versucht am %(when)s).")
                     if preview else
                     _("Die Übernahme der Geräte ist nicht angelaufen: Die "
                       "Hintergrundverarbeitung hat den Auftrag nicht übernommen (zuletzt "
                       "versucht am %(when)s).")) % values
        else:
            error = (_("Die Prüfung der Datei wurde unterbrochen (Versuche: %(attempts)s, "
                       "letztes Lebenszeichen am %(when)s) und wird nicht mehr neu gestartet.")
                     if preview else
                     _("Die Übernahme der Geräte wurde unterbrochen (Versuche: %(attempts)s, "
                       "letztes Lebenszeichen am %(when)s) und wird nicht mehr neu "
                       "gestartet.")) % values
        error += " " + _("Es wurde nichts übernommen; Ihre Geräteliste ist unverändert. Bitte "
                         "laden Sie die Datei erneut hoch.")
    _finish(device_import, ImportStatus.FAILED, counts={}, messages=[], error=error,
            action="device_import.failed")


IMPORT_FLOW = JobFlow(model=DeviceImport, steps=(PREVIEW, APPLY), audit_prefix="device_import",
                      give_up=_give_up)


def _inline(device_import: DeviceImport) -> bool:
    """Small files run right after the commit in this process; larger ones as a job."""
    return device_import.file_size <= settings.DEVICE_IMPORT_INLINE_BYTES


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
    job_queue(IMPORT_FLOW, device_import, PREVIEW, inline=_inline(device_import),
              update_fields=("storage_path",))
    audit_event_record(actor=actor, action="device_import.uploaded", target=device_import,
                       organisation=customer, ip=ip,
                       details={"file": device_import.file_name, "bytes": len(data),
                                "sha256": device_import.file_sha256})
    return device_import


def _claim(import_id: int, step: Step) -> Claim | None:
    """This worker's claim on ``step``, or None (done already, cancelled, or a live worker)."""
    claim = job_claim(IMPORT_FLOW, step, import_id, reset={"rows_done": 0},
                      queryset=DeviceImport.objects.select_related("customer", "confirmed_by"))
    return claim if claim.acquired else None


def _progress(claim: Claim):
    """The planner's progress callback is the step's heartbeat (rate-limited)."""
    def report(done: int) -> None:
        claim.beat(rows_done=done)
    return report


def _plan(claim: Claim):
    device_import = claim.record
    with default_storage.open(device_import.storage_path, "rb") as handle:
        sheet = read_sheet(handle.read(), device_import.file_name)
    device_import.rows_total = len(sheet.rows)
    claim.beat(force=True, rows_total=device_import.rows_total)
    return plan_import(device_import.customer, sheet, _progress(claim))


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


def _finish_held(claim: Claim, status: str, **result) -> None:
    """Store a step's result, if this worker still holds the step (else ``ClaimLost``)."""
    with transaction.atomic():
        claim.hold()
        _finish(claim.record, status, **result)


def device_import_preview(*, import_id: int) -> DeviceImport | None:
    """The dry run: check every row and compare with the inventory; writes no device.
    Returns None when there is nothing to do for this worker (see ``job_claim``)."""
    claim = _claim(import_id, PREVIEW)
    if claim is None:
        return None
    try:
        try:
            plan = _plan(claim)
        except SpreadsheetError as exc:
            _finish_held(claim, ImportStatus.INVALID, counts={}, messages=[], error=str(exc),
                         action="device_import.previewed")
            return claim.record
        _finish_held(claim, ImportStatus.PREVIEWED if plan.is_valid else ImportStatus.INVALID,
                     counts=plan.counts, messages=_row_messages(plan),
                     action="device_import.previewed")
    except ClaimLost:
        return None
    return claim.record


@transaction.atomic
def device_import_confirm(*, actor: User, device_import: DeviceImport,
                          ip: str | None = None) -> DeviceImport:
    """The person confirms the preview; the import is applied (inline or as a job)."""
    device_import = DeviceImport.objects.select_for_update().get(pk=device_import.pk)
    require_device_editor(actor, device_import.customer)
    if device_import.status != ImportStatus.PREVIEWED:
        raise ValidationError(_("Dieser Import kann nicht (mehr) bestätigt werden."))
    device_import.confirmed_by = actor
    job_queue(IMPORT_FLOW, device_import, APPLY, inline=_inline(device_import),
              update_fields=("confirmed_by",))
    audit_event_record(actor=actor, action="device_import.confirmed", target=device_import,
                       organisation=device_import.customer, ip=ip)
    return device_import


def device_import_apply(*, import_id: int) -> DeviceImport | None:
    """Write a confirmed import, all or nothing; checks every row again against the inventory
    as it is now. Safe to run twice and after a crash: only the worker holding the claim
    writes, and a crashed write left nothing behind (see ``portal.jobs``)."""
    claim = _claim(import_id, APPLY)
    if claim is None:
        return None
    device_import, actor = claim.record, claim.record.confirmed_by
    try:
        plan = _plan(claim)
        if not plan.is_valid:
            _finish_held(claim, ImportStatus.FAILED, counts=plan.counts,
                         messages=_row_messages(plan), actor=actor,
                         error=_("Seit der Vorschau hat sich die Geräteliste geändert; einige "
                                 "Zeilen sind jetzt ungültig. Es wurde nichts übernommen."),
                         action="device_import.failed")
            return device_import
        claim.beat(force=True)  # the writing transaction must end within the stale period
        try:
            with transaction.atomic():
                claim.hold()
                counts = apply_plan(device_import.customer, plan, actor=actor)
                _finish(device_import, ImportStatus.DONE, counts=counts,
                        messages=_row_messages(plan), actor=actor,
                        action="device_import.applied")
        except IntegrityError:
            logger.warning("Device import %s lost a race with another writer", import_id,
                           exc_info=True)
            _fail_lost_race(claim, plan)
            return device_import
    except SpreadsheetError as exc:
        _finish_held(claim, ImportStatus.FAILED, actor=actor, error=str(exc),
                     action="device_import.failed")
        return device_import
    except ClaimLost:
        return None
    _discard_file(device_import)
    return device_import


def _clashes(customer: Organisation, plan) -> tuple[list[str], list[str]]:
    """The serials and hostnames of ``plan`` that another writer took since it was made."""
    in_file = {row.serial for row in plan.rows}
    serials, owner_of_hostname = set(), {}
    stored = (Device.objects.filter(customer=customer)
              .values_list("serial_number", "hostname", "retired_at").iterator(chunk_size=5000))
    for serial, hostname, retired_at in stored:
        serials.add(serial)
        if retired_at is None and serial not in in_file:
            owner_of_hostname[hostname.lower()] = serial
    return ([row.serial for row in plan.rows if row.status == NEW and row.serial in serials],
            [row.hostname for row in plan.rows if row.hostname.lower() in owner_of_hostname])


def _named(values: list[str]) -> str:
    shown = ", ".join(values[:CLASHES_NAMED])
    if len(values) > CLASHES_NAMED:
        more = len(values) - CLASHES_NAMED
        shown += " " + ngettext("und %(count)d weiterer", "und %(count)d weitere", more) % {
            "count": more}
    return shown


def _fail_lost_race(claim: Claim, plan) -> None:
    """Another writer added the same serials or hostnames while this apply wrote (the database
    refused it; nothing was written). Plan again against the inventory as it is now for honest
    counts, and name what clashed."""
    device_import = claim.record
    with translation.override(import_reader_language(device_import.pk, APPLY)):
        serials, hostnames = _clashes(device_import.customer, plan)
        clashes = []
        if serials:
            clashes.append(_("Seriennummern %(values)s") % {"values": _named(serials)})
        if hostnames:
            clashes.append(_("Hostnamen %(values)s") % {"values": _named(hostnames)})
        error = _("Während der Übernahme wurden gleichzeitig Geräte dieses Kunden angelegt oder "
                  "geändert. Es wurde nichts übernommen.")
        if clashes:
            error += " " + _("Inzwischen vergeben: %(clashes)s.") % {"clashes": "; ".join(clashes)}
        error += " " + _("Bitte laden Sie die Datei erneut hoch, um eine aktuelle Vorschau zu "
                         "sehen.")
        now = _plan(claim)
    _finish_held(claim, ImportStatus.FAILED, counts=now.counts, messages=_row_messages(now),
                 actor=device_import.confirmed_by, error=error, action="device_import.failed")


def _discard_file(device_import: DeviceImport) -> None:
    if device_import.storage_path:
        default_storage.delete(device_import.storage_path)
        DeviceImport.objects.filter(pk=device_import.pk).update(storage_path="")
        device_import.storage_path = ""


def import_cancellable(device_import: DeviceImport, now=None) -> bool:
    """An import may be cancelled until it is done (``ImportStatus.CANCELLABLE``), except
    while a live worker runs a step (a stuck or failed one may always be cancelled: nothing of
    it was written). What the portal's and the admin's import pages offer."""
    if device_import.status not in ImportStatus.CANCELLABLE:
        return False
    return job_activity(IMPORT_FLOW, device_import, now).phase != "running"


@transaction.atomic
def device_import_cancel(*, actor: User, device_import: DeviceImport,
                         ip: str | None = None) -> DeviceImport:
    device_import = DeviceImport.objects.select_for_update().get(pk=device_import.pk)
    require_device_editor(actor, device_import.customer)
    if not import_cancellable(device_import):
        raise ValidationError(_("Dieser Import kann nicht mehr abgebrochen werden."))
    device_import.status = ImportStatus.CANCELLED
    device_import.finished_at = timezone.now()
    device_import.save(update_fields=["status", "finished_at"])
    audit_event_record(actor=actor, action="device_import.cancelled", target=device_import,
                       organisation=device_import.customer, ip=ip)
    transaction.on_commit(lambda: _discard_file(device_import))
    return device_import


def device_imports_recover(*, now=None) -> dict[str, int]:
    """The sweep: imports stuck in a step are sent again, or failed after the last attempt."""
    return jobs_recover(IMPORT_FLOW, now=now)


def device_imports_cleanup(*, now=None) -> int:
    """Delete the stored file of every import uploaded more than DEVICE_IMPORT_KEEP_HOURS ago,
    whatever its state: an unconfirmed preview is cancelled, a stuck step failed; only a step
    a live worker runs right now keeps its file until the next run. Idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.DEVICE_IMPORT_KEEP_HOURS)
    old = DeviceImport.objects.filter(created_at__lt=cutoff).exclude(storage_path="")
    cleaned = 0
    for pk in list(old.values_list("pk", flat=True)):
        with transaction.atomic():
            device_import = (old.select_for_update(skip_locked=True, of=("self",))
                             .select_related("customer").filter(pk=pk).first())
            if device_import is None:  # deleted meanwhile, or a worker holds it right now
                continue
            step = IMPORT_FLOW.step_of(device_import)
            if step is not None and not is_stale(device_import, now):
                continue  # a live worker runs it: the next cleanup deletes its file
            if step is not None:
                _give_up(device_import, step, stuck_reason(IMPORT_FLOW, device_import))
            elif device_import.status == ImportStatus.PREVIEWED:
                device_import.status = ImportStatus.CANCELLED
                device_import.finished_at = timezone.now()
                device_import.save(update_fields=["status", "finished_at"])
            audit_event_record(actor=None, action="device_import.file_deleted",
                               target=device_import, organisation=device_import.customer)
        _discard_file(device_import)
        cleaned += 1
    return cleaned
