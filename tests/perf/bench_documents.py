"""Benchmark of the document service: the booking confirmation (PDF/A-3b) and the contract
summary of a customer with 10 bookings, each made RUNS times through the service
(``booking_confirmation_create`` / ``contract_summary_create``: context, template, bundled fonts,
checked fetcher, reproducible PDF, storage, SHA-256, audit row) against a bare
``weasyprint.HTML(string=html).write_pdf()`` of the very same HTML, measured in the same run.

The bare render applies no stylesheet and no fonts of its own (fontconfig picks the system's
fonts), so the ratio shows what the bundle, PDF/A and storing cost. Figures are ratios, never
timed assertions. Runs in a throwaway test database that is destroyed at the end.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime

RUNS = int(os.environ.get("BENCH_DOCUMENT_RUNS", 20))
BOOKINGS = 10


def _world():
    from contracts.catalogue import plans_seed
    from contracts.models import Plan
    from contracts.services import booking_create
    from portal.periods import BERLIN
    from portal.roles import Role
    from tests.factories import DeviceFactory, OrganisationFactory, make_person

    plans_seed()
    customer = OrganisationFactory(name="Müller & Söhne GmbH", street="Königstraße 5",
                                   postal_code="60311", city="Frankfurt am Main")
    admin = make_person(Role.CUSTOMER_ADMIN, customer, first_name="Jürgen", last_name="Weiß")
    devices = [DeviceFactory(customer=customer, kind="workstation") for _ in range(BOOKINGS)]
    import time_machine

    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=BERLIN), tick=False):
        bookings = booking_create(actor=admin, customer=customer,
                                  plan=Plan.objects.get(code="mc-basis"), devices=devices)
    return customer, admin, bookings


def _capture_html(make) -> str:
    """The HTML the service renders for ``make()`` (the bare render gets the same)."""
    from portal.documents import render

    seen = []
    original = render.html_to_pdf

    def recording(html, **kwargs):
        seen.append(html)
        return original(html, **kwargs)

    render.html_to_pdf = recording
    try:
        make()
    finally:
        render.html_to_pdf = original
    return seen[-1]


def _per_doc(func, runs: int) -> float:
    func()  # warm-up: fonts, templates, translations
    started = time.perf_counter()
    for _ in range(runs):
        func()
    return (time.perf_counter() - started) / runs


def bench() -> dict[str, tuple[float, float, int]]:
    from django.utils import timezone
    from weasyprint import HTML

    from contracts.documents import booking_confirmation_create, contract_summary_create

    customer, admin, bookings = _world()
    issued = timezone.now()
    makers = {
        "booking confirmation (PDF/A-3b)": lambda: booking_confirmation_create(
            actor=admin, customer=customer, bookings=bookings, issued=issued),
        "contract summary": lambda: contract_summary_create(
            actor=admin, contract=bookings[0].contract, lang="de"),
    }
    results = {}
    for name, make in makers.items():
        html = _capture_html(make)
        bare = _per_doc(lambda html=html: HTML(string=html).write_pdf(), RUNS)
        service = _per_doc(make, RUNS)
        results[name] = (service, bare, len(make().file.read()))
    return results


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        results = bench()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(f"documents: {RUNS} renders each, {BOOKINGS} bookings, {connection.vendor}, "
          f"{date.today():%Y-%m-%d}")
    for name, (service, bare, size) in results.items():
        print(f"  {name:34} service {service * 1e3:7.1f} ms/doc   bare WeasyPrint "
              f"{bare * 1e3:7.1f} ms/doc   ratio {service / bare:4.2f}x   {size / 1024:5.1f} KiB")


if __name__ == "__main__":
    main()
