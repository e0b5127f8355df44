"""Benchmark of the purge after the end of a contract and of a person's data export (issue 11,
"Performance"), on PostgreSQL only.

Purge: a customer whose contract ended long enough ago (``purge_on`` ≤ today) with N devices
(half of them booked: those are retained without their personal fields, the other half is
deleted), N ended bookings (retained, § 147 AO), N/10 audit events taken by its people with
their e-mail addresses and IPs (pseudonymised, kept), 50 stored documents (deleted, files
after the commit) and a few people with memberships and second factors, for N = 1,000 and
10,000. Timed: ``customer_purge`` as the daily job runs it (registry counts, every entry's
strategy, ledger, cache, certificate with its PDF, file deletion after the commit). Baseline,
measured in the same run on a fresh seed of the same size: a plain ``QuerySet.delete()`` of
the same customer's devices, bookings, audit events (through ``models.QuerySet``, around the
trail's append-only guard) and documents with their files, in one transaction: the least any
purge must do to those rows. Memory is the tracemalloc peak of separate runs (tracing slows
Python down and is never part of a timing); flat means the 10k/1k ratio stays near 1.

The rest of the audit trail matters: the purge pseudonymises the customer's people in the
whole trail (a person's e-mail may appear in any event), so a constant background of other
customers' events (BENCH_PURGE_TRAIL, 20,000) lies beside the customer's own.

Export: a person with 10,000 rows about them (events they took, devices they created, bookings
they made) beside the same background; timed ``export_for_person(user)`` (every registry
entry) and the whole ZIP job ``person_export_build`` (JSON per entry, README, PDF summary,
stored with SHA-256), against ``list(qs.values())`` of the same rows.

Figures are ratios against baselines of the same run, never timed assertions. Runs in a
throwaway database (tests/perf/throwaway_db.py: ``test_<name>`` on the PostgreSQL server of
DATABASE_URL); without DATABASE_URL it says so and skips. Environment: BENCH_REPEAT (timed
purge runs per size, each on a fresh seed, best kept; 1), BENCH_PURGE_SIZES (1000,10000),
BENCH_PURGE_TRAIL (20000).
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tests.perf.throwaway_db import throwaway_database

#: BENCH_PURGE_SIZES=100,1000 for a quick look; the issue's figures are 1,000 and 10,000.
SIZES = tuple(int(n) for n in os.environ.get("BENCH_PURGE_SIZES", "1000,10000").split(","))
FILES = 50
FILE_BYTES = 16 * 1024
PEOPLE = 5
TRAIL = int(os.environ.get("BENCH_PURGE_TRAIL", 20_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 1))
EXPORT_ROWS = SIZES
EXPORT_RUNS = 3
PURGE_GOAL_SECONDS, EXPORT_GOAL_SECONDS = 10.0, 2.0
END = date.today() - timedelta(days=120)
NAMES = [("Anna", "Weber"), ("Jürgen", "Weiß"), ("Sabine", "Müller"), ("Deniz", "Yılmaz"),
         ("Peter", "Schröder"), ("Lea", "Hoffmann")]
ACTIONS = ["device.updated", "device.created", "booking.created", "user.login",
           "document.downloaded", "mfa.verified"]
MIB = 1024 * 1024


# --- Seed ------------------------------------------------------------------------------------

@dataclass
class Seeded:
    customer: object
    people: list
    devices: int
    bookings: int
    events: int
    files: list[str] = field(default_factory=list)


class World:
    """What every seed shares: the plans, the provider and the rest of the audit trail."""

    def __init__(self) -> None:
        from contracts.catalogue import plans_seed
        from portal.roles import OrganisationKind, Role
        from tests.factories import OrganisationFactory, make_person

        self.plans = {plan.code: plan for plan in plans_seed()}
        provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Anbieter GmbH")
        self.staff = make_person(Role.PROVIDER_ADMIN, provider, mfa=False)
        self.numbers = iter(range(30001, 40000))
        other = self.customer("Andere Kunden GmbH")
        people = self.people(other, 20)
        _events(other, people, TRAIL)

    def customer(self, name: str):
        from tests.factories import OrganisationFactory

        return OrganisationFactory(name=name, customer_number=f"K-{next(self.numbers)}")

    def people(self, customer, count: int) -> list:
        from portal.roles import Role
        from tests.factories import make_person

        people = []
        for index in range(count):
            first, last = NAMES[index % len(NAMES)]
            role = Role.CUSTOMER_ADMIN if index < 2 else Role.CUSTOMER_MEMBER
            people.append(make_person(
                role, customer, first_name=first, last_name=f"{last}-{customer.pk}-{index}",
                email=f"{first.lower()}.{index}@kunde-{customer.pk}.example"))
        return people


def _contract(customer, *, ended: bool):
    from contracts.models import Contract, ContractStatus
    from portal.periods import purge_schedule

    if not ended:
        return Contract.objects.create(customer=customer, start=END - timedelta(days=900))
    return Contract.objects.create(
        customer=customer, start=END - timedelta(days=900), status=ContractStatus.ENDED,
        cancellation_received=END - timedelta(days=60), effective_end=END,
        purge_on=purge_schedule(contract_end=END).purge_on)


def _devices(customer, people, count: int, *, prefix: str = "PC") -> list:
    from devices.models import Device, DeviceKind

    devices = [Device(
        customer=customer, hostname=f"{prefix}-{index:05d}", serial_number=f"SN{index:07d}",
        kind=DeviceKind.SERVER if index % 15 == 0 else DeviceKind.WORKSTATION,
        operating_system="Windows 11 Pro 23H2", location=f"Büro {index % 40 + 1}",
        agent_id=f"{index:032x}", av_signature_date=END,
        notes=(f"Laptop von {people[index % len(people)].get_full_name()}"
               if index % 7 == 0 else ""),
        created_by=people[index % len(people)], updated_by=people[(index + 1) % len(people)])
        for index in range(count)]
    return Device.objects.bulk_create(devices, batch_size=2000)


def _bookings(world: World, customer, contract, devices, people, count: int, *,
              ended: bool) -> int:
    """``count`` bookings over ``devices``: two per device (client plan, then anti-virus),
    ended on END for an ended contract, otherwise one running booking per device."""
    from django.utils import timezone

    from contracts.models import Booking, BookingState

    activated = timezone.make_aware(datetime.combine(END - timedelta(days=700),
                                                     datetime.min.time()))
    plans = [world.plans["mc-standard"], world.plans["av"]] if ended \
        else [world.plans["mc-standard"]]
    bookings = []
    for index in range(count):
        device = devices[index // len(plans) % len(devices)]
        plan = plans[index % len(plans)]
        booking = Booking(
            customer=customer, contract=contract, device=device, plan=plan,
            plan_name=plan.name, family=plan.family, monthly_price=plan.monthly_price,
            billing_mode=plan.billing_mode, notice=plan.notice, notice_anchor=plan.notice_anchor,
            min_term=plan.min_term, renewal=plan.renewal,
            cap_at_term_length=plan.cap_at_term_length, booked_by=people[index % len(people)],
            activated_at=activated, active_from=activated.date(), term_start=activated.date())
        if ended:
            booking.state = BookingState.ENDED
            booking.removal_received = END - timedelta(days=60)
            booking.removed_by = people[0]
            booking.effective_end = END
        bookings.append(booking)
    Booking.objects.bulk_create(bookings, batch_size=2000)
    return len(bookings)


def _events(customer, people, count: int, *, targets: list | None = None) -> int:
    """``count`` audit events taken by ``people`` (e-mail as actor label, an IP), some naming
    a person in their details, as the services write them."""
    from portal.models import AuditEvent

    events = []
    for index in range(count):
        actor = people[index % len(people)]
        target = targets[index % len(targets)] if targets else None
        details = {"field": "notes"}
        if index % 5 == 0:
            named = people[(index + 1) % len(people)]
            details["new"] = f"Ansprechpartner {named.get_full_name()}"
        events.append(AuditEvent(
            organisation=customer, actor=actor, actor_label=actor.email,
            action=ACTIONS[index % len(ACTIONS)],
            target_type="devices.device" if target else "portal.organisation",
            target_id=str(target.pk if target else customer.pk),
            target_repr=target.hostname if target else customer.name,
            ip_address=f"192.0.2.{index % 250 + 1}", details=details))
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return count


def _documents(customer, count: int) -> list[str]:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from portal.models import Document

    paths, rows = [], []
    for index in range(count):
        name = f"zusammenfassung-{customer.pk}-{index:02d}.pdf"
        body = b"%PDF-1.7 bench " + os.urandom(FILE_BYTES)
        path = default_storage.save(f"documents/bench/{name}", ContentFile(body))
        paths.append(path)
        rows.append(Document(customer=customer, kind="contract_summary", title=name,
                             filename=name, file=path, sha256="0" * 64, size=len(body),
                             created_at=timezone.now()))
    Document.objects.bulk_create(rows)
    return paths


def _analyze() -> None:
    """Planner statistics, as autovacuum keeps them in a live database (tests/perf/load_seed.py
    says why): without them freshly bulk-loaded tables look empty to PostgreSQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_ended(world: World, count: int) -> Seeded:
    """One customer due for the purge with ``count`` devices (half booked), ``count`` ended
    bookings, ``count // 10`` audit events, FILES stored documents and PEOPLE people."""
    customer = world.customer(f"Benchmark Kunde {count} GmbH")
    people = world.people(customer, PEOPLE)
    contract = _contract(customer, ended=True)
    devices = _devices(customer, people, count)
    bookings = _bookings(world, customer, contract, devices[: count // 2], people, count,
                         ended=True)
    events = _events(customer, people, count // 10, targets=devices[:200])
    files = _documents(customer, FILES)
    _analyze()
    gc.collect()
    return Seeded(customer, people, count, bookings, events, files)


def clear(seeded: Seeded) -> None:
    """Remove what a run left (retained bookings and devices, the pseudonymised events), so
    every run finds the same database: plain deletes around the guards, in dependency order.
    The tombstone, the accounts and the certificate (insert-only) stay; they are tiny."""
    from django.core.files.storage import default_storage
    from django.db import models

    from contracts.models import Booking, Contract
    from devices.models import Device
    from gdpr.models import DeletionCertificate
    from portal.models import AuditEvent, Document

    customer = seeded.customer
    models.QuerySet(AuditEvent).filter(organisation=customer).delete()
    Booking.objects.filter(customer=customer).delete()
    Device.objects.filter(customer=customer).delete()
    Contract.objects.filter(customer=customer).delete()
    Document.objects.filter(customer=customer).exclude(pk__in=DeletionCertificate.objects.filter(
        document__isnull=False).values("document")).delete()
    for path in seeded.files:
        default_storage.delete(path)
    gc.collect()


# --- The measured steps ---------------------------------------------------------------------

class Counter:
    """Counts the queries a block sends (an execute wrapper: no SQL is kept)."""

    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def plain_delete(seeded: Seeded) -> None:
    """The baseline: Django's own ``delete()`` of the same rows in one transaction, the
    stored files after the commit."""
    from django.core.files.storage import default_storage
    from django.db import models, transaction

    from contracts.models import Booking
    from devices.models import Device
    from portal.models import AuditEvent, Document

    customer = seeded.customer
    with transaction.atomic():
        models.QuerySet(AuditEvent).filter(organisation=customer).delete()
        Booking.objects.filter(customer=customer).delete()
        Device.objects.filter(customer=customer).delete()
        paths = [name for name in Document.objects.filter(customer=customer)
                 .values_list("file", flat=True) if name]
        Document.objects.filter(customer=customer).delete()
        transaction.on_commit(lambda: [default_storage.delete(path) for path in paths])


class CertificateClock:
    """Time spent in the certificate (counts, evidence, PDF render, storing): a fixed cost per
    purge, reported apart from the rows."""

    def __init__(self) -> None:
        from gdpr.services import purge

        self.module, self.original, self.seconds = purge, purge.certificate_build, 0.0

    def __enter__(self):
        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return self.original(**kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        self.module.certificate_build = timed
        return self

    def __exit__(self, *exc) -> None:
        self.module.certificate_build = self.original


def run_purge(seeded: Seeded) -> float:
    """``customer_purge`` as the daily job calls it; checks what it left. Returns the seconds
    spent in the certificate."""
    from django.core.files.storage import default_storage

    from contracts.models import Booking
    from devices.models import Device
    from gdpr.models import DeletionCertificate
    from gdpr.services.purge import customer_purge
    from portal.models import AuditEvent, Document, Organisation
    from portal.periods import purge_schedule

    with CertificateClock() as clock:  # on the first day it is due (end + 57 days)
        result = customer_purge(customer_id=seeded.customer.pk,
                                today=purge_schedule(contract_end=END).purge_on)
    if not isinstance(result, DeletionCertificate):
        raise RuntimeError(f"the purge did not run: {result!r}")
    customer = Organisation.objects.get(pk=seeded.customer.pk)
    left = {
        "devices": Device.objects.filter(customer=customer).count(),
        "bookings": Booking.objects.filter(customer=customer).count(),
        # The certificate's own PDF is a document of the tombstone.
        "documents": Document.objects.filter(customer=customer)
        .exclude(pk=result.document_id).count(),
        "files": sum(default_storage.exists(path) for path in seeded.files),
        "named events": AuditEvent.objects.filter(
            actor_label__in=[person.email for person in seeded.people]).count(),
    }
    expected = {"devices": seeded.devices // 2, "bookings": seeded.bookings, "documents": 0,
                "files": 0, "named events": 0}
    if customer.purged_at is None or left != expected:
        raise RuntimeError(f"the purge left {left}, expected {expected}")
    return clock.seconds


def _traced(func) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _timed(func) -> tuple[float, int]:
    """Wall time and queries of one call."""
    from django.db import connection

    counter = Counter()
    gc.collect()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        func()
        elapsed = time.perf_counter() - started
    return elapsed, counter.queries


def bench_purge(world: World, count: int) -> dict:
    """Best of REPEAT timed runs each (every run on its own fresh seed), then one traced run
    of each for the peak memory."""
    result: dict = {"baseline": None, "purge": None}
    for _ in range(REPEAT):
        seeded = seed_ended(world, count)
        base = _timed(lambda seeded=seeded: plain_delete(seeded))
        clear(seeded)
        seeded = seed_ended(world, count)
        certificate: list[float] = []
        purge = _timed(lambda seeded=seeded, out=certificate: out.append(run_purge(seeded)))
        clear(seeded)
        if result["baseline"] is None or base[0] < result["baseline"][0]:
            result["baseline"] = base
        if result["purge"] is None or purge[0] < result["purge"][0]:
            result["purge"], result["certificate"] = purge, certificate[0]
    seeded = seed_ended(world, count)
    result["baseline_peak"] = _traced(lambda: plain_delete(seeded))
    clear(seeded)
    seeded = seed_ended(world, count)
    result["purge_peak"] = _traced(lambda: run_purge(seeded))
    clear(seeded)
    return result


# --- Export ----------------------------------------------------------------------------------

def seed_person(world: World, rows: int):
    """A person of a running customer with ``rows`` rows about them: 60 % events they took,
    30 % devices they created (and last changed), 10 % bookings they made."""
    customer = world.customer(f"Export Kunde {rows} GmbH")
    person = world.people(customer, 1)[0]
    contract = _contract(customer, ended=False)
    devices = _devices(customer, [person], rows * 3 // 10, prefix="NB")
    _bookings(world, customer, contract, devices, [person], rows // 10, ended=False)
    _events(customer, [person], rows - len(devices) - rows // 10, targets=devices[:200])
    _analyze()
    return customer, person


def plain_values(person) -> int:
    """The baseline: ``list(qs.values())`` of the same rows."""
    from contracts.models import Booking
    from devices.models import Device
    from portal.models import AuditEvent

    return sum(len(list(qs.values())) for qs in (
        AuditEvent.objects.filter(actor=person), Device.objects.filter(created_by=person),
        Booking.objects.filter(booked_by=person)))


def zip_build(customer, person) -> int:
    """The export job as the worker runs it (a queued PersonExport, built and stored)."""
    from gdpr.models import PersonExport
    from gdpr.models.requests import ExportState
    from gdpr.services.exports import person_export_build
    from portal.privacy import entries

    export = PersonExport.objects.create(subject=person, requested_by=person,
                                         customer=customer, entries_total=len(entries))
    done = person_export_build(export_id=export.pk)
    if done is None or done.state != ExportState.DONE:
        raise RuntimeError(f"the export ended as {done and done.state}: {done and done.error}")
    return done.size


def bench_export(world: World, rows: int) -> dict:
    from portal.privacy import export_for_person

    customer, person = seed_person(world, rows)
    baseline = min(_timed(lambda: plain_values(person)) for _ in range(EXPORT_RUNS))
    exported = export_for_person(person)
    about = sum(len(exported[label]) for label in
                ("portal.AuditEvent", "devices.Device", "contracts.Booking"))
    if about != rows or plain_values(person) != rows:
        raise RuntimeError(f"the export holds {about} of the person's {rows} rows")
    export = min(_timed(lambda: export_for_person(person)) for _ in range(EXPORT_RUNS))
    sizes = []
    archive = min(_timed(lambda: sizes.append(zip_build(customer, person)))
                  for _ in range(EXPORT_RUNS))
    return {
        "baseline": baseline, "export": export, "zip": archive, "zip_bytes": sizes[-1],
        "baseline_peak": _traced(lambda: plain_values(person)),
        "export_peak": _traced(lambda: export_for_person(person)),
        "zip_peak": _traced(lambda: zip_build(customer, person)),
    }


def warm_up(world: World) -> None:
    """One small purge and one small export first, untimed: fonts, templates, translations and
    the PDF renderer load once per process, not in the first measured run."""
    seeded = seed_ended(world, 20)
    run_purge(seeded)
    clear(seeded)
    zip_build(*seed_person(world, 20))


# --- Report ----------------------------------------------------------------------------------

def _line(label: str, timed: tuple[float, int], peak: int, tail: str = "") -> str:
    seconds, queries = timed
    return (f"  {label:36} {seconds * 1e3:9.1f} ms  {queries:6,} queries"
            f"  peak {peak / MIB:7.1f} MiB{tail}")


def report_purge(results: dict[int, dict], vendor: str) -> None:
    small, large = min(results), max(results)
    print(f"purge: customer_purge of N devices (half booked), N ended bookings, N/10 audit "
          f"events, {FILES} stored files, {PEOPLE} people; trail of {TRAIL:,} other events; "
          f"best of {REPEAT}; {vendor}, {date.today():%Y-%m-%d}")
    for count, result in sorted(results.items()):
        base, purge = result["baseline"], result["purge"]
        print(f" N = {count:,}")
        print(_line("baseline QuerySet.delete() same rows", base, result["baseline_peak"]))
        tail = f"  ratio {purge[0] / base[0]:5.1f}x"
        if count == large:
            ok = "ok" if purge[0] <= PURGE_GOAL_SECONDS else "MISSED"
            tail += f"  (goal ≤ {PURGE_GOAL_SECONDS:.0f} s: {ok})"
        print(_line("customer_purge", purge, result["purge_peak"], tail))
        print(f"    of which the certificate (counts, evidence, PDF) "
              f"{result['certificate'] * 1e3:9.1f} ms")
    for name, key in (("purge", "purge_peak"), ("baseline", "baseline_peak")):
        ratio = results[large][key] / results[small][key]
        print(f"  memory {large:,}/{small:,} {name:9} {ratio:5.2f}x (peak "
              f"{results[small][key] / MIB:.1f} → {results[large][key] / MIB:.1f} MiB;"
              f" rows ×{large // small})")


def report_export(results: dict[int, dict], vendor: str) -> None:
    print(f"export: a person with N rows about them (60 % events, 30 % devices, 10 % bookings),"
          f" trail of {TRAIL:,} other events; best of {EXPORT_RUNS}; {vendor}")
    large = max(results)
    for rows, result in sorted(results.items()):
        base = result["baseline"]
        print(f" N = {rows:,}")
        print(_line("baseline list(qs.values()) same rows", base, result["baseline_peak"]))
        for label, key in (("export_for_person (every entry)", "export"),
                           ("person_export_build (ZIP, PDF)", "zip")):
            tail = f"  ratio {result[key][0] / base[0]:5.1f}x"
            if rows == large:
                ok = "ok" if result[key][0] <= EXPORT_GOAL_SECONDS else "MISSED"
                tail += f"  (goal ≤ {EXPORT_GOAL_SECONDS:.0f} s: {ok})"
            print(_line(label, result[key], result[f"{key}_peak"], tail))
        print(f"    ZIP {result['zip_bytes'] / 1024:,.0f} KiB")


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("purge, export: skipped, needs PostgreSQL (DATABASE_URL=postgres://…; the throwaway "
              "database test_<name> is created on that server and dropped afterwards)")
        return
    with throwaway_database() as vendor:
        world = World()
        warm_up(world)
        purge = {count: bench_purge(world, count) for count in SIZES}
        export = {rows: bench_export(world, rows) for rows in EXPORT_ROWS}
    report_purge(purge, vendor)
    report_export(export, vendor)


if __name__ == "__main__":
    main()
