"""Writing the audit trail and the access log, and purging both after their retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from portal.audit_actions import audit_action_check
from portal.audit_retention import audit_expired_before
from portal.models import AccessLogEntry, AuditEvent, Organisation, User
from portal.registries import held_organisation_ids
from portal.tenancy import membership_of

SYSTEM = "system"


def _organisation_for(target: models.Model | None, actor: User | None) -> Organisation | None:
    if isinstance(target, Organisation):
        return target
    for attr in ("customer", "organisation"):
        value = getattr(target, attr, None) if target is not None else None
        if isinstance(value, Organisation):
            return value
    if isinstance(target, User):
        membership = membership_of(target) if target.is_active else (
            target.memberships.select_related("organisation").first())
        if membership:
            return membership.organisation
    membership = membership_of(actor)
    return membership.organisation if membership else None


def _require_callers_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    """An audit row must commit or roll back with the change it records: written outside a
    transaction it would survive a change that failed (or vanish from one that succeeded).
    The atomic blocks Django's ``TestCase`` opens around each test do not count, so the whole
    test suite finds callers that forgot ``transaction.atomic``."""
    blocks = transaction.get_connection(using).atomic_blocks
    if not any(not block._from_testcase for block in blocks):
        raise TransactionManagementError(
            "audit events are written inside the transaction of the change they record; "
            "wrap the caller in transaction.atomic")


def audit_event_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    organisation: Organisation | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    target_repr: str | None = None,
) -> AuditEvent:
    """Append one event to the audit trail, inside the caller's transaction; ``action`` and
    the keys of ``details`` must be declared (portal/audit_actions.py). ``target_repr``: what
    the event calls its target when ``str(target)`` would name someone it must not, e.g. a
    person erased in the same transaction (ADR 0016)."""
    _require_callers_transaction()
    audit_action_check(action, details)
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    event = AuditEvent(
        actor=actor_obj,
        actor_label=actor_obj.email if actor_obj else SYSTEM,
        organisation=organisation or _organisation_for(target, actor_obj),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=(target_repr if target_repr is not None
                     else str(target) if target is not None else "")[:255],
        ip_address=ip or None,
        details=details or {},
    )
    event.full_clean()
    event.save()
    return event


def audit_events_record(
    *,
    actor: User | None,
    action: str,
    targets: list[models.Model],
    organisation: Organisation,
    details: list[dict[str, Any]],
    ip: str | None = None,
) -> list[AuditEvent]:
    """One event per target of one action by one actor (e.g. every booking a contract
    cancellation ends), written with one INSERT so the count of queries does not grow with the
    targets. Validated like ``audit_event_record``; the shared actor and organisation once."""
    _require_callers_transaction()
    if len(details) != len(targets):
        raise ValueError("one details dict per target")
    audit_action_check(action, None)
    for detail in details:
        audit_action_check(action, detail)
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    events = [AuditEvent(
        actor=actor_obj, actor_label=actor_obj.email if actor_obj else SYSTEM,
        organisation=organisation, action=action, target_type=target._meta.label_lower,
        target_id=str(target.pk), target_repr=str(target)[:255], ip_address=ip or None,
        details=detail or {}) for target, detail in zip(targets, details, strict=True)]
    for index, event in enumerate(events):
        event.full_clean(exclude=("actor", "organisation") if index else ())
    return AuditEvent.objects.bulk_create(events)


def access_log_record(
    *,
    actor: User,
    method: str,
    path: str,
    view_name: str,
    status_code: int,
    is_download: bool,
    ip: str | None,
    user_agent: str,
) -> AccessLogEntry:
    """Record one authenticated page view or download."""
    membership = membership_of(actor)
    return AccessLogEntry.objects.create(
        user=actor,
        organisation=membership.organisation if membership else None,
        method=method[:8],
        path=path[:500],
        view_name=view_name[:200],
        status_code=status_code,
        is_download=is_download,
        ip_address=ip or None,
        user_agent=user_agent[:300],
    )


def _held_apart(expired: models.QuerySet) -> tuple[models.QuerySet, int]:
    """``expired`` without the rows of organisations a deletion hold keeps (e.g. a legal hold
    of the whole customer, registered by gdpr/ in portal.registries.deletion_holds), and how
    many rows it keeps for that reason. Rows of no organisation are never held."""
    held = held_organisation_ids()
    if not held:
        return expired, 0
    return (expired.exclude(organisation_id__in=held),
            expired.filter(organisation_id__in=held).count())


def access_log_purge(*, actor: User | None, now=None) -> int:
    """Delete access-log entries older than ``ACCESS_LOG_RETENTION_DAYS``, except those of a
    held organisation (the event counts them as ``held``); idempotent."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    with transaction.atomic():
        expired, held = _held_apart(AccessLogEntry.objects.filter(created_at__lt=cutoff))
        deleted, _ = expired.delete()
        audit_event_record(
            actor=actor, action="access_log.purged",
            details={"deleted": deleted, "cutoff": cutoff.isoformat(),
                     "retention_days": settings.ACCESS_LOG_RETENTION_DAYS, "held": held},
        )
    return deleted


def audit_trail_purge(*, actor: User | None, today=None, batch_size: int = 1000) -> int:
    """Delete audit events past their retention (``PORTAL_AUDIT_RETENTION_YEARS`` after the
    end of their calendar year, portal/audit_retention.py) in batches, and record the count
    as one event; idempotent (a second run the same day deletes nothing). The events of a
    held organisation stay until the hold ends (the event counts them as ``held``). One
    transaction: the deletion and the event that records it commit together (ADR 0003)."""
    cutoff = audit_expired_before(today)
    with transaction.atomic():
        events, held = _held_apart(AuditEvent.objects.filter(created_at__lt=cutoff))
        deleted = events.purge_expired(before=cutoff, batch_size=batch_size)
        audit_event_record(
            actor=actor, action="audit.purged",
            details={"deleted": deleted, "cutoff": cutoff.isoformat(),
                     "retention_years": settings.PORTAL_AUDIT_RETENTION_YEARS, "held": held},
        )
    return deleted
