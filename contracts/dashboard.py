"""The parts contracts add to pages of other layers: the "Kosten" card of the dashboard and
the "Leistungen" section of a device's page (registered in contracts/plugins.py)."""

from __future__ import annotations

from django.urls import reverse

from contracts.charts import bar_chart, chart_size
from contracts.models import Booking
from contracts.selectors import (
    booking_rows,
    bookings_ending_soon,
    devices_without_service,
    monthly_cost_projection,
)
from contracts.views.common import can_act, with_customer
from portal.roles import OrganisationKind
from portal.tenancy import membership_of

#: Cancelled services shown on the dashboard: ending within this many days, at most this many.
ENDING_SOON_DAYS = 60
ENDING_SOON_SHOWN = 5


def costs_card(user) -> dict | None:
    """Costs only for people of a customer: staff see many customers, a sum would mislead.
    Three queries: cost projection, devices without a running booking, bookings ending soon
    (with their devices)."""
    membership = membership_of(user)
    if membership is None or membership.organisation.kind != OrganisationKind.CUSTOMER:
        return None
    projection = monthly_cost_projection(user, months=12)
    bars = bar_chart(projection[1:])
    return {
        "current": projection[0][1],
        "bars": bars,
        "size": chart_size(len(bars)),
        "devices_without_service": devices_without_service(user).count(),
        "ending_soon": list(bookings_ending_soon(user, days=ENDING_SOON_DAYS)
                            [:ENDING_SOON_SHOWN]),
        "ending_soon_days": ENDING_SOON_DAYS,
    }


def device_bookings_section(request, *, device) -> dict:
    """The bookings of one device, newest first, with the actions the person may take."""
    user = request.user
    may_act = can_act(user)
    bookings = (Booking.objects.visible_to(user).filter(device=device)
                .select_related("contract").order_by("-active_from", "-pk"))
    return {
        "bookings": booking_rows(bookings, may_act=may_act, back=request.path),
        "can_book": may_act and not device.retired_at,
        "may_act": may_act,
        "book_url": with_customer(reverse("contracts:book"), user, device.customer),
    }
