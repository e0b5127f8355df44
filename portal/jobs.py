"""Claims on job-driven records: one worker runs a step, proves it lives, and a step whose worker
died is taken over, sent again or failed (docs/adr/0008).

A record (a model inheriting ``portal.models.jobs.ClaimedJob``) goes through *steps*. A step
waits in one state until a worker claims it and is in another while that worker runs it
(``uploaded`` → ``previewing``). ``heartbeat_at`` is the step's last sign of life: when it was
queued, when it was claimed, and every few seconds while it runs. A step without a sign of life
for ``PORTAL_JOB_STALE_SECONDS`` (longer than django-q2 lets a task run) is stuck: its worker
died or its task was lost, and whatever it wrote in a transaction was rolled back. Then

- a task delivered again takes the claim over and runs the step again (``job_claim``);
- the sweep (``jobs_recover``, a scheduled job of each app) puts it back in its queue;
- after ``PORTAL_JOB_MAX_ATTEMPTS`` attempts the flow's ``give_up`` fails it with a message.

A worker writes its final result inside a transaction that starts with ``Claim.hold()``: the
record stays locked until the commit, and a worker whose claim was taken over meanwhile stops
with ``ClaimLost`` instead of writing twice. Core imports no feature app: apps pass their model,
states and tasks in a ``JobFlow``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.services.audit import audit_event_record

CLAIM_FIELDS = ("claimed_at", "claimed_by", "heartbeat_at", "attempts")


class ClaimLost(Exception):
    """This worker's claim was taken over, or the record left the step (e.g. cancelled)."""


class Outcome(StrEnum):
    CLAIMED = "claimed"          # taken from the waiting state: run the step
    TAKEN_OVER = "taken_over"    # a dead worker's stale claim: run the step again
    BUSY = "busy"                # a live worker runs it: do nothing
    EXHAUSTED = "exhausted"      # stale, but no attempt left: failed by the flow's give_up
    GONE = "gone"                # in no state of the step (done, cancelled, deleted)


class Stuck(StrEnum):
    """Why a step is given up; the flow's message depends on it."""

    NOT_STARTED = "not_started"  # queued, but no worker ever claimed it (task lost, queue down)
    INTERRUPTED = "interrupted"  # a worker claimed it and died before it finished


@dataclass(frozen=True)
class Step:
    """One job-driven step: ``waiting`` until claimed, ``running`` while a worker runs it;
    ``task`` is the dotted path of the django-q2 function, called with the record's pk."""

    waiting: str
    running: str
    task: str


@dataclass(frozen=True)
class JobFlow:
    """The steps of one model. ``give_up(record, step, why)`` marks a record failed with a
    message and an audit event; it runs inside the caller's transaction, the record locked."""

    model: type[models.Model]
    steps: tuple[Step, ...]
    audit_prefix: str
    give_up: Callable[[models.Model, Step, Stuck], None]
    state_field: str = "status"

    def state_of(self, record: models.Model) -> str:
        return getattr(record, self.state_field)

    def step_of(self, record: models.Model) -> Step | None:
        state = self.state_of(record)
        return next((step for step in self.steps if state in (step.waiting, step.running)), None)

    @property
    def job_states(self) -> list[str]:
        return [state for step in self.steps for state in (step.waiting, step.running)]

    def objects(self) -> QuerySet:
        return self.model._default_manager.all()


