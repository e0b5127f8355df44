"""What the two kinds of data export share (a person's, gdpr/services/exports.py, and a
customer's, gdpr/services/contract_end.py): the job queued after the commit, the claim
``queued`` → ``running`` by conditional update (a second worker or a task delivered twice does
nothing, a finished export is never built again), progress, storing the finished ZIP with
SHA-256, size and expiry (a failed export keeps no half file), failing a lost export, whether
a file may still be downloaded, and the daily deletion of expired files (the rows stay).

Finishing and failing are conditional updates of a row still waiting or running, never a
``save()``: a purge or erasure may delete the row while its ZIP is being built, and a save
would insert it again with a fresh file of the deleted data. Every stored file that has no row
to go with (any more) goes through ``pending_files.files_delete_after_commit``, which retries
until the storage confirms the deletion.

Each kind names its model, task, audit prefix and progress fields in an :class:`ExportKind`;
the audit codes are ``<prefix>.finished``, ``.failed``, ``.downloaded`` and ``.expired``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone

from gdpr.models.requests import ExportState
from gdpr.services.pending_files import files_delete_after_commit
from portal.services.audit import audit_event_record

logger = logging.getLogger(__name__)

#: How long an export can be downloaded after it was made (issue 11: 14 days).
EXPORT_VALID_DAYS = 14
#: A ZIP up to this size is built in memory, a larger one in a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
PENDING_STATES = (ExportState.QUEUED, ExportState.RUNNING)


@dataclass(frozen=True)
class ExportKind:
    model: type[models.Model]
    task: str  # the django-q2 task that builds one export, by id
    audit_prefix: str  # "person_export", "customer_export"
    done_field: str  # the progress: parts done ...
    total_field: str  # ... of parts in all
    count_detail: str  # the audit detail of ``.finished`` that counts the parts


def export_queue(kind: ExportKind, export_id: int) -> None:
    """Queue the job of one export (call it on commit)."""
    from django_q.tasks import async_task

    async_task(kind.task, export_id, task_name=f"{kind.task}:{export_id}")


def stale_before():
    """An export waiting or running since before this is lost: django-q2 kills a task after
    its timeout, and its claim fails once the row is failed (portal/jobs.py's limit)."""
    return timezone.now() - timedelta(seconds=settings.PORTAL_JOB_STALE_SECONDS)


def export_pending(kind: ExportKind, pending: models.QuerySet, *, lost_message: str):
    """Of the waiting or running exports in ``pending``: fail the lost ones, return the
    newest one still alive (to be returned instead of a second export), or ``None``."""
    pending = pending.filter(state__in=PENDING_STATES)
    for lost in pending.filter(created_at__lt=stale_before()):
        export_fail(kind, lost, lost_message)
    return pending.filter(created_at__gte=stale_before()).order_by("-pk").first()


def export_progress(kind: ExportKind, export_id: int, done: int) -> None:
    kind.model.objects.filter(pk=export_id).update(**{kind.done_field: done})


def export_fail(kind: ExportKind, export, error: str) -> bool:
    """Fail ``export`` if it is still waiting or running; ``False`` (and nothing recorded)
    when it was finished, failed or deleted meanwhile."""
    with transaction.atomic():
        failed = kind.model.objects.filter(pk=export.pk, state__in=PENDING_STATES).update(
            state=ExportState.FAILED, error=error[:2000], file="", finished_at=timezone.now())
        if failed:
            audit_event_record(actor=None, action=f"{kind.audit_prefix}.failed",
                               target=export, organisation=export.customer,
                               details={"error": error[:200]})
    return bool(failed)


def export_build(kind: ExportKind, export_id: int, *, total: int,
                 write: Callable[[Any, IO[bytes], Callable[[int], None]], str],
                 related: tuple[str, ...] = ("customer",)):
    """The job: claim, build, store and finish one export; ``None`` when another worker has
    it or it is not waiting (done, failed), or when its row was deleted or failed while it
    ran (the new file is deleted again). ``write(export, out, progress)`` writes the ZIP to
    ``out``, calls ``progress(done)`` after each part and returns the file name. On an error
    the export is failed with the message and no file is kept."""
    claimed = kind.model.objects.filter(pk=export_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, error="", **{kind.done_field: 0, kind.total_field: total})
    if not claimed:
        return None
    export = kind.model.objects.select_related(*related).get(pk=export_id)
    now = timezone.now()
    stored = ""
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
            name = write(export, out, lambda done: export_progress(kind, export_id, done))
            size, sha256 = _measure(out)
            export.file.save(name, File(out, name=name), save=False)
        stored = export.file.name
        with transaction.atomic():
            finished = {"state": ExportState.DONE, kind.done_field: total,
                        kind.total_field: total, "sha256": sha256, "size": size,
                        "finished_at": now, "expires_at": now + timedelta(days=EXPORT_VALID_DAYS)}
            for field, value in finished.items():
                setattr(export, field, value)
            export.full_clean(exclude=("requested_by",))  # may be gone (erased) meanwhile
            if not kind.model.objects.filter(pk=export_id, state=ExportState.RUNNING).update(
                    file=stored, **finished):
                files_delete_after_commit([stored])  # deleted (purged) or failed as lost
                return None
            audit_event_record(actor=None, action=f"{kind.audit_prefix}.finished",
                               target=export, organisation=export.customer,
                               details={kind.count_detail: total, "size": size,
                                        "sha256": sha256})
    except Exception as exc:
        logger.exception("%s %s failed", kind.audit_prefix, export_id)
        files_delete_after_commit([stored])
        if not export_fail(kind, export, f"{type(exc).__name__}: {exc}"):
            return None
        return kind.model.objects.get(pk=export_id)
    return export


def _measure(out: IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 of the written file, read back in chunks; rewound for storing."""
    out.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: out.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    out.seek(0)
    return size, digest.hexdigest()


def export_valid(export, *, now=None) -> bool:
    """Finished, with its file, and not expired: what any download needs first."""
    now = now or timezone.now()
    return (export.state == ExportState.DONE and bool(export.file)
            and export.expires_at is not None and export.expires_at > now)


@transaction.atomic
def export_download_record(kind: ExportKind, *, actor, export, ip: str | None = None) -> None:
    """The audit event of a download (the access log records it too)."""
    audit_event_record(actor=actor, action=f"{kind.audit_prefix}.downloaded", target=export,
                       organisation=export.customer, ip=ip, details={"sha256": export.sha256})


def exports_expire(kind: ExportKind, *, now=None) -> int:
    """Clear the files of expired exports and delete them after the commit, retried until the
    storage confirms (``files_delete_after_commit``); the row stays (done, without file).
    Returns how many exports expired."""
    now = now or timezone.now()
    count = 0
    expired = kind.model.objects.filter(expires_at__lte=now).exclude(file="")
    for export_id in expired.values_list("pk", flat=True):
        with transaction.atomic():
            export = (kind.model.objects.select_for_update(skip_locked=True)
                      .filter(pk=export_id, expires_at__lte=now).exclude(file="").first())
            if export is None:
                continue
            kind.model.objects.filter(pk=export.pk).update(file="")
            audit_event_record(actor=None, action=f"{kind.audit_prefix}.expired",
                               target=export, organisation=export.customer, details={})
            files_delete_after_commit([export.file.name])
            count += 1
    return count
