"""The contract page's booking list in pages, in a real browser at desktop and phone width: no
page wider than the screen, the pages reachable, an action started on page 2 comes back there."""

from __future__ import annotations

import re

import pytest

from contracts.catalogue import plans_seed
from contracts.models import Booking, BookingState
from contracts.services import booking_create, booking_remove
from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import DeviceFactory, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


def _page_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth"
                         " - document.documentElement.clientWidth")


def test_contract_list_in_pages_at_desktop_and_phone_width(live_server, page):
    plans = {plan.code: plan for plan in plans_seed()}
    customer = OrganisationFactory(name="Rhein-Main Handel GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    devices = [DeviceFactory(customer=customer) for _ in range(51)]
    last = DeviceFactory(customer=customer, hostname="zz-lager")
    booking_create(actor=admin, customer=customer, plan=plans["mc-standard"],
                   devices=[*devices, last])
    # A cancelled booking: its row offers the withdrawal (a form) instead of links.
    booking_remove(actor=admin, booking=Booking.objects.get(device=devices[0]))
    login(page, live_server.url, admin)

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/vertrag/", "/geraete/"):
            page.goto(f"{live_server.url}{path}")
            assert page.locator("nav.pagination").is_visible(), (path, width)
            assert _page_overflow(page) == 0, (path, width)
        page.goto(f"{live_server.url}/vertrag/")
        assert "Seite 1 von 2" in page.locator("nav.pagination").inner_text()
        assert page.locator("table.list tbody tr").count() == 50
        page.click("nav.pagination >> text=Weiter ›")
        page.wait_for_url(re.compile(r"/vertrag/\?page=2$"))
        assert page.locator("table.list tbody tr").count() == 2
        assert "zz-lager" in page.locator("table.list").inner_text()
        assert _page_overflow(page) == 0, width

    page.click("tr:has-text('zz-lager') >> text=Entfernen")
    page.wait_for_selector("text=Leistung entfernen")
    page.click("main button:has-text('Kündigung bestätigen')")
    page.wait_for_url(re.compile(r"/vertrag/\?page=2$"))
    assert Booking.objects.get(device=last).state == BookingState.ENDING