def worker_name() -> str:
    """Who claims: ``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def stale_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.PORTAL_JOB_STALE_SECONDS)


def is_stale(record: models.Model, now: datetime | None = None) -> bool:
    """No sign of life for ``PORTAL_JOB_STALE_SECONDS`` (or never one: rows from before claims)."""
    return record.heartbeat_at is None or record.heartbeat_at < stale_cutoff(now)


def stuck_reason(flow: JobFlow, record: models.Model) -> Stuck:
    step = flow.step_of(record)
    if step and flow.state_of(record) == step.waiting and record.claimed_at is None:
        return Stuck.NOT_STARTED
    return Stuck.INTERRUPTED


# --- Queueing -----------------------------------------------------------------------------------

def _send_on_commit(step: Step, pk, *, inline: bool) -> None:
    def send() -> None:
        if inline:
            import_string(step.task)(pk)
            return
        from django_q.tasks import async_task

        async_task(step.task, pk, task_name=f"{step.task}:{pk}")

    transaction.on_commit(send)


def job_queue(flow: JobFlow, record: models.Model, step: Step, *, inline: bool = False,
              update_fields: tuple[str, ...] = (), now: datetime | None = None) -> None:
    """Put ``record`` into ``step``'s waiting state and send its task once the caller's
    transaction commits (``inline``: run it in this process instead). Saves ``update_fields``
    too. A new step starts without claim and attempts; its queue time is its sign of life."""
    setattr(record, flow.state_field, step.waiting)
    record.claimed_at = None
    record.claimed_by = ""
    record.heartbeat_at = now or timezone.now()
    record.attempts = 0
    record.save(update_fields=[flow.state_field, *CLAIM_FIELDS, *update_fields])
    _send_on_commit(step, record.pk, inline=inline)


# --- Claims -------------------------------------------------------------------------------------

@dataclass
class Claim:
    """The result of ``job_claim``; when ``acquired``, this worker runs the step."""

    flow: JobFlow
    step: Step
    outcome: Outcome
    record: models.Model | None = None
    worker: str = ""
    attempt: int = 0
    beaten_at: datetime | None = field(default=None, repr=False)

    @property
    def acquired(self) -> bool:
        return self.outcome in (Outcome.CLAIMED, Outcome.TAKEN_OVER)

    def _mine(self) -> QuerySet:
        return self.flow.objects().filter(
            pk=self.record.pk, claimed_by=self.worker, attempts=self.attempt,
            **{self.flow.state_field: self.step.running})

    def beat(self, *, force: bool = False, **fields) -> None:
        """Refresh the sign of life (and ``fields``, e.g. progress) with one UPDATE, at most
        every ``PORTAL_JOB_HEARTBEAT_SECONDS`` unless ``force``. Call it outside a transaction:
        inside one, nobody sees it before the commit. Raises ``ClaimLost``."""
        now = timezone.now()
        if (not force and self.beaten_at is not None
                and (now - self.beaten_at).total_seconds() < settings.PORTAL_JOB_HEARTBEAT_SECONDS):
            return
        if not self._mine().update(heartbeat_at=now, **fields):
            raise ClaimLost(f"{self.flow.audit_prefix} {self.record.pk}: claim lost")
        self.beaten_at = now

    def hold(self) -> None:
        """Lock the record for the step's result (call first inside the writing transaction).
        Until the commit nobody can take the claim over; raises ``ClaimLost`` if it is gone."""
        if not list(self._mine().select_for_update(of=("self",)).values_list("pk", flat=True)):
            raise ClaimLost(f"{self.flow.audit_prefix} {self.record.pk}: claim lost")


def job_claim(flow: JobFlow, step: Step, pk, *, queryset: QuerySet | None = None,
              reset: dict | None = None, now: datetime | None = None) -> Claim:
    """Claim ``step`` of record ``pk`` for this worker: from the waiting state, or over a stale
    claim of a dead worker (another attempt). A live worker's claim is left alone (``BUSY``);
    a stale one without attempts left is given up (``EXHAUSTED``). Idempotent per delivery.
    ``reset``: fields saved with the claim (e.g. progress back to zero)."""
    now = now or timezone.now()
    with transaction.atomic():
        record = ((queryset if queryset is not None else flow.objects())
                  .select_for_update(of=("self",)).filter(pk=pk).first())
        state = flow.state_of(record) if record is not None else None
        if state == step.waiting:
            outcome = Outcome.CLAIMED
        elif state == step.running and not is_stale(record, now):
            return Claim(flow, step, Outcome.BUSY, record)
        elif state == step.running and record.attempts >= settings.PORTAL_JOB_MAX_ATTEMPTS:
            flow.give_up(record, step, Stuck.INTERRUPTED)
            return Claim(flow, step, Outcome.EXHAUSTED, record)
        elif state == step.running:
            outcome = Outcome.TAKEN_OVER
            _audit(flow, record, "taken_over", step, now)
        else:
            return Claim(flow, step, Outcome.GONE, record)
        setattr(record, flow.state_field, step.running)
        record.claimed_at = now
        record.claimed_by = worker_name()
        record.heartbeat_at = now
        record.attempts += 1
        for name, value in (reset or {}).items():
            setattr(record, name, value)
        record.save(update_fields=[flow.state_field, *CLAIM_FIELDS, *(reset or {})])
    return Claim(flow, step, outcome, record, record.claimed_by, record.attempts, now)


def _audit(flow: JobFlow, record: models.Model, verb: str, step: Step, now: datetime) -> None:
    audit_event_record(actor=None, action=f"{flow.audit_prefix}.{verb}", target=record, details={
        "state": flow.state_of(record), "step": step.running, "worker": record.claimed_by,
        "attempts": record.attempts,
        "last_sign_of_life": record.heartbeat_at.isoformat() if record.heartbeat_at else None,
        "at": now.isoformat()})


# --- Stuck steps ----------------------------------------------------------------------------------

def jobs_stuck(flow: JobFlow, *, now: datetime | None = None) -> QuerySet:
    """Records in a step (waiting or running) without a sign of life for too long."""
    return flow.objects().filter(**{f"{flow.state_field}__in": flow.job_states}).filter(
        Q(heartbeat_at__lt=stale_cutoff(now)) | Q(heartbeat_at__isnull=True))


def jobs_recover(flow: JobFlow, *, now: datetime | None = None) -> dict[str, int]:
    """The sweep: every stuck step goes back to its queue and its task is sent again, or, with
    no attempt left, is given up. A record a live worker has locked is skipped. Idempotent."""
    now = now or timezone.now()
    result = {"resent": 0, "failed": 0}
    for pk in list(jobs_stuck(flow, now=now).values_list("pk", flat=True)):
        with transaction.atomic():
            record = (jobs_stuck(flow, now=now).select_for_update(skip_locked=True, of=("self",))
                      .filter(pk=pk).first())
            if record is None:  # it moved on meanwhile, or a worker holds it right now
                continue
            step = flow.step_of(record)
            if record.attempts >= settings.PORTAL_JOB_MAX_ATTEMPTS:
                flow.give_up(record, step, stuck_reason(flow, record))
                result["failed"] += 1
                continue
            _audit(flow, record, "resent", step, now)
            if flow.state_of(record) == step.waiting:
                record.attempts += 1  # its task was lost: sending it again is another attempt
            setattr(record, flow.state_field, step.waiting)
            record.claimed_by = ""
            record.heartbeat_at = now
            record.save(update_fields=[flow.state_field, *CLAIM_FIELDS])
            _send_on_commit(step, record.pk, inline=False)
            result["resent"] += 1
    return result


@dataclass(frozen=True)
class Activity:
    """What a page may say about a record's step (computed here, shown by templates)."""

    step: Step | None
    phase: str  # "" (in no step), "queued", "running" or "stuck"
    attempts: int
    last_sign_of_life: datetime | None
    retried: bool  # an earlier attempt of this step was interrupted or lost

    @property
    def refresh(self) -> bool:
        """Something runs or waits to run: a page showing it may reload itself."""
        return self.phase in ("queued", "running")


def job_activity(flow: JobFlow, record: models.Model, now: datetime | None = None) -> Activity:
    step = flow.step_of(record)
    waiting = step is not None and flow.state_of(record) == step.waiting
    if step is None:
        phase = ""
    elif is_stale(record, now):
        phase = "stuck"
    else:
        phase = "queued" if waiting else "running"
    retried = record.attempts > 1 or (waiting and record.claimed_at is not None)
    return Activity(step, phase, record.attempts, record.heartbeat_at, retried)
