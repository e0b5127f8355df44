"""Bookability (contracts/bookability.py): the booking page offers exactly the devices the
service accepts, and the running states are one constant on the choices."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contracts.bookability import FAMILY_RUNNING, RETIRED, WRONG_KIND, bookable, refusals
from contracts.models import Booking, BookingState
from contracts.selectors import bookable_devices
from contracts.services import booking_create
from devices.models import Device
from tests.factories import DeviceFactory


@pytest.fixture
def fleet(world, catalogue):
    customer = world["orgs"]["customer_a"]
    admin = world["people"]["customer_admin"]
    devices = {
        "free": DeviceFactory(customer=customer, hostname="free", kind="workstation"),
        "server": DeviceFactory(customer=customer, hostname="server", kind="server"),
        "switch": DeviceFactory(customer=customer, hostname="switch", kind="network"),
        "retired": DeviceFactory(customer=customer, hostname="retired", kind="workstation",
                                 retired_at=timezone.now()),
        "booked": DeviceFactory(customer=customer, hostname="booked", kind="workstation"),
    }
    booking_create(actor=admin, customer=customer, plan=catalogue["mc-basis"],
                   devices=[devices["booked"]])
    return customer, admin, devices


def test_what_the_page_offers_is_exactly_what_the_service_accepts(fleet, catalogue):
    customer, admin, devices = fleet
    for plan in catalogue.values():
        if not plan.is_active or plan.requires_isa:
            continue
        offered = set(bookable_devices(admin, customer, plan).values_list("hostname", flat=True))
        refused = {r.device.hostname for r in refusals(plan, devices.values())}
        assert offered == set(devices) - refused, plan.code
        for name in sorted(set(devices) - offered):
            with pytest.raises(ValidationError):
                booking_create(actor=admin, customer=customer, plan=plan,
                               devices=[devices[name]])


def test_refusals_say_why(fleet, catalogue):
    _customer, _admin, devices = fleet
    reasons = {r.device.hostname: r.reason
               for r in refusals(catalogue["mc-standard"], devices.values())}
    assert reasons == {"retired": RETIRED, "server": WRONG_KIND, "switch": WRONG_KIND,
                       "booked": FAMILY_RUNNING}


def test_bookable_is_one_query(fleet, catalogue, django_assert_num_queries):
    _customer, _admin, devices = fleet
    with django_assert_num_queries(1):
        names = list(bookable(catalogue["mc-standard"], Device.objects.all())
                     .values_list("hostname", flat=True))
    assert sorted(names) == ["free"]


def test_running_states_are_one_constant():
    assert set(BookingState.RUNNING) == {BookingState.ACTIVE, BookingState.ENDING}
    assert BookingState.ENDED not in BookingState.RUNNING
    assert "RUNNING" not in BookingState.values  # a constant on the choices, not a choice
    constraint = next(c for c in Booking._meta.constraints
                      if c.name == "booking_one_running_per_device_and_family")
    assert dict(constraint.condition.children)["state__in"] == list(BookingState.RUNNING)
    booking = Booking(state=BookingState.ENDING, active_from=date(2026, 1, 1))
    assert booking.is_running
