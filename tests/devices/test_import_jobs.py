"""Imports as jobs: upload → preview → confirm → apply, cancel, cleanup; progress, audit, races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.test import override_settings
from django.utils import timezone, translation
from django_q.brokers import get_broker

from devices import importing, tasks
from devices.exporting import export_devices
from devices.models import Device, DeviceImport, DeviceKind, ImportStatus
from devices.services import (
    device_import_cancel,
    device_import_confirm,
    device_import_upload,
    device_imports_cleanup,
)
from devices.services import imports as services
from portal.jobs import worker_name
from portal.models import AuditEvent

HEADER = "hostname;serial;kind;location\r\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\r\n" for row in rows)).encode()


GOOD = csv_of("pc-01;SN-1;workstation;Büro Süd", "srv-01;SN-2;Server;Keller")


def upload(run, admin, customer, data=GOOD, name="geraete.csv"):
    return run(device_import_upload, actor=admin, customer=customer, file_name=name, data=data)


def actions(device_import) -> list[str]:
    return list(AuditEvent.objects.filter(target_type="devices.deviceimport",
                                          target_id=str(device_import.pk))
                .order_by("id").values_list("action", flat=True))


# --- The inline path ----------------------------------------------------------------------------

def test_small_file_is_previewed_confirmed_and_applied(run, admin, customer):
    device_import = upload(run, admin, customer)
    assert device_import.status == ImportStatus.PREVIEWED
    assert device_import.counts == {"new": 2, "changed": 0, "unchanged": 0, "invalid": 0}
    assert (device_import.rows_total, device_import.rows_done) == (2, 2)
    assert [m["status"] for m in device_import.messages] == ["new", "new"]
    assert Device.objects.count() == 0, "nothing is written before the confirmation"
    path = device_import.storage_path
    assert path and default_storage.exists(path)

    device_import = run(device_import_confirm, actor=admin, device_import=device_import)
    assert device_import.status == ImportStatus.DONE
    assert device_import.confirmed_by == admin and device_import.finished_at
    assert set(Device.objects.values_list("serial_number", "customer")) == {
        ("SN-1", customer.pk), ("SN-2", customer.pk)}
    assert Device.objects.get(serial_number="SN-1").created_by == admin
    assert device_import.storage_path == "" and not default_storage.exists(path)

    assert actions(device_import) == ["device_import.uploaded", "device_import.previewed",
                                      "device_import.confirmed", "device_import.applied"]
    applied = AuditEvent.objects.get(action="device_import.applied")
    assert applied.details["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "invalid": 0}
    assert applied.actor == admin and applied.organisation == customer
    uploaded = AuditEvent.objects.get(action="device_import.uploaded")
    assert uploaded.details["file"] == "geraete.csv" and uploaded.details["bytes"] == len(GOOD)


def test_same_file_again_is_all_unchanged(run, admin, customer):
    run(device_import_confirm, actor=admin, device_import=upload(run, admin, customer))
    before = list(Device.objects.values_list("pk", "updated_at"))
    again = upload(run, admin, customer)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 2, "invalid": 0}
    again = run(device_import_confirm, actor=admin, device_import=again)
    assert again.status == ImportStatus.DONE
    assert list(Device.objects.values_list("pk", "updated_at")) == before


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_exported_file_reimports_unchanged(run, admin, customer, file_format):
    Device.objects.create(customer=customer, serial_number="SN-1", hostname="pc-01",
                          kind=DeviceKind.SERVER, notes="=1+1", location="Büro Süd")
    exported = export_devices(Device.objects.filter(customer=customer), file_format, name="a")
    device_import = upload(run, admin, customer, exported.content, exported.file_name)
    assert device_import.counts == {"new": 0, "changed": 0, "unchanged": 1, "invalid": 0}


def test_preview_shows_old_and_new_values(run, admin, customer):
    Device.objects.create(customer=customer, serial_number="SN-1", hostname="pc-01",
                          kind=DeviceKind.WORKSTATION, location="Keller")
    device_import = upload(run, admin, customer)
    changed = next(m for m in device_import.messages if m["status"] == "changed")
    assert changed["changes"] == {"location": ["Keller", "Büro Süd"]}
    assert changed["line"] == 2 and changed["serial"] == "SN-1"


def test_any_invalid_row_makes_the_whole_import_invalid(run, admin, customer):
    data = csv_of("pc-01;SN-1;workstation;x", "pc-02;SN-1;toaster;y", "pc-03;SN-3;server;z")
    device_import = upload(run, admin, customer, data)
    assert device_import.status == ImportStatus.INVALID
    assert device_import.counts["invalid"] == 2 and device_import.counts["new"] == 1
    first = device_import.messages[0]
    assert first["status"] == "invalid" and first["line"] == 2
    assert any("2, 3" in error for error in first["errors"])
    with pytest.raises(ValidationError):
        run(device_import_confirm, actor=admin, device_import=device_import)
    assert Device.objects.count() == 0
    assert DeviceImport.objects.get().status == ImportStatus.INVALID


def test_unreadable_file_becomes_an_invalid_import_with_an_error(run, admin, customer):
    device_import = upload(run, admin, customer, bytes(range(256)) * 4)
    assert device_import.status == ImportStatus.INVALID
    assert "CSV" in device_import.error
    assert actions(device_import)[-1] == "device_import.previewed"


@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("geraete.txt", GOOD, "CSV- oder XLSX"),
    ("geraete.pdf", b"%PDF-1.4", "CSV- oder XLSX"),
    ("geraete.csv", b"", "leer"),
])
def test_upload_refuses_wrong_type_and_empty_files(run, admin, customer, name, data, fragment):
    with pytest.raises(ValidationError) as caught:
        upload(run, admin, customer, data, name)
    assert fragment in caught.value.messages[0]
    assert DeviceImport.objects.count() == 0 and not AuditEvent.objects.filter(
        action__startswith="device_import").exists()


@override_settings(DEVICE_IMPORT_MAX_BYTES=len(GOOD) - 1)
def test_upload_refuses_files_over_the_limit(run, admin, customer):
    with pytest.raises(ValidationError, match="größer"):
        upload(run, admin, customer)
    assert DeviceImport.objects.count() == 0


@override_settings(DEVICE_IMPORT_MAX_ROWS=1)
def test_too_many_rows_make_an_invalid_import(run, admin, customer):
    device_import = upload(run, admin, customer)
    assert device_import.status == ImportStatus.INVALID and "mehr als 1" in device_import.error


# --- Jobs ---------------------------------------------------------------------------------------

@override_settings(DEVICE_IMPORT_INLINE_BYTES=0, PORTAL_JOB_HEARTBEAT_SECONDS=0)
def test_large_file_runs_as_jobs_with_progress(run, admin, customer, monkeypatch):
    rows = [f"pc-{n:02};SN-{n};workstation;Raum {n}" for n in range(7)]
    broker = get_broker()  # the ORM queue table, or Redis when REDIS_URL is set
    queued_before = broker.queue_size()
    device_import = upload(run, admin, customer, csv_of(*rows))
    assert device_import.status == ImportStatus.UPLOADED
    assert broker.queue_size() == queued_before + 1

    monkeypatch.setattr(importing, "PROGRESS_EVERY", 2)
    seen: list[tuple[int, int]] = []
    original = services._progress

    def watching(claim):
        report = original(claim)

        def spy(done):
            report(done)
            stored = DeviceImport.objects.get(pk=claim.record.pk)
            seen.append((stored.rows_done, stored.rows_total))
            assert stored.claimed_by == worker_name() and stored.heartbeat_at
        return spy

    monkeypatch.setattr(services, "_progress", watching)
    assert tasks.preview_import(device_import.pk) == ImportStatus.PREVIEWED
    assert seen == [(2, 7), (4, 7), (6, 7)]
    device_import.refresh_from_db()
    assert (device_import.rows_done, device_import.rows_total) == (7, 7)
    assert device_import.progress_percent == 100
    assert tasks.preview_import(device_import.pk) is None, "a preview runs once"

    run(device_import_confirm, actor=admin, device_import=device_import)
    assert broker.queue_size() == queued_before + 2
    assert DeviceImport.objects.get().status == ImportStatus.CONFIRMED
    assert Device.objects.count() == 0

    seen.clear()
    assert tasks.apply_import(device_import.pk) == ImportStatus.DONE
    assert seen[-1] == (6, 7)
    assert Device.objects.count() == 7
    assert tasks.apply_import(device_import.pk) is None, "a second run applies nothing"
    assert Device.objects.count() == 7
    assert AuditEvent.objects.filter(action="device_import.applied").count() == 1
    device_import.refresh_from_db()
    assert (device_import.status, device_import.attempts) == (ImportStatus.DONE, 1)
    assert not default_storage.exists(f"device-imports/{device_import.public_id}.csv")


@override_settings(DEVICE_IMPORT_INLINE_BYTES=0)
@pytest.mark.parametrize("language", ["de", "en"])
def test_jobs_write_messages_in_the_language_of_the_person(run, admin, customer, world,
                                                          monkeypatch, language):
    """A job has no request: it speaks the language of the uploader (preview) and of the
    person who confirmed (apply); translations go through gettext."""
    def tagged(text):
        return f"[{translation.get_language()}] {text}"

    monkeypatch.setattr(importing, "_", tagged)
    monkeypatch.setattr(services, "_", tagged)
    admin.language = language
    admin.save(update_fields=["language"])
    bad = upload(run, admin, customer, csv_of("pc-01;SN-1;toaster;x"))
    tasks.preview_import(bad.pk)
    bad.refresh_from_db()
    assert bad.status == ImportStatus.INVALID
    assert bad.messages[0]["errors"][0].startswith(f"[{language}] ")

    good = upload(run, admin, customer)
    tasks.preview_import(good.pk)
    run(device_import_confirm, actor=world["people"]["provider_admin"], device_import=good)
    # Since the preview, another device of the customer took the hostname of a row.
    Device.objects.create(customer=customer, serial_number="SN-9", hostname="srv-01",
                          kind=DeviceKind.SERVER)
    tasks.apply_import(good.pk)
    good.refresh_from_db()
    assert good.status == ImportStatus.FAILED
    assert good.error.startswith("[de] "), "the provider admin who confirmed reads German"


def test_apply_of_an_unconfirmed_import_does_nothing(run, admin, customer):
    device_import = upload(run, admin, customer)
    assert tasks.apply_import(device_import.pk) is None
    assert Device.objects.count() == 0
    assert DeviceImport.objects.get().status == ImportStatus.PREVIEWED


@pytest.mark.skipif(not settings.DATABASE_URL, reason="concurrent claims need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@override_settings(DEVICE_IMPORT_INLINE_BYTES=0)
def test_concurrent_applies_apply_once(run, admin, customer):
    device_import = upload(run, admin, customer)
    tasks.preview_import(device_import.pk)
    run(device_import_confirm, actor=admin, device_import=device_import)
    results, barrier = [], threading.Barrier(2)

    def apply():
        try:
            barrier.wait()
            results.append(tasks.apply_import(device_import.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results.count(None) == 1 and ImportStatus.DONE in results
    assert Device.objects.count() == 2


def test_inventory_change_after_preview_fails_the_apply(run, admin, customer, world):
    device_import = upload(run, admin, customer)
    other = world["orgs"]["customer_b"]
    # The same serial at another customer does not matter (serials are unique per customer);
    # a device of the own customer that took the hostname of a row since the preview does.
    Device.objects.create(customer=other, serial_number="SN-2", hostname="fremd-01",
                          kind=DeviceKind.SERVER)
    Device.objects.create(customer=customer, serial_number="SN-9", hostname="srv-01",
                          kind=DeviceKind.SERVER)
    device_import = run(device_import_confirm, actor=admin, device_import=device_import)
    assert device_import.status == ImportStatus.FAILED
    assert "nichts übernommen" in device_import.error
    assert list(Device.objects.filter(customer=customer).values_list("serial_number",
                                                                     flat=True)) == ["SN-9"]
    invalid = [m for m in device_import.messages if m["status"] == "invalid"]
    assert [m["serial"] for m in invalid] == ["SN-2"]
    shown = str(device_import.messages) + device_import.error
    assert other.name not in shown and "fremd-01" not in shown
    assert actions(device_import)[-1] == "device_import.failed"


# --- Cancel and cleanup -------------------------------------------------------------------------

def test_cancel_deletes_the_file_and_stops_the_import(run, admin, customer):
    device_import = upload(run, admin, customer)
    path = device_import.storage_path
    device_import = run(device_import_cancel, actor=admin, device_import=device_import)
    assert device_import.status == ImportStatus.CANCELLED and device_import.finished_at
    assert device_import.storage_path == "" and not default_storage.exists(path)
    assert actions(device_import)[-1] == "device_import.cancelled"
    with pytest.raises(ValidationError):
        run(device_import_confirm, actor=admin, device_import=device_import)
    with pytest.raises(ValidationError):
        run(device_import_cancel, actor=admin, device_import=device_import)
    assert Device.objects.count() == 0


@override_settings(DEVICE_IMPORT_INLINE_BYTES=0)
def test_cancelled_before_preview_the_job_does_nothing(run, admin, customer):
    device_import = upload(run, admin, customer)
    run(device_import_cancel, actor=admin, device_import=device_import)
    assert tasks.preview_import(device_import.pk) is None
    assert DeviceImport.objects.get().status == ImportStatus.CANCELLED


def test_finished_import_cannot_be_cancelled(run, admin, customer):
    device_import = run(device_import_confirm, actor=admin,
                        device_import=upload(run, admin, customer))
    with pytest.raises(ValidationError):
        run(device_import_cancel, actor=admin, device_import=device_import)
    assert DeviceImport.objects.get().status == ImportStatus.DONE


def test_cleanup_deletes_old_files_once(run, admin, customer):
    start = timezone.make_aware(datetime(2026, 11, 18, 9, 0))
    with time_machine.travel(start, tick=False):
        previewed = upload(run, admin, customer)
        invalid = upload(run, admin, customer, csv_of("pc-01;SN-1;toaster;x"))
        done = run(device_import_confirm, actor=admin,
                   device_import=upload(run, admin, customer,
                                        csv_of("pc-09;SN-9;server;x")))
        confirmed = upload(run, admin, customer, csv_of("pc-08;SN-8;server;x"))
        with override_settings(DEVICE_IMPORT_INLINE_BYTES=0):
            run(device_import_confirm, actor=admin, device_import=confirmed)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        recent = upload(run, admin, customer)
    paths = {item.pk: item.storage_path for item in (previewed, invalid, confirmed, recent)}
    assert done.storage_path == "" and all(paths.values())

    with time_machine.travel(start + timedelta(hours=settings.DEVICE_IMPORT_KEEP_HOURS, minutes=1),
                             tick=False):
        assert device_imports_cleanup() == 3
        assert device_imports_cleanup() == 0
        assert tasks.cleanup_imports() == 0
    states = {item.pk: (item.status, item.storage_path)
              for item in DeviceImport.objects.all()}
    assert states[previewed.pk] == (ImportStatus.CANCELLED, "")
    assert states[invalid.pk] == (ImportStatus.INVALID, "")
    # Its job never ran (no worker for a day): failed with a message, file deleted all the same.
    assert states[confirmed.pk] == (ImportStatus.FAILED, "")
    assert "nicht angelaufen" in DeviceImport.objects.get(pk=confirmed.pk).error
    assert states[recent.pk] == (ImportStatus.PREVIEWED, paths[recent.pk])
    for item in (previewed, invalid, confirmed):
        assert not default_storage.exists(paths[item.pk])
    assert default_storage.exists(paths[recent.pk])
    assert AuditEvent.objects.filter(action="device_import.file_deleted").count() == 3
