"""No import left stuck: claims with a heartbeat, takeover of dead workers, the recovery sweep,
failure after the last attempt, cleanup of every state, the lost race (portal/jobs.py,
docs/adr/0008). The worker-kill test with real processes is in test_worker_kill.py."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.brokers import get_broker

from devices import tasks
from devices.models import Device, DeviceImport, DeviceKind, ImportStatus
from devices.services import (
    APPLY,
    IMPORT_FLOW,
    PREVIEW,
    device_import_cancel,
    device_import_confirm,
    device_imports_cleanup,
    device_imports_recover,
)
from devices.services import imports as services
from portal import jobs
from portal.jobs import ClaimLost, Outcome, job_claim, worker_name
from portal.models import AuditEvent
from portal.registries import schedules as JOB_REGISTRY
from tests.devices.conftest import CLOCK_START
from tests.devices.test_import_jobs import GOOD, actions, csv_of, upload

JOBS = tuple(JOB_REGISTRY)

START = CLOCK_START  # the ``clock`` fixture stands still there
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def stale() -> timedelta:
    return timedelta(seconds=settings.PORTAL_JOB_STALE_SECONDS + 1)


@pytest.fixture
def queued(clock, run, admin, customer, settings):
    """An import whose preview waits as a job (a large file)."""
    settings.DEVICE_IMPORT_INLINE_BYTES = 0
    return upload(run, admin, customer)


@pytest.fixture
def confirmed(queued, run, admin):
    """An import whose apply waits as a job."""
    tasks.preview_import(queued.pk)
    return run(device_import_confirm, actor=admin, device_import=queued)


def claimed_by_a_worker_that_dies(monkeypatch, step, pk):
    monkeypatch.setattr(jobs, "worker_name", lambda: "dead-host:4711")
    claim = job_claim(IMPORT_FLOW, step, pk)
    monkeypatch.undo()
    return claim


def stored(device_import) -> DeviceImport:
    return DeviceImport.objects.get(pk=device_import.pk)


# --- Claims -------------------------------------------------------------------------------------

def test_claim_records_who_and_when(queued):
    claim = job_claim(IMPORT_FLOW, PREVIEW, queued.pk)
    assert claim.outcome == Outcome.CLAIMED and claim.acquired
    record = stored(queued)
    assert record.status == ImportStatus.PREVIEWING
    assert record.claimed_by == worker_name() and ":" in record.claimed_by
    assert record.claimed_at == record.heartbeat_at == START
    assert record.attempts == 1


def test_a_live_workers_claim_is_left_alone(queued, clock):
    job_claim(IMPORT_FLOW, PREVIEW, queued.pk)
    clock.shift(stale() - timedelta(seconds=2))
    assert job_claim(IMPORT_FLOW, PREVIEW, queued.pk).outcome == Outcome.BUSY
    assert tasks.preview_import(queued.pk) is None, "the redelivered task does nothing"
    record = stored(queued)
    assert (record.status, record.attempts) == (ImportStatus.PREVIEWING, 1)


def test_a_dead_workers_claim_is_taken_over_and_fenced_off(queued, clock, monkeypatch):
    dead = claimed_by_a_worker_that_dies(monkeypatch, PREVIEW, queued.pk)
    clock.shift(stale())
    taken = job_claim(IMPORT_FLOW, PREVIEW, queued.pk)
    assert taken.outcome == Outcome.TAKEN_OVER
    record = stored(queued)
    assert (record.claimed_by, record.attempts) == (worker_name(), 2)
    event = AuditEvent.objects.get(action="device_import.taken_over")
    assert event.details["worker"] == "dead-host:4711" and event.actor is None
    # Should the old worker wake up after all, it can neither report nor write.
    with pytest.raises(ClaimLost):
        dead.beat(force=True, rows_done=99)
    with pytest.raises(ClaimLost), transaction.atomic():
        dead.hold()
    taken.beat(force=True, rows_done=1)
    assert stored(queued).rows_done == 1


def test_after_the_last_attempt_a_stale_claim_is_failed(queued, clock, settings):
    settings.PORTAL_JOB_MAX_ATTEMPTS = 2
    job_claim(IMPORT_FLOW, PREVIEW, queued.pk)
    clock.shift(stale())
    assert job_claim(IMPORT_FLOW, PREVIEW, queued.pk).outcome == Outcome.TAKEN_OVER
    clock.shift(stale())
    assert job_claim(IMPORT_FLOW, PREVIEW, queued.pk).outcome == Outcome.EXHAUSTED
    record = stored(queued)
    assert record.status == ImportStatus.FAILED and record.finished_at
    assert "Die Prüfung der Datei wurde unterbrochen (Versuche: 2" in record.error
    assert "Es wurde nichts übernommen" in record.error
    assert actions(record)[-1] == "device_import.failed"
    assert tasks.preview_import(queued.pk) is None
    assert default_storage.exists(record.storage_path), "the file goes after the keep period"


def test_a_finished_or_missing_step_is_gone(confirmed):
    assert job_claim(IMPORT_FLOW, PREVIEW, confirmed.pk).outcome == Outcome.GONE
    assert job_claim(IMPORT_FLOW, APPLY, confirmed.pk + 1000).outcome == Outcome.GONE
    assert tasks.apply_import(confirmed.pk) == ImportStatus.DONE
    assert job_claim(IMPORT_FLOW, APPLY, confirmed.pk).outcome == Outcome.GONE
    assert tasks.apply_import(confirmed.pk) is None
    assert Device.objects.count() == 2
    assert actions(confirmed).count("device_import.applied") == 1


def test_redelivered_task_takes_over_a_crashed_apply_and_completes(confirmed, clock,
                                                                   monkeypatch):
    claimed_by_a_worker_that_dies(monkeypatch, APPLY, confirmed.pk)
    clock.shift(stale())
    assert tasks.apply_import(confirmed.pk) == ImportStatus.DONE
    record = stored(confirmed)
    assert (record.attempts, record.storage_path) == (2, "")
    assert Device.objects.filter(customer=record.customer).count() == 2
    assert actions(record)[-2:] == ["device_import.taken_over", "device_import.applied"]


def test_heartbeat_writes_at_most_every_few_seconds(queued, clock, settings,
                                                    django_assert_num_queries):
    settings.PORTAL_JOB_HEARTBEAT_SECONDS = 5
    claim = job_claim(IMPORT_FLOW, PREVIEW, queued.pk)
    with django_assert_num_queries(0):
        claim.beat(rows_done=1)
        clock.shift(timedelta(seconds=4))
        claim.beat(rows_done=2)
    clock.shift(timedelta(seconds=2))
    with django_assert_num_queries(1):
        claim.beat(rows_done=3)
    record = stored(queued)
    assert (record.rows_done, record.heartbeat_at) == (3, START + timedelta(seconds=6))
    with django_assert_num_queries(1):
        claim.beat(force=True)


def test_a_large_preview_does_not_write_per_row(queued, monkeypatch):
    from devices import importing

    rows = [f"pc-{n:04};SN-{n};workstation;x" for n in range(3000)]
    queued.storage_path = default_storage.save("device-imports/gross.csv",
                                               ContentFile(csv_of(*rows)))
    queued.save(update_fields=["storage_path"])
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 1)  # the planner reports every row
    with CaptureQueriesContext(connection) as queries:
        assert tasks.preview_import(queued.pk) == ImportStatus.PREVIEWED
    writes = [q for q in queries.captured_queries
              if q["sql"].startswith("UPDATE") and "devices_deviceimport" in q["sql"]]
    assert len(writes) <= 5, "claim, start, rows total and result; no per-row heartbeat"


# --- The sweep ----------------------------------------------------------------------------------

def test_sweep_sends_lost_and_dead_steps_again(confirmed, clock, run, admin, customer, monkeypatch,
                                              django_capture_on_commit_callbacks):
    lost = upload(run, admin, customer, csv_of("pc-07;SN-7;server;x"))  # its task never ran
    claimed_by_a_worker_that_dies(monkeypatch, APPLY, confirmed.pk)
    clock.shift(stale())
    fresh = upload(run, admin, customer, csv_of("pc-08;SN-8;server;x"))
    broker = get_broker()
    queued_before = broker.queue_size()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recover_imports() == {"resent": 2, "failed": 0}
    assert broker.queue_size() == queued_before + 2
    assert device_imports_recover() == {"resent": 0, "failed": 0}, "once per stale period"
    lost, dead, fresh = stored(lost), stored(confirmed), stored(fresh)
    assert (lost.status, lost.attempts, lost.heartbeat_at) == (ImportStatus.UPLOADED, 1,
                                                                timezone.now())
    assert (dead.status, dead.claimed_by, dead.attempts) == (ImportStatus.CONFIRMED, "", 1)
    assert (fresh.status, fresh.attempts) == (ImportStatus.UPLOADED, 0)
    assert AuditEvent.objects.filter(action="device_import.resent").count() == 2

    assert tasks.preview_import(lost.pk) == ImportStatus.PREVIEWED
    assert tasks.apply_import(dead.pk) == ImportStatus.DONE
    assert stored(dead).attempts == 2
    assert Device.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize("language", ["de", "en"])
def test_sweep_fails_a_step_after_the_last_attempt(confirmed, clock, settings, monkeypatch,
                                                   admin, language):
    def tagged(text):
        from django.utils import translation

        return f"[{translation.get_language()}] {text}"

    admin.language = language
    admin.save(update_fields=["language"])
    settings.PORTAL_JOB_MAX_ATTEMPTS = 1
    claimed_by_a_worker_that_dies(monkeypatch, APPLY, confirmed.pk)
    clock.shift(stale())
    monkeypatch.setattr(services, "_", tagged)
    assert device_imports_recover() == {"resent": 0, "failed": 1}
    record = stored(confirmed)
    assert record.status == ImportStatus.FAILED and record.counts == {}
    assert record.error.startswith(f"[{language}] ")
    assert "Die Übernahme der Geräte wurde unterbrochen (Versuche: 1" in record.error
    assert "09:00" in record.error and "nicht mehr neu gestartet" in record.error
    event = AuditEvent.objects.filter(action="device_import.failed").get()
    assert event.actor is None and event.details["status"] == ImportStatus.FAILED
    assert Device.objects.count() == 0
    path = record.storage_path
    assert default_storage.exists(path)
    clock.shift(timedelta(hours=settings.DEVICE_IMPORT_KEEP_HOURS))
    assert device_imports_cleanup() == 1
    assert not default_storage.exists(path) and stored(record).status == ImportStatus.FAILED


def test_a_task_lost_again_and_again_fails_as_not_started(queued, clock, settings):
    settings.PORTAL_JOB_MAX_ATTEMPTS = 1
    clock.shift(stale())
    assert device_imports_recover() == {"resent": 1, "failed": 0}
    clock.shift(stale())
    assert device_imports_recover() == {"resent": 0, "failed": 1}
    record = stored(queued)
    assert record.status == ImportStatus.FAILED
    assert record.error.startswith("Die Prüfung der Datei ist nicht angelaufen")


def test_recovery_is_scheduled_every_few_minutes():
    job = next(job for job in JOBS if job.func == "devices.tasks.recover_imports")
    assert job.cron == "*/5 * * * *"
    assert settings.Q_CLUSTER["timeout"] < settings.PORTAL_JOB_STALE_SECONDS


# --- Cleanup and cancel -------------------------------------------------------------------------

AFTER_CLEANUP = {ImportStatus.PREVIEWED: ImportStatus.CANCELLED,
                 **{state: ImportStatus.FAILED for state in IMPORT_FLOW.job_states}}


def stored_import(customer, admin, status, **fields) -> DeviceImport:
    """An import in ``status`` with a stored file, its step's last sign of life now (and its
    claim, when ``claimed_by`` is given)."""
    path = default_storage.save("device-imports/liste.csv", ContentFile(GOOD))
    claimed_at = timezone.now() if fields.get("claimed_by") else None
    return DeviceImport.objects.create(
        customer=customer, created_by=admin, confirmed_by=admin, status=status,
        file_name="liste.csv", file_format="csv", file_size=20_000_000, file_sha256="0" * 64,
        storage_path=path, heartbeat_at=timezone.now(), claimed_at=claimed_at, **fields)


@pytest.mark.parametrize("status", list(ImportStatus))
def test_cleanup_leaves_no_stored_file_in_any_state(clock, customer, admin, status):
    device_import = stored_import(customer, admin, status)
    path = device_import.storage_path
    clock.shift(timedelta(hours=settings.DEVICE_IMPORT_KEEP_HOURS, minutes=1))
    running = status in {ImportStatus.PREVIEWING, ImportStatus.APPLYING}
    if running:  # a live worker on it right now keeps the file until the next cleanup
        DeviceImport.objects.filter(pk=device_import.pk).update(heartbeat_at=timezone.now())
        assert device_imports_cleanup() == 0 and default_storage.exists(path)
        clock.shift(stale())
    assert device_imports_cleanup() == 1
    record = stored(device_import)
    assert not default_storage.exists(path) and record.storage_path == ""
    assert record.status == AFTER_CLEANUP.get(status, status)
    assert actions(record)[-1] == "device_import.file_deleted"


def test_failed_stuck_and_waiting_imports_can_be_cancelled(run, admin, customer, clock):
    failed = stored_import(customer, admin, ImportStatus.FAILED)
    waiting = stored_import(customer, admin, ImportStatus.CONFIRMED)
    running = stored_import(customer, admin, ImportStatus.APPLYING, claimed_by="w:1", attempts=1)
    for device_import in (failed, waiting):
        path = device_import.storage_path
        record = run(device_import_cancel, actor=admin, device_import=device_import)
        assert record.status == ImportStatus.CANCELLED and not default_storage.exists(path)
    assert tasks.apply_import(waiting.pk) is None and Device.objects.count() == 0
    with pytest.raises(ValidationError, match="nicht mehr abgebrochen"):
        run(device_import_cancel, actor=admin, device_import=running)
    clock.shift(stale())
    assert run(device_import_cancel, actor=admin,
               device_import=running).status == ImportStatus.CANCELLED


# --- The lost race ------------------------------------------------------------------------------

def test_lost_race_names_the_clashes_with_honest_counts(confirmed, customer, monkeypatch):
    """Another writer adds SN-1 and the hostname srv-01 between the apply's plan and its write:
    the database refuses the write; the import says which serial and hostname clashed."""
    original, raced = services.plan_import, []

    def plan_then_someone_else_writes(*args, **kwargs):
        plan = original(*args, **kwargs)
        if not raced:
            raced.append(True)
            Device.objects.create(customer=customer, serial_number="SN-1", hostname="anders-01",
                                  kind=DeviceKind.SERVER)
            Device.objects.create(customer=customer, serial_number="SN-77", hostname="srv-01",
                                  kind=DeviceKind.SERVER)
        return plan

    monkeypatch.setattr(services, "plan_import", plan_then_someone_else_writes)
    assert tasks.apply_import(confirmed.pk) == ImportStatus.FAILED
    record = stored(confirmed)
    assert "Inzwischen vergeben: Seriennummern SN-1; Hostnamen srv-01." in record.error
    assert "Es wurde nichts übernommen" in record.error
    assert "UNIQUE" not in record.error and "constraint" not in record.error.lower()
    assert record.counts == {"new": 0, "changed": 1, "unchanged": 0, "invalid": 1}
    assert [m["serial"] for m in record.messages if m["status"] == "invalid"] == ["SN-2"]
    assert set(Device.objects.values_list("serial_number", flat=True)) == {"SN-1", "SN-77"}
    assert actions(record)[-1] == "device_import.failed"


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a real write race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_devices_one_fails_naming_them(run, admin, customer, settings,
                                                               monkeypatch):
    settings.DEVICE_IMPORT_INLINE_BYTES = 0
    imports = [upload(run, admin, customer) for _ in range(2)]
    for device_import in imports:
        tasks.preview_import(device_import.pk)
        run(device_import_confirm, actor=admin, device_import=device_import)
    barrier, original = threading.Barrier(2, timeout=20), services.apply_plan

    def together(*args, **kwargs):
        barrier.wait()  # both planned "2 new"; now both write at once
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "apply_plan", together)
    results = {}

    def apply(pk):
        try:
            results[pk] = tasks.apply_import(pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(item.pk,)) for item in imports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [ImportStatus.DONE, ImportStatus.FAILED]
    loser = stored(next(item for item in imports if results[item.pk] == ImportStatus.FAILED))
    assert "Inzwischen vergeben: Seriennummern SN-1, SN-2." in loser.error
    assert loser.counts == {"new": 0, "changed": 0, "unchanged": 2, "invalid": 0}
    assert Device.objects.filter(customer=customer).count() == 2
