"""A separate OS process for the worker-kill test (tests/devices/test_job_recovery.py).

    python -m tests.devices.crash_runner prepare ROWS      an import, previewed and confirmed
    python -m tests.devices.crash_runner qcluster [--pause-in-write MARKER]
    python -m tests.devices.crash_runner recover            the sweep, once
    python -m tests.devices.crash_runner cleanup HOURS      the cleanup, HOURS from now
    python -m tests.devices.crash_runner report IMPORT_ID

``qcluster`` is django-q2's real cluster. With ``--pause-in-write`` its workers (forked from
this process, so they inherit the patch) stop inside the apply's writing transaction, after
the devices were written and before the commit, and write MARKER with their pid: the test
then kills them there. Every command prints one JSON line. Settings: crash_settings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path


def _prepare(rows: int) -> dict:
    from devices import tasks
    from devices.services import device_import_confirm, device_import_upload
    from portal.roles import Role
    from tests.factories import OrganisationFactory, make_person

    customer = OrganisationFactory(name="Absturz GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    lines = ["hostname;serial;kind;location"]
    lines += [f"pc-{n:05d};SN-{n:05d};workstation;Raum {n}" for n in range(rows)]
    device_import = device_import_upload(actor=admin, customer=customer, file_name="gross.csv",
                                         data="\r\n".join(lines).encode())
    tasks.preview_import(device_import.pk)  # the preview ran; the apply is queued now
    device_import_confirm(actor=admin, device_import=device_import)
    return {"import_id": device_import.pk}


def _pause_inside_the_write(marker: Path) -> None:
    from devices.models import Device
    from devices.services import imports as services

    original = services.apply_plan

    def written_then_paused(customer, plan, **kwargs):
        counts = original(customer, plan, **kwargs)
        seen = Device.objects.filter(customer=customer).count()  # inside the transaction
        part = marker.with_suffix(".part")
        part.write_text(json.dumps({"pid": os.getpid(), "written": seen}))
        part.rename(marker)
        time.sleep(600)  # killed here, before the commit
        return counts

    services.apply_plan = written_then_paused


def _report(import_id: int) -> dict:
    from devices.models import Device, DeviceImport
    from portal.models import AuditEvent

    device_import = DeviceImport.objects.get(pk=import_id)
    return {
        "status": device_import.status, "error": device_import.error,
        "attempts": device_import.attempts, "claimed_by": device_import.claimed_by,
        "storage_path": device_import.storage_path, "counts": device_import.counts,
        "devices": Device.objects.filter(customer=device_import.customer_id).count(),
        "actions": list(AuditEvent.objects.filter(
            target_type="devices.deviceimport", target_id=str(import_id))
            .order_by("id").values_list("action", flat=True)),
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from devices.services import device_imports_cleanup, device_imports_recover

    command, args = argv[0], argv[1:]
    if command == "prepare":
        result = _prepare(int(args[0]))
    elif command == "qcluster":
        if args[:1] == ["--pause-in-write"]:
            _pause_inside_the_write(Path(args[1]))
        call_command("qcluster")
        result = {"stopped": True}
    elif command == "recover":
        result = device_imports_recover()
    elif command == "cleanup":
        result = {"cleaned": device_imports_cleanup(
            now=timezone.now() + timedelta(hours=float(args[0])))}
    elif command == "report":
        result = _report(int(args[0]))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
