"""Stored files of deleted rows (documents, exports): deleted only after the purge or erasure
has committed, and retried until the storage confirms (issue 11 item 5).

Inside the transaction each path becomes a :class:`PendingFileDeletion` row, so a crash
between the commit and the deletion loses nothing; after the commit the files are deleted and
their rows go. A failure keeps the row with the error, and the hourly job
``gdpr.pending_files_retry`` tries again. A rolled-back purge rolls the rows back too and no
file is touched.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from gdpr.models import PendingFileDeletion

log = logging.getLogger(__name__)


def files_delete_after_commit(paths: list[str]) -> None:
    """The purge's file sink (``portal.privacy.FileSink``)."""
    paths = sorted(set(filter(None, paths)))
    if not paths:
        return
    PendingFileDeletion.objects.bulk_create(
        [PendingFileDeletion(path=path) for path in paths], ignore_conflicts=True)
    transaction.on_commit(lambda: pending_files_delete(paths=paths))


def pending_files_delete(*, paths: list[str] | None = None) -> dict[str, int]:
    """Delete the pending files (all, or those of ``paths``); a file that is already gone
    counts as deleted. Returns the counts of deleted and still pending files."""
    pending = PendingFileDeletion.objects.all()
    if paths is not None:
        pending = pending.filter(path__in=paths)
    done = failed = 0
    for row in pending.order_by("pk").iterator():
        try:
            default_storage.delete(row.path)
        except Exception as exc:  # noqa: BLE001 - every storage error is retried later
            log.warning("file deletion failed for %s: %s", row.path, exc)
            PendingFileDeletion.objects.filter(pk=row.pk).update(
                attempts=row.attempts + 1, last_error=str(exc)[:300],
                last_attempt_at=timezone.now())
            failed += 1
        else:
            PendingFileDeletion.objects.filter(pk=row.pk).delete()
            done += 1
    return {"deleted": done, "pending": failed}
