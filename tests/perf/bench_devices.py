"""Benchmark of the device import: 50,000 rows through upload → preview → confirm → apply.

The baseline, measured in the same run, is ``Device.objects.bulk_create`` (batch size 2000,
one transaction) of the same devices, built beforehand from the same generated data: the least
any importer has to write. The import is timed through the real services
(``device_import_upload`` → preview → ``device_import_confirm`` → apply, inline), so it reads
and plans the file twice, as in production. Figures are ratios, never timed assertions.

Runs in a throwaway test database (in-memory SQLite, or ``test_<name>`` on PostgreSQL when
DATABASE_URL is set) that is destroyed at the end; a real database is never touched.
Goals (docs/adr/0005-device-import.md): import within 3x of bulk_create; re-importing the
unchanged file is faster than the first import and writes nothing.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import random
import resource
import string
import time
import tracemalloc
from datetime import date, datetime, timedelta

ROWS = 50_000
SMALL_ROWS = 5_000
BATCH_SIZE = 2000
IMPORT_GOAL = 3.0

SITES = [
    ("FFM", "Hauptsitz Frankfurt", ["EG Empfang", "1. OG Buchhaltung", "2. OG Geschäftsführung",
                                    "2. OG Büro 2.14", "3. OG Großraumbüro", "UG Serverraum"]),
    ("OF", "Lager Offenbach", ["Büro 1", "Büro 2", "Versand", "Wareneingang", "Technikraum"]),
    ("MUC", "Niederlassung München", ["Empfang", "Vertrieb", "Besprechungsraum Zugspitze",
                                      "Technikraum"]),
    ("KOE", "Außenstelle Köln", ["Büro Süd", "Werkstatt", "Schulungsraum"]),
]
WORKSTATION_OS = ["Windows 11 Pro 23H2", "Windows 11 Pro 24H2", "Windows 10 Pro 22H2",
                  "Windows 11 Enterprise 23H2", "macOS 14 Sonoma", "Ubuntu 24.04 LTS"]
SERVER_OS = ["Windows Server 2022 Standard", "Windows Server 2019 Standard",
             "Windows Server 2025 Datacenter", "Debian 12 „Bookworm“", "VMware ESXi 8.0 U2"]
NETWORK = [("SW", "Aruba OS-CX 10.13"), ("FW", "FortiOS 7.4"), ("AP", "Aruba InstantOS 8.12"),
           ("RT", "LANCOM LCOS 10.80")]
NOTES = ["", "", "", "", "Buchhaltung – DATEV", "Kassenrechner", "Geschäftsführung",
         "Leihgerät für Außendienst", "Drucker-Server für Etagendrucker", "Läuft über USV",
         "Schlüssel bei Frau Müller", "Garantie bis 31.12.2027"]
TODAY = date(2026, 11, 18)


# --- Data --------------------------------------------------------------------------------------

def _serial(rng: random.Random, kind: str) -> str:
    alnum = string.ascii_uppercase + string.digits
    if kind == "network":
        return "FGT60F" + "TK" + "".join(rng.choices(string.digits, k=8))
    if kind == "server":
        return "CZ" + "".join(rng.choices(alnum, k=8))
    vendor = rng.random()
    if vendor < 0.4:  # HP
        return "5CG" + "".join(rng.choices(string.digits, k=3)) + "".join(rng.choices(alnum, k=4))
    if vendor < 0.7:  # Lenovo
        return "PF" + "".join(rng.choices(alnum, k=6))
    return "".join(rng.choices(alnum, k=7))  # Dell service tag


def generate(count: int, seed: int = 2026) -> list[dict]:
    """``count`` realistic inventory rows as Python values (aware datetimes, dates)."""
    from django.utils import timezone

    rng = random.Random(seed)
    serials: set[str] = set()
    rows = []
    for index in range(1, count + 1):
        site, place, rooms = SITES[0] if rng.random() < 0.55 else rng.choice(SITES[1:])
        roll = rng.random()
        if roll < 0.85:
            kind = "workstation"
            hostname = f"{'PC' if rng.random() < 0.6 else 'NB'}-{site}-{index:05d}"
            system = rng.choice(WORKSTATION_OS)
        elif roll < 0.90:
            kind = "server"
            hostname = f"SRV-{site}-{index:05d}"
            system = rng.choice(SERVER_OS)
        else:
            kind = "network"
            prefix, system = rng.choice(NETWORK)
            hostname = f"{prefix}-{site}-{index:05d}"
        serial = _serial(rng, kind)
        while serial in serials:
            serial = _serial(rng, kind)
        serials.add(serial)
        seen = None
        if rng.random() < 0.95:
            seen = timezone.make_aware(datetime(2026, 11, 18, 8, 0) - timedelta(
                minutes=rng.randrange(0, 60 * 24 * 30)))
        signature = TODAY - timedelta(days=rng.randrange(0, 10)) if kind != "network" else None
        rows.append({
            "hostname": hostname, "serial_number": serial, "kind": kind,
            "operating_system": system, "location": f"{place}, {rng.choice(rooms)}",
            "agent_id": "" if kind == "network" else f"{rng.getrandbits(128):032x}",
            "last_seen": seen, "av_signature_date": signature, "notes": rng.choice(NOTES),
        })
    return rows


def to_csv(rows: list[dict]) -> bytes:
    """The rows as the export writes them: UTF-8 with BOM, ``;``, local times."""
    from django.utils import timezone

    from devices.spreadsheets import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        seen = row["last_seen"]
        signature = row["av_signature_date"]
        writer.writerow([
            row["hostname"], row["serial_number"], row["kind"], row["operating_system"],
            row["location"], row["agent_id"],
            timezone.localtime(seen).strftime("%Y-%m-%d %H:%M:%S") if seen else "",
            signature.isoformat() if signature else "", row["notes"],
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- The measured steps ---------------------------------------------------------------------

class World:
    def __init__(self) -> None:
        from portal.roles import OrganisationKind, Role
        from tests.factories import OrganisationFactory, make_person

        provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Anbieter GmbH")
        self.actor = make_person(Role.PROVIDER_ADMIN, provider, mfa=False)
        self.factory = OrganisationFactory

    def customer(self):
        return self.factory(name="Benchmark Kunde GmbH")


def bulk_create(world: World, rows: list[dict]) -> float:
    from django.db import transaction

    from devices.models import Device

    customer = world.customer()
    devices = [Device(customer=customer, created_by=world.actor, updated_by=world.actor, **row)
               for row in rows]
    started = time.perf_counter()
    with transaction.atomic():
        Device.objects.bulk_create(devices, batch_size=BATCH_SIZE)
    elapsed = time.perf_counter() - started
    _clear(customer)
    return elapsed


def run_import(world: World, customer, data: bytes, expected: str) -> tuple[float, float]:
    """Upload → preview → confirm → apply; returns (upload+preview, confirm+apply) seconds."""
    from devices.models import ImportStatus
    from devices.services import device_import_confirm, device_import_upload

    started = time.perf_counter()
    device_import = device_import_upload(actor=world.actor, customer=customer,
                                         file_name="inventar.csv", data=data)
    device_import.refresh_from_db()
    previewed = time.perf_counter()
    if device_import.status != ImportStatus.PREVIEWED:
        raise RuntimeError(f"preview ended as {device_import.status}: {device_import.error}"
                           f" {device_import.messages[:3]}")
    device_import_confirm(actor=world.actor, device_import=device_import)
    device_import.refresh_from_db()
    finished = time.perf_counter()
    if device_import.status != ImportStatus.DONE:
        raise RuntimeError(f"apply ended as {device_import.status}: {device_import.error}")
    counts = device_import.counts
    if counts[expected] != device_import.rows_total or counts["invalid"]:
        raise RuntimeError(f"unexpected counts {counts}")
    return previewed - started, finished - previewed


def import_and_reimport(world: World, data: bytes) -> dict[str, tuple[float, float]]:
    from devices.models import Device

    customer = world.customer()
    first = run_import(world, customer, data, "new")
    stamp = Device.objects.filter(customer=customer).order_by("-updated_at") \
        .values_list("updated_at", flat=True).first()
    count = Device.objects.filter(customer=customer).count()
    second = run_import(world, customer, data, "unchanged")
    if (Device.objects.filter(customer=customer).count() != count
            or Device.objects.filter(customer=customer, updated_at__gt=stamp).exists()):
        raise RuntimeError("the re-import of an unchanged file wrote devices")
    _clear(customer)
    return {"import": first, "reimport": second}


def _clear(customer) -> None:
    """Remove the benchmark's devices again: serials are unique among all active devices."""
    from devices.models import Device, DeviceImport

    Device.objects.filter(customer=customer).delete()
    DeviceImport.objects.filter(customer=customer).delete()
    gc.collect()


