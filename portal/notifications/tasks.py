"""django-q2 jobs of the outbox: take ids, call one service, idempotent."""

from __future__ import annotations

from portal.jobs import jobs_recover
from portal.notifications.service import FLOW, notification_batch_send, notification_send


def send_batch(batch: str) -> dict[str, int]:
    """The rows one ``notify`` call queued (sent on its commit)."""
    return notification_batch_send(batch)


def send_notification(pk: int) -> str:
    """One row (sent again by the sweep)."""
    return notification_send(pk)


def recover_notifications() -> dict[str, int]:
    """Every few minutes: rows whose task was lost or whose send failed are sent again, or
    failed after the last attempt."""
    return jobs_recover(FLOW)
