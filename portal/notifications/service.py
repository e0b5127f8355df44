"""Queueing notifications (inside the caller's transaction) and sending them (in a job).

``notify`` decides who is told, by the event's registered rule, and writes one outbox row per
recipient; after the commit one django-q2 task sends the rows of that call. Sending follows the
job claims of docs/adr/0008: a row is claimed (``queued`` → ``sending``), locked while its
e-mail leaves, and marked ``sent`` in the same transaction, so a task delivered twice or two
workers at once send it once. A failed send goes back to ``queued`` with its error; the sweep
sends it again later and, after ``PORTAL_JOB_MAX_ATTEMPTS``, marks it ``failed``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from portal.jobs import JobFlow, Step, Stuck, job_claim
from portal.mail import send_templated_mail
from portal.notifications.models import Notification, NotificationState
from portal.notifications.registry import Event, rules
from portal.services.audit import audit_event_record

logger = logging.getLogger(__name__)

SEND = Step(waiting=NotificationState.QUEUED, running=NotificationState.SENDING,
            task="portal.notifications.tasks.send_notification")


def _give_up(record: Notification, step: Step, why: Stuck) -> None:
    record.state = NotificationState.FAILED
    record.last_error = (record.last_error or why.value)[:2000]
    record.save(update_fields=["state", "last_error"])
    audit_event_record(actor=None, action="notification.failed", target=record,
                       details={"event": record.event, "attempts": record.attempts,
                                "why": why.value})


FLOW = JobFlow(model=Notification, steps=(SEND,), audit_prefix="notification",
               give_up=_give_up, state_field="state")


def _unique_people(people) -> list:
    """Each address once, only people who can receive e-mail, in the rule's order."""
    seen, unique = set(), []
    for person in people:
        address = (getattr(person, "email", "") or "").strip()
        if not address or not person.is_active or address.lower() in seen:
            continue
        seen.add(address.lower())
        unique.append(person)
    return unique


def notify(*, event: str, actor=None, customer=None, person=None,
           context: dict | None = None) -> list[Notification]:
    """Queue the e-mails of ``event`` (its registered rule decides to whom); they are sent by
    a job once the caller's transaction commits, or never if it rolls back. ``context`` holds
    JSON-safe references (ids, dates as text) the rule's template context is built from."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify() belongs inside the service's transaction")
    rule = rules.get(event)
    happened = Event(event=event, actor=actor, customer=customer, person=person,
                     context=dict(context or {}))
    now = timezone.now()
    rows = [Notification(event=event, template=rule.template, customer=customer,
                         actor=actor if getattr(actor, "pk", None) else None,
                         recipient=recipient, email=recipient.email,
                         language=getattr(recipient, "language", "") or "de",
                         context=happened.context, heartbeat_at=now)
            for recipient in _unique_people(rule.recipients(happened))]
    if not rows:
        return []
    batch = rows[0].batch
    for row in rows:
        row.batch = batch
    Notification.objects.bulk_create(rows)
    transaction.on_commit(lambda: _queue_batch(batch))
    return rows


def _queue_batch(batch) -> None:
    from django_q.tasks import async_task

    async_task("portal.notifications.tasks.send_batch", str(batch),
               task_name=f"notifications:{batch}")


def notification_batch_send(batch) -> dict[str, int]:
    """Send every waiting row of one ``notify`` call (the task queued on commit)."""
    result: dict[str, int] = {}
    for pk in list(Notification.objects.filter(batch=batch).order_by("pk")
                   .values_list("pk", flat=True)):
        outcome = notification_send(pk)
        result[outcome] = result.get(outcome, 0) + 1
    return result


def _attachment_ids(row: Notification, rule) -> list[int]:
    """Documents are made once per ``notify`` call and shared by its rows: the batch's rows
    are locked while the first of them makes them, so a worker sending a sibling at the same
    time waits and then finds their ids."""
    if row.document_ids or rule.attachments is None:
        return row.document_ids
    with transaction.atomic():
        made = [ids for ids in (Notification.objects.select_for_update()
                                .filter(batch=row.batch).order_by("pk")
                                .values_list("document_ids", flat=True)) if ids]
        ids = list(made[0]) if made else list(rule.attachments(row))
        Notification.objects.filter(batch=row.batch, document_ids=[]).update(document_ids=ids)
    row.document_ids = ids
    return ids


def _attachments(ids: list[int]) -> list[tuple[str, bytes, str]]:
    if not ids:
        return []
    from portal.documents.models import Document  # core, built next to this service

    documents = Document.objects.filter(pk__in=ids).order_by("pk")
    files = []
    for document in documents:
        with document.file.open("rb") as handle:
            files.append((document.filename, handle.read(), document.content_type))
    return files


def notification_send(pk) -> str:
    """Send one outbox row unless it is sent, being sent or gone; returns the outcome."""
    claim = job_claim(FLOW, SEND, pk)
    if not claim.acquired:
        return claim.outcome.value
    row = claim.record
    rule = rules.get(row.event)
    try:
        attachments = _attachments(_attachment_ids(row, rule))
        context = rule.context(row)
    except Exception as exc:  # noqa: BLE001 - the row records it; the sweep tries again
        return _back_to_queue(claim, row, exc)
    with transaction.atomic():
        claim.hold()  # locked until the commit: nobody else sends this row meanwhile
        try:
            send_templated_mail(to=row.email, template=row.template, language=row.language,
                                context={"user": row.recipient, **context},
                                attachments=attachments)
        except Exception as exc:  # noqa: BLE001 - SMTP refused or unreachable
            transaction.set_rollback(True)
            failure = exc
        else:
            failure = None
            row.state = NotificationState.SENT
            row.sent_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["state", "sent_at", "last_error"])
            audit_event_record(actor=None, action="notification.sent", target=row,
                               details={"event": row.event, "template": row.template,
                                        "attempts": row.attempts,
                                        "documents": row.document_ids})
            if rule.on_sent is not None:
                rule.on_sent(row)
    if failure is not None:
        return _back_to_queue(claim, row, failure)
    return "sent"


def _back_to_queue(claim, row: Notification, exc: Exception) -> str:
    logger.warning("notification %s not sent: %s", row.pk, exc)
    with transaction.atomic():
        claim.hold()
        row.state = NotificationState.QUEUED
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        row.heartbeat_at = timezone.now()
        row.save(update_fields=["state", "last_error", "heartbeat_at"])
    return "retry"
