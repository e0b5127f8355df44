"""The dashboard's counts: each table is counted once (team, devices), the numbers stay what
the cards say."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts.models import BillingMode, Booking, BookingState, Contract, Plan
from portal.roles import Role
from portal.selectors import team_summary
from tests.factories import DeviceFactory, make_person
from tests.pages import page_sections

pytestmark = pytest.mark.django_db


def _book(customer, device, state=BookingState.ACTIVE) -> Booking:
    contract, _created = Contract.objects.get_or_create(customer=customer,
                                                        defaults={"start": date(2026, 1, 1)})
    plan, _created = Plan.objects.get_or_create(
        code="test-mc", defaults={"name": "Test", "family": "managed_client", "tier": "Standard",
                                  "unit": "workstation", "monthly_price": Decimal("8.00")})
    return Booking.objects.create(
        customer=customer, contract=contract, device=device, plan=plan, plan_name=plan.name,
        family=plan.family, monthly_price=plan.monthly_price,
        billing_mode=BillingMode.FULL_MONTHS, activated_at=timezone.now(),
        active_from=date(2026, 1, 1), term_start=date(2026, 1, 1), state=state)


def test_team_summary_counts_active_deactivated_and_active_with_an_app(world):
    customer = world["orgs"]["customer_a"]  # customer admin and member, both with an app
    make_person(Role.CUSTOMER_MEMBER, customer, mfa=False)
    make_person(Role.CUSTOMER_MEMBER, customer, is_active=False)
    unconfirmed = make_person(Role.CUSTOMER_MEMBER, customer, mfa=False)
    TOTPDevice.objects.create(user=unconfirmed, name="halb eingerichtet", confirmed=False)
    make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_b"])

    summary = team_summary(world["people"]["customer_admin"])

    assert summary == {"active": 4, "inactive": 1, "with_mfa": 2}


def test_dashboard_cards_for_a_customer(world, verified_client):
    customer = world["orgs"]["customer_a"]
    make_person(Role.CUSTOMER_MEMBER, customer, mfa=False)
    booked = DeviceFactory(customer=customer)
    _book(customer, booked)
    _book(customer, DeviceFactory(customer=customer), state=BookingState.ENDED)
    DeviceFactory(customer=customer, av_signature_date=None)
    DeviceFactory(customer=customer, retired_at=timezone.now())
    _book(world["orgs"]["customer_b"], DeviceFactory(customer=world["orgs"]["customer_b"]))

    response = verified_client(world["people"]["customer_admin"]).get(
        reverse("portal:dashboard"))

    context = response.context
    assert (context["team_active"], context["team_inactive"], context["team_with_mfa"]) == (
        3, 0, 2)
    cards = page_sections(response)
    # No signature and no anti-virus management: not stale (issue 9, devices.selectors).
    assert cards["devices"] == {"active": 3, "stale": 0}
    assert cards["costs"]["devices_without_service"] == 2
    assert list(cards) == ["devices", "costs"]
    html = response.content.decode()
    assert "Zwei-Faktor-Anmeldung eingerichtet: 2 von 3 aktiven Personen" in html
    assert "Geräte ohne Leistung: 2" in html


def test_dashboard_for_staff_counts_devices_without_the_costs(world, verified_client):
    DeviceFactory(customer=world["orgs"]["customer_a"])
    response = verified_client(world["people"]["partner_support"]).get(
        reverse("portal:dashboard"))
    cards = page_sections(response)
    assert cards["devices"] == {"active": 1, "stale": 0}
    assert "costs" not in cards


def test_dashboard_queries_do_not_grow_with_devices_and_bookings(world, verified_client):
    customer = world["orgs"]["customer_a"]
    client = verified_client(world["people"]["customer_admin"])
    _book(customer, DeviceFactory(customer=customer))
    client.get(reverse("portal:dashboard"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("portal:dashboard")).status_code == 200
    for _index in range(15):
        _book(customer, DeviceFactory(customer=customer), state=BookingState.ENDING)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("portal:dashboard")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    counting = [query["sql"] for query in many.captured_queries
                if "COUNT(" in query["sql"].upper()]
    # The devices card counts active and stale devices in one query, the costs card those
    # without a running booking; the team is counted once.
    assert sum('FROM "devices_device"' in sql for sql in counting) == 2, counting
    assert sum('FROM "portal_membership"' in sql for sql in counting) == 1, counting
