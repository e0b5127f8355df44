"""Reads of contracts and bookings for the portal; every query starts from ``visible_to``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from contracts.models import Booking, BookingState, Contract
from devices.models import Device
from portal.periods import add_months, billed_months, month_end

RUNNING_STATES = (BookingState.ACTIVE, BookingState.ENDING)

Month = tuple[int, int]


def running_bookings(user) -> QuerySet[Booking]:
    """The user's visible bookings that are running (active, or cancelled but not yet ended)."""
    return Booking.objects.visible_to(user).filter(state__in=RUNNING_STATES)


def monthly_cost_projection(user, *, today: date | None = None,
                            months: int = 12) -> list[tuple[Month, Decimal]]:
    """Net monthly recurring cost of the user's running bookings, for the current month and
    the next ``months`` months (``months + 1`` entries, oldest first).

    Full-month billing (``portal.periods.billed_months``, 000 § 7): a booking costs its
    snapshot price in every month with at least one active day. One query; the rest is
    O(bookings × months) in Python.
    """
    if months < 0:
        raise ValueError("months cannot be negative.")
    today = today or timezone.localdate()
    window_start = today.replace(day=1)
    window_end = month_end(add_months(window_start, months))
    totals: dict[Month, Decimal] = {}
    for offset in range(months + 1):
        first = add_months(window_start, offset)
        totals[(first.year, first.month)] = Decimal("0.00")
    rows = (running_bookings(user)
            .filter(Q(effective_end__isnull=True) | Q(effective_end__gte=window_start),
                    active_from__lte=window_end)
            .order_by()
            .values_list("monthly_price", "active_from", "effective_end"))
    for price, active_from, effective_end in rows:
        # Months before the window do not matter: start there to keep the work per booking
        # bounded by the window, however old the booking is.
        start = max(active_from, window_start)
        if effective_end is not None and effective_end < start:
            continue  # ended before the window, or cancelled before it began (never active)
        for month in billed_months(active_from=start, active_until=effective_end,
                                   through=window_end):
            totals[month] += price
    return list(totals.items())


def devices_without_service(user) -> QuerySet[Device]:
    """Active devices the user sees that have no running booking (of any product family)."""
    running = Booking.objects.visible_to(user).filter(device_id=OuterRef("pk"),
                                                      state__in=RUNNING_STATES)
    return (Device.objects.visible_to(user)
            .filter(retired_at__isnull=True)
            .filter(~Exists(running))
            .order_by("hostname", "pk"))


def bookings_ending_soon(user, days: int = 60, *, today: date | None = None
                         ) -> QuerySet[Booking]:
    """Cancelled bookings that end within the next ``days`` days (today included), soonest
    first, with their device."""
    today = today or timezone.localdate()
    return (Booking.objects.visible_to(user)
            .filter(state=BookingState.ENDING, effective_end__gte=today,
                    effective_end__lte=today + timedelta(days=days))
            .select_related("device")
            .order_by("effective_end", "device__hostname", "pk"))


def contract_of(user, customer) -> Contract | None:
    """The framework contract of ``customer`` if the user may see it."""
    return Contract.objects.visible_to(user).filter(customer=customer).first()


def bookable_devices(user, customer, plan) -> QuerySet[Device]:
    """The customer's active devices that fit ``plan`` and have no running booking in its
    family: what the booking page offers (``booking_create`` checks the same rules)."""
    from contracts.services import UNIT_KINDS

    devices = Device.objects.visible_to(user).filter(customer=customer, retired_at__isnull=True)
    if plan.unit in UNIT_KINDS:
        devices = devices.filter(kind__in=list(UNIT_KINDS[plan.unit]))
    running = Booking.objects.visible_to(user).filter(
        device_id=OuterRef("pk"), family=plan.family, state__in=RUNNING_STATES)
    return devices.filter(~Exists(running)).order_by("hostname")
