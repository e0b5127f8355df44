"""A customer admin books Managed Client Standard for two devices in a real browser, sees the
confirmation, removes one of them and sees the end date the notice rules give."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contracts.catalogue import plans_seed
from contracts.models import Booking, BookingState
from portal.periods import notice_end
from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import DeviceFactory, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_admin_books_and_removes(live_server, page):
    plans_seed()
    customer = OrganisationFactory(name="Rhein-Main Handel GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    DeviceFactory(customer=customer, hostname="pc-empfang")
    DeviceFactory(customer=customer, hostname="pc-buero")
    login(page, live_server.url, admin)

    page.click("nav >> text=Vertrag")
    page.wait_for_selector("text=Noch kein Vertrag")
    page.click("main >> text=Leistungen vergleichen")
    page.click("main >> text=Managed Client Standard buchen")
    page.check("label:has-text('pc-empfang') >> input")
    page.check("label:has-text('pc-buero') >> input")
    page.click("main button:has-text('Weiter zur Bestätigung')")

    page.wait_for_selector("text=Buchung bestätigen")
    body = page.locator("main").inner_text()
    assert "16,00 €" in body
    assert not Booking.objects.exists()
    page.click("main button:has-text('Kostenpflichtig buchen')")

    page.wait_for_selector("text=für 2 Geräte gebucht")
    assert Booking.objects.filter(customer=customer, state=BookingState.ACTIVE).count() == 2
    listing = page.locator("table.list").inner_text()
    assert "pc-empfang" in listing and "pc-buero" in listing

    booking = Booking.objects.get(device__hostname="pc-buero")
    expected = notice_end(booking.notice_rule(), received=timezone.localdate(),
                          start=booking.term_start).strftime("%d.%m.%Y")
    page.click("main >> text=pc-buero")
    page.click("main >> text=Entfernen")
    page.wait_for_selector("text=Leistung entfernen")
    assert page.locator("[data-effective-end]").inner_text() == expected
    page.click("main button:has-text('Kündigung bestätigen')")

    page.wait_for_selector(f"text=endet am {expected}")
    booking.refresh_from_db()
    assert booking.state == BookingState.ENDING
    assert booking.effective_end.strftime("%d.%m.%Y") == expected
    assert "pc-buero" in page.locator("h1").inner_text()  # back on the device page
