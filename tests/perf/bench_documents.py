"""Benchmark of the document service: the booking confirmation (PDF/A-3b) and the contract
summary of a customer with 10 bookings, and the accepted AVV with its evidence page (PDF/A-3b,
the demo's TOMs), each made RUNS times through the service (``booking_confirmation_create`` /
``contract_summary_create`` / ``avv_pdf_create``: context, template, bundled fonts,
checked fetcher, reproducible PDF, storage, SHA-256, audit row) against a bare
``weasyprint.HTML(string=html).write_pdf()`` of the very same HTML, measured in the same run.

The bare render applies no stylesheet and no fonts of its own (fontconfig picks the system's
fonts), so the ratio shows what the bundle, PDF/A and storing cost. Figures are ratios, never
timed assertions. Runs in a throwaway test database (tests/perf/throwaway_db.py).
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime

from tests.perf.throwaway_db import throwaway_database

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


def _avv_acceptance(customer, admin):
    from django.db import transaction

    from gdpr.demo import TOMS
    from gdpr.models import AvvVersion, TomMeasure
    from gdpr.services.avv import avv_accept, avv_version_publish

    version = AvvVersion.objects.create(label="2026-1")
    TomMeasure.objects.bulk_create([
        TomMeasure(version=version, category=category, order=order, text=text)
        for category, measures in TOMS.items() for order, (text, _en) in enumerate(measures)])
    with transaction.atomic():
        version = avv_version_publish(actor=None, version=version)
        return avv_accept(actor=admin, customer=customer, version=version,
                          sha256_seen=version.sha256, ip="192.0.2.7",
                          user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def _fresh_avv(admin, acceptance):
    """The AVV PDF rendered anew: the stored one of the acceptance is set aside first (the
    service otherwise serves it from the store)."""
    from gdpr.documents import AVV_DOCUMENT, avv_pdf_create
    from portal.documents.models import Document

    Document.objects.filter(kind=AVV_DOCUMENT).update(filename="bench-previous.pdf")
    return avv_pdf_create(actor=admin, acceptance=acceptance)


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


def _median_ms(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[len(ordered) // 2] * 1e3


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench() -> dict[str, tuple[float, float, int]]:
    """Per document: the median of RUNS service renders and of RUNS bare renders, taken in
    turns so that both see the same load of the machine."""
    from django.utils import timezone
    from weasyprint import HTML

    from contracts.documents import booking_confirmation_create, contract_summary_create

    customer, admin, bookings = _world()
    acceptance = _avv_acceptance(customer, admin)
    issued = timezone.now()
    makers = {
        "booking confirmation (PDF/A-3b)": lambda: booking_confirmation_create(
            actor=admin, customer=customer, bookings=bookings, issued=issued),
        "contract summary": lambda: contract_summary_create(
            actor=admin, contract=bookings[0].contract, lang="de"),
        "accepted AVV (PDF/A-3b)": lambda: _fresh_avv(admin, acceptance),
    }
    results = {}
    for name, make in makers.items():
        html = _capture_html(make)  # also the warm-up: fonts, templates, translations

        def bare(html=html):
            return HTML(string=html).write_pdf()

        bare()
        service_times, bare_times = [], []
        for _ in range(RUNS):
            service_times.append(_timed(make))
            bare_times.append(_timed(bare))
        results[name] = (_median_ms(service_times), _median_ms(bare_times),
                         len(make().file.read()))
    return results


def main() -> None:
    with throwaway_database() as vendor:
        results = bench()
    print(f"documents: median of {RUNS} renders each, {BOOKINGS} bookings, {vendor}, "
          f"{date.today():%Y-%m-%d}")
    for name, (service, bare, size) in results.items():
        print(f"  {name:34} service {service:7.1f} ms/doc   bare WeasyPrint "
              f"{bare:7.1f} ms/doc   ratio {service / bare:4.2f}x   {size / 1024:5.1f} KiB")


if __name__ == "__main__":
    main()
