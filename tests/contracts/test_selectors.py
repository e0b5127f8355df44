"""Reads for the dashboard: cost projection, devices without a service, bookings ending soon,
the bar chart geometry and the "Kosten" card itself."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from contracts.charts import BASELINE, PLOT_HEIGHT, bar_chart, chart_size
from contracts.models import BillingMode, Booking, BookingState, Contract, Plan, PlanFamily
from contracts.selectors import (
    bookings_ending_soon,
    devices_without_service,
    monthly_cost_projection,
)
from portal.periods import BERLIN
from portal.tenancy import membership_of
from tests.factories import DeviceFactory
from tests.pages import page_sections

TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN)


def _plan(family: str = PlanFamily.MANAGED_CLIENT) -> Plan:
    plan, _created = Plan.objects.get_or_create(
        code=f"test-{family}",
        defaults={"name": f"Test {family}", "family": family, "tier": "Standard",
                  "unit": "workstation", "monthly_price": Decimal("8.00")})
    return plan


def book(customer, price: str, active_from: date, *, end: date | None = None,
         state: str = BookingState.ACTIVE, device=None, name: str = "Managed Client Standard"
         ) -> Booking:
    """A booking with its price snapshot, straight into the database."""
    contract, _created = Contract.objects.get_or_create(customer=customer,
                                                        defaults={"start": date(2026, 1, 1)})
    plan = _plan()
    return Booking.objects.create(
        customer=customer, contract=contract, device=device or DeviceFactory(customer=customer),
        plan=plan, plan_name=name, family=plan.family, monthly_price=Decimal(price),
        billing_mode=BillingMode.FULL_MONTHS, activated_at=timezone.now(),
        active_from=active_from, term_start=active_from, state=state, effective_end=end)


def _as_dict(projection):
    return dict(projection)


# --- monthly_cost_projection ------------------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_projection_counts_a_booking_in_every_month_it_has_an_active_day(world):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    book(customer, "8.00", date(2026, 11, 22), end=date(2027, 1, 31), state=BookingState.ENDING)

    projection = monthly_cost_projection(user)

    assert len(projection) == 13
    assert [month for month, _cost in projection][:4] == [(2026, 11), (2026, 12), (2027, 1),
                                                          (2027, 2)]
    assert projection[-1][0] == (2027, 11)
    costs = _as_dict(projection)
    assert costs[(2026, 11)] == Decimal("8.00")  # starts tomorrow: November is billed in full
    assert costs[(2026, 12)] == Decimal("8.00")
    assert costs[(2027, 1)] == Decimal("8.00")
    assert costs[(2027, 2)] == Decimal("0.00")
    assert all(isinstance(cost, Decimal) for cost in costs.values())


@time_machine.travel(NOW, tick=False)
def test_projection_adds_running_bookings_and_ignores_ended_and_other_customers(world):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    book(customer, "8.00", date(2026, 11, 22), end=date(2027, 1, 31), state=BookingState.ENDING)
    book(customer, "5.00", date(2025, 3, 1))                          # running for years
    book(customer, "49.00", date(2027, 3, 1))                         # starts in March
    book(customer, "12.60", date(2026, 1, 1), end=date(2026, 10, 31), state=BookingState.ENDED)
    book(customer, "100.00", date(2026, 1, 1), end=date(2027, 5, 31),
         state=BookingState.ENDED)                                    # ended by a tier change
    book(world["orgs"]["customer_a"], "1000.00", date(2026, 1, 1))   # another customer
    book(world["orgs"]["customer_b"], "1000.00", date(2026, 1, 1), end=date(2027, 1, 31),
         state=BookingState.ENDING)

    costs = _as_dict(monthly_cost_projection(user, today=TODAY))

    assert costs[(2026, 11)] == Decimal("13.00")
    assert costs[(2027, 1)] == Decimal("13.00")
    assert costs[(2027, 2)] == Decimal("5.00")
    assert costs[(2027, 3)] == Decimal("54.00")
    assert costs[(2027, 11)] == Decimal("54.00")


def test_projection_skips_bookings_that_never_start_or_ended_before_the_month(world):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    # Cancelled before it began: the services set the end to the day before the start.
    book(customer, "8.00", date(2026, 12, 1), end=date(2026, 11, 30), state=BookingState.ENDING)
    # Ended last month, but the daily job has not moved it to "ended" yet.
    book(customer, "5.00", date(2026, 1, 1), end=date(2026, 10, 31), state=BookingState.ENDING)
    # Ends on the first day of the month: that month is still billed in full.
    book(customer, "3.00", date(2026, 1, 1), end=date(2026, 11, 1), state=BookingState.ENDING)

    projection = monthly_cost_projection(user, today=TODAY, months=2)

    assert projection == [((2026, 11), Decimal("3.00")), ((2026, 12), Decimal("0.00")),
                          ((2027, 1), Decimal("0.00"))]


def test_projection_with_no_bookings_is_zero_and_runs_across_the_year_end(world):
    user = world["people"]["customer_admin_direct"]
    projection = monthly_cost_projection(user, today=date(2026, 12, 31), months=3)
    assert projection == [((2026, 12), Decimal("0.00")), ((2027, 1), Decimal("0.00")),
                          ((2027, 2), Decimal("0.00")), ((2027, 3), Decimal("0.00"))]


def test_projection_is_one_query_however_many_bookings(world, django_assert_num_queries):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    for day in range(1, 21):
        book(customer, "8.00", date(2020, 1, day))
    membership_of(user)  # cached on the user for the request, like the middleware does
    with django_assert_num_queries(1):
        costs = _as_dict(monthly_cost_projection(user, today=TODAY))
    assert costs[(2026, 11)] == Decimal("160.00")


@time_machine.travel(NOW, tick=False)
def test_projection_adds_bookings_over_the_same_days_to_the_cent(world):
    """Bookings that run over the same days are added up in the database: exactly, also for
    prices a binary float cannot hold (0.10), and each group only in its own months."""
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    for _i in range(3):
        book(customer, "0.10", date(2026, 1, 1))
        book(customer, "12.35", date(2026, 1, 1), end=date(2026, 12, 31),
             state=BookingState.ENDING)
    book(customer, "0.20", date(2027, 2, 1))

    costs = _as_dict(monthly_cost_projection(user, today=TODAY, months=3))

    assert costs == {(2026, 11): Decimal("37.35"), (2026, 12): Decimal("37.35"),
                     (2027, 1): Decimal("0.30"), (2027, 2): Decimal("0.50")}
    assert all(cost.as_tuple().exponent == -2 for cost in costs.values())


def test_projection_for_someone_without_membership_is_empty(db):
    from tests.factories import UserFactory

    costs = monthly_cost_projection(UserFactory(), today=TODAY, months=1)
    assert costs == [((2026, 11), Decimal("0.00")), ((2026, 12), Decimal("0.00"))]


# --- devices_without_service --------------------------------------------------------------------

def test_devices_without_service_are_active_visible_devices_with_no_running_booking(world):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    booked = book(customer, "8.00", date(2026, 1, 1)).device
    ending = book(customer, "8.00", date(2026, 1, 1), end=date(2026, 12, 31),
                  state=BookingState.ENDING).device
    formerly = book(customer, "8.00", date(2026, 1, 1), end=date(2026, 6, 30),
                    state=BookingState.ENDED).device
    bare = DeviceFactory(customer=customer, hostname="aaa-ohne-leistung")
    DeviceFactory(customer=customer, retired_at=timezone.now())
    DeviceFactory(customer=world["orgs"]["customer_a"])

    found = devices_without_service(user)

    assert found.count() == 2
    assert list(found) == [bare, formerly]
    assert booked not in found and ending not in found


def test_devices_without_service_is_one_query_for_the_list(world, django_assert_num_queries):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    for _i in range(5):
        DeviceFactory(customer=customer)
        book(customer, "8.00", date(2026, 1, 1))
    membership_of(user)
    with django_assert_num_queries(1):
        hostnames = [device.hostname for device in devices_without_service(user)[:3]]
    assert len(hostnames) == 3


# --- bookings_ending_soon ---------------------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_bookings_ending_soon_are_cancelled_bookings_ending_within_the_days(
        world, django_assert_num_queries):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    today = book(customer, "8.00", date(2026, 1, 1), end=TODAY, state=BookingState.ENDING)
    later = book(customer, "8.00", date(2026, 1, 1), end=date(2027, 1, 20),  # today + 60
                 state=BookingState.ENDING)
    soon = book(customer, "8.00", date(2026, 1, 1), end=date(2026, 11, 30),
                state=BookingState.ENDING)
    book(customer, "8.00", date(2026, 1, 1), end=date(2027, 1, 21),          # today + 61
         state=BookingState.ENDING)
    book(customer, "8.00", date(2026, 1, 1), end=date(2026, 11, 20),         # already over
         state=BookingState.ENDING)
    book(customer, "8.00", date(2026, 1, 1), end=date(2026, 11, 30), state=BookingState.ENDED)
    book(customer, "8.00", date(2026, 1, 1))
    book(world["orgs"]["customer_a"], "8.00", date(2026, 1, 1), end=date(2026, 11, 30),
         state=BookingState.ENDING)

    membership_of(user)
    with django_assert_num_queries(1):
        found = list(bookings_ending_soon(user))
        hostnames = [booking.device.hostname for booking in found]  # selected with them
    assert found == [today, soon, later]
    assert len(hostnames) == 3
    assert list(bookings_ending_soon(user, days=9)) == [today, soon]


# --- the bar chart ------------------------------------------------------------------------------

def test_bar_chart_heights_are_proportional_and_the_tallest_fills_the_plot():
    points = [((2026, 12), Decimal("0.00")), ((2027, 1), Decimal("5.00")),
              ((2027, 2), Decimal("10.00")), ((2027, 3), Decimal("2.50"))]
    with translation.override("de"):
        bars = bar_chart(points)

    assert [bar["height"] for bar in bars] == [0, PLOT_HEIGHT // 2, PLOT_HEIGHT, PLOT_HEIGHT // 4]
    assert max(bar["height"] for bar in bars) == PLOT_HEIGHT
    assert all(bar["y"] + bar["height"] == BASELINE for bar in bars)  # bars stand on the baseline
    assert bars[0]["y"] == BASELINE
    assert [bar["label"] for bar in bars] == ["Dez", "Jan", "Feb", "Mär"]
    assert bars[0]["long_label"] == "Dezember 2026"
    assert bars[2]["value"] == Decimal("10.00")
    xs = [bar["x"] for bar in bars]
    assert xs == sorted(xs) and len(set(xs)) == 4
    size = chart_size(len(bars))
    assert bars[-1]["x"] + bars[-1]["width"] <= size["width"]
    assert size["height"] > BASELINE
    assert all(isinstance(bar[key], int) for bar in bars
               for key in ("x", "y", "width", "height", "label_x", "label_y"))


def test_bar_chart_keeps_small_months_visible_and_handles_all_zero():
    bars = bar_chart([((2027, 1), Decimal("0.01")), ((2027, 2), Decimal("1000.00"))])
    assert [bar["height"] for bar in bars] == [1, PLOT_HEIGHT]

    zero = bar_chart([((2027, 1), Decimal("0.00")), ((2027, 2), Decimal("0.00"))])
    assert [bar["height"] for bar in zero] == [0, 0]
    assert bar_chart([]) == []


def test_bar_chart_labels_follow_the_active_language():
    with translation.override("en"):
        bars = bar_chart([((2026, 12), Decimal("1.00")), ((2027, 5), Decimal("1.00"))])
    assert [bar["label"] for bar in bars] == ["Dec", "May"]


# --- the dashboard card ---------------------------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_the_costs_card_in_german(world, verified_client):
    customer = world["orgs"]["customer_direct"]
    user = world["people"]["customer_admin_direct"]
    book(customer, "1226.00", date(2026, 1, 1))
    book(customer, "8.50", date(2026, 11, 22), end=date(2027, 1, 15), state=BookingState.ENDING,
         device=DeviceFactory(customer=customer, hostname="pc-buchhaltung"))
    DeviceFactory(customer=customer)
    DeviceFactory(customer=customer)

    response = verified_client(user).get(reverse("portal:dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kosten" in html
    assert "1.234,50 €" in html and "netto/Monat" in html
    assert 'role="img"' in html and 'aria-label="Monatliche Kosten' in html
    assert html.count("<rect") == 12
    assert "<title>Dezember 2026: 1.234,50 € netto</title>" in html
    assert "<title>Februar 2027: 1.226,00 € netto</title>" in html
    assert ">Dez</text>" in html and ">Jan</text>" in html and ">Nov</text>" in html
    assert f'height="{PLOT_HEIGHT}"' in html
    assert not re.search(r"\sstyle=", html)  # CSP: no inline styles
    assert not re.search(r"(x|y|width|height)=\"\d+,\d+\"", html)  # no localized geometry
    assert "Geräte ohne Leistung: 2" in html and f'href="{reverse("devices:list")}"' in html
    assert "Leistungen, die bald enden" in html
    assert "pc-buchhaltung" in html and "endet am 15.01.2027" in html
    costs = page_sections(response)["costs"]
    assert costs["current"] == Decimal("1234.50")
    assert [bar["label"] for bar in costs["bars"]][:2] == ["Dez", "Jan"]


@time_machine.travel(NOW, tick=False)
def test_dashboard_costs_card_without_bookings(world, verified_client):
    response = verified_client(world["people"]["customer_member"]).get(
        reverse("portal:dashboard"))
    html = response.content.decode()
    assert "0,00 €" in html
    assert "Geräte ohne Leistung: 0" in html
    assert "Keine gekündigte Leistung endet in den nächsten 60 Tagen." in html
    assert all(bar["height"] == 0 for bar in page_sections(response)["costs"]["bars"])


@pytest.mark.parametrize("person", ["provider_admin", "partner_support"])
def test_staff_without_a_customer_membership_see_no_costs(world, verified_client, person):
    book(world["orgs"]["customer_a"], "8.00", date(2026, 1, 1))
    response = verified_client(world["people"][person]).get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert "costs" not in page_sections(response)
    assert "costs-heading" not in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_dashboard_query_count_does_not_grow_with_bookings_and_devices(world, verified_client):
    customer = world["orgs"]["customer_direct"]
    client = verified_client(world["people"]["customer_admin_direct"])
    url = reverse("portal:dashboard")

    def measure() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    book(customer, "8.00", date(2026, 1, 1), end=date(2026, 12, 31), state=BookingState.ENDING)
    small = measure()
    for index in range(8):
        book(customer, "8.00", date(2026, 1, 1) if index % 2 else date(2027, 2, 1))
        book(customer, "5.00", date(2026, 1, 1), end=date(2026, 12, 15 + index),
             state=BookingState.ENDING)
        DeviceFactory(customer=customer)
    large = measure()
    assert large == small