def _traced(func) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench(world: World, count: int, repeat: int) -> dict:
    rows = generate(count)
    data = to_csv(rows)
    base = min(bulk_create(world, rows) for _ in range(repeat))
    runs = [import_and_reimport(world, data) for _ in range(repeat)]
    result = {
        "bytes": len(data), "baseline": base,
        "import": min(runs, key=lambda run: sum(run["import"]))["import"],
        "reimport": min(runs, key=lambda run: sum(run["reimport"]))["reimport"],
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    # Peak memory in separate runs: tracing slows Python down and is never part of a timing.
    result["baseline_peak"] = _traced(lambda: bulk_create(world, rows))
    customer = world.customer()
    result["import_peak"] = _traced(lambda: run_import(world, customer, data, "new"))
    result["reimport_peak"] = _traced(lambda: run_import(world, customer, data, "unchanged"))
    _clear(customer)
    return result


# --- Report ----------------------------------------------------------------------------------

def _line(label: str, seconds: float, count: int, tail: str = "") -> str:
    return (f"  {label:38} {seconds * 1e3:9.1f} ms  {count / seconds:9,.0f} rows/s{tail}")


def report(count: int, vendor: str, result: dict) -> None:
    base = result["baseline"]
    first = sum(result["import"])
    again = sum(result["reimport"])
    mib = 1024 * 1024
    print(f"devices: import of {count:,} rows (CSV {result['bytes'] / mib:.1f} MiB) on {vendor}")
    print(_line(f"baseline bulk_create (batch {BATCH_SIZE})", base, count)
          + f"  peak {result['baseline_peak'] / mib:6.1f} MiB")
    ok = "ok" if first / base <= IMPORT_GOAL else "MISSED"
    print(_line("import upload→done", first, count)
          + f"  ratio {first / base:4.1f}x (goal ≤ {IMPORT_GOAL:.0f}x: {ok})"
          + f"  peak {result['import_peak'] / mib:6.1f} MiB")
    print(f"    upload + preview {result['import'][0] * 1e3:9.1f} ms,"
          f" confirm + apply {result['import'][1] * 1e3:9.1f} ms")
    ok = "ok" if again < first else "MISSED"
    print(_line("re-import unchanged (writes nothing)", again, count)
          + f"  ratio {again / base:4.1f}x, {again / first:4.2f}x of import (goal < 1: {ok})"
          + f"  peak {result['reimport_peak'] / mib:6.1f} MiB")
    print(f"    upload + preview {result['reimport'][0] * 1e3:9.1f} ms,"
          f" confirm + apply {result['reimport'][1] * 1e3:9.1f} ms")
    print(f"  ru_maxrss after the timed runs        {result['maxrss'] / 1024:9.1f} MiB")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import (
        override_settings,
        setup_test_environment,
        teardown_test_environment,
    )

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        # Every file is checked and applied inline (no django-q2 worker in a benchmark).
        with override_settings(DEVICE_IMPORT_INLINE_BYTES=64 * 1024 * 1024):
            world = World()
            vendor = connection.vendor
            for count, repeat in ((SMALL_ROWS, 3), (ROWS, int(os.environ.get("BENCH_REPEAT", 1)))):
                report(count, vendor, bench(world, count, repeat))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
