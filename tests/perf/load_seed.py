"""Set up the load benchmark's own database and print what the load generator needs (JSON).

Run by ``bench_load`` as ``python -m tests.perf.load_seed`` with the benchmark's environment
(production settings, its own PostgreSQL database and Redis db): migrate, collect the static
files, the demo world (``portal.demo.demo_seed``), a realistic inventory with bookings for the
demo customer, and the query count of every loaded page (Django's test client, in-process).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

DEMO_CUSTOMER = "K-10001"
PROVIDER_ADMIN = "provider_admin"
CUSTOMER_ADMIN = "customer_admin"


def _inventory(customer, count: int) -> None:
    """``count`` more devices for ``customer``: mostly workstations, some servers and network."""
    from django.utils import timezone

    from devices.models import Device, DeviceKind

    now, today = timezone.now(), timezone.localdate()
    kinds = [DeviceKind.SERVER if n % 15 == 0 else DeviceKind.NETWORK if n % 29 == 0
             else DeviceKind.WORKSTATION for n in range(count)]
    systems = {DeviceKind.WORKSTATION: ("PC", "Windows 11 Pro 23H2"),
               DeviceKind.SERVER: ("SRV", "Windows Server 2022 Standard"),
               DeviceKind.NETWORK: ("FW", "FortiOS 7.4")}
    Device.objects.bulk_create(
        Device(customer=customer, hostname=f"{systems[kind][0]}-LAST-{n:04d}",
               serial_number=f"LAST{n:06d}", kind=kind, operating_system=systems[kind][1],
               location=f"Filiale {n % 12 + 1}, Raum {n % 7 + 1}", agent_id=f"AG-L{n:05d}",
               last_seen=now - timedelta(minutes=17 * n),
               av_signature_date=today - timedelta(days=5 if n % 23 == 0 else n % 2),
               pending_critical_updates=n % 4)
        for n, kind in enumerate(kinds))


def _bookings(customer, actor) -> None:
    """Book through the services, as the customer admin would: a client plan on every
    workstation, server management on every server, anti-virus on every other workstation;
    then cancel a few, so the dashboard has services ending soon."""
    from contracts.models import Plan
    from contracts.services import booking_create, booking_remove
    from devices.models import Device, DeviceKind

    devices = Device.objects.visible_to(actor).filter(customer=customer).order_by("hostname")
    workstations = list(devices.filter(kind=DeviceKind.WORKSTATION))
    plans = {plan.code: plan for plan in Plan.objects.all()}
    booking_create(actor=actor, customer=customer, plan=plans["mc-standard"],
                   devices=workstations)
    booking_create(actor=actor, customer=customer, plan=plans["srv-basis"],
                   devices=list(devices.filter(kind=DeviceKind.SERVER)))
    antivirus = booking_create(actor=actor, customer=customer, plan=plans["av"],
                               devices=workstations[::2])
    for booking in antivirus[:8]:
        booking_remove(actor=actor, booking=booking)


def _analyze() -> None:
    """Planner statistics, as autovacuum keeps them in a live database: without them the
    freshly bulk-loaded tables look empty and PostgreSQL picks nested loops (the dashboard's
    "devices without a service" count took 15 ms instead of 0.5 ms), until autovacuum happens
    to analyze them in the middle of the run."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _login(login, user) -> dict:
    from django_otp.plugins.otp_static.models import StaticToken

    codes = list(StaticToken.objects.filter(device__user=user).order_by("pk")
                 .values_list("token", flat=True))
    return {"email": login.email, "password": login.password, "totp_secret": login.totp_secret,
            "backup_codes": codes}


def query_counts(pages: list[tuple[str, object, str]]) -> dict[str, int]:
    """Queries per page, as ``(label, person or None for anonymous, path)``, counted on the
    second request (the first warms up what a worker caches); a person's session is verified
    the way the tests do it. A page that does not answer 200 counts minus its status."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import verify_session

    counts, clients = {}, {}
    for label, user, path in pages:
        if user not in clients:
            clients[user] = Client(headers={"host": "127.0.0.1", "x-forwarded-proto": "https"})
            if user is not None:
                verify_session(clients[user], user)
        clients[user].get(path)
        with CaptureQueriesContext(connection) as queries:
            status = clients[user].get(path).status_code
        counts[label] = len(queries) if status == 200 else -status
    return counts


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from portal.demo import demo_seed
    from portal.models import Organisation, User
    from tests.perf.load_plan import ADMIN_PATHS, BARE_PATH, BARE_VERIFIED, PORTAL_PATHS

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    logins = {}
    for login in demo_seed():  # several customer admins: the first (the demo customer's) counts
        logins.setdefault(login.role, login)
    customer = Organisation.objects.get(customer_number=DEMO_CUSTOMER)
    if logins[CUSTOMER_ADMIN].organisation != customer.name:
        raise RuntimeError(f"the first demo customer admin is not of {customer.name}")
    people = {role: User.objects.get(email=logins[role].email)
              for role in (PROVIDER_ADMIN, CUSTOMER_ADMIN)}
    _inventory(customer, int(os.environ.get("BENCH_LOAD_DEVICES", "300")))
    _bookings(customer, people[CUSTOMER_ADMIN])
    _analyze()
    counts = query_counts(
        [(path, people[CUSTOMER_ADMIN], path) for path in PORTAL_PATHS]
        + [(path, people[PROVIDER_ADMIN], path) for path in ADMIN_PATHS]
        + [(BARE_PATH, None, BARE_PATH), (BARE_VERIFIED, people[CUSTOMER_ADMIN], BARE_PATH)])
    json.dump({"customer": customer.name,
               "devices": customer.devices.count(),
               "logins": {role: _login(logins[role], people[role]) for role in people},
               "queries": counts}, sys.stdout)


if __name__ == "__main__":
    main()
