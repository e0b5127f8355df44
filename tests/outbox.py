"""Running the outbox job in tests: what the django-q2 worker does after the commit."""

from __future__ import annotations

from portal.models import Notification, NotificationState
from portal.notifications.tasks import send_batch


def deliver_queued() -> int:
    """Run the send task of every batch with queued rows, as the queued tasks would; returns
    how many rows were sent."""
    batches = set(Notification.objects.filter(state=NotificationState.QUEUED)
                  .values_list("batch", flat=True))
    return sum(send_batch(str(batch)).get("sent", 0) for batch in sorted(batches, key=str))
