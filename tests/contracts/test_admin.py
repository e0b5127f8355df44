"""The contracts admin: scoped lists per role, the catalogue, the ISA date, the extraordinary
termination with its confirmation page, the booking remove action and the DPO's read-only view."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.models import Booking, BookingState, Contract, ContractStatus, Plan
from contracts.services import booking_create
from portal.models import AuditEvent
from portal.periods import BERLIN
from tests.factories import DeviceFactory

PLANS = "admin:contracts_plan_changelist"
CONTRACTS = "admin:contracts_contract_changelist"
BOOKINGS = "admin:contracts_booking_changelist"
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
VISIBLE_CUSTOMERS = {
    "provider_admin": {"customer_a", "customer_b", "customer_direct"},
    "provider_staff": {"customer_a", "customer_b", "customer_direct"},
    "dpo": {"customer_a", "customer_b", "customer_direct"},
    "partner_support": {"customer_a"},
    "partner_support_b": {"customer_b"},
}
BOOKERS = {"customer_a": "customer_admin", "customer_b": "customer_admin_b",
           "customer_direct": "customer_admin_direct"}


@pytest.fixture(autouse=True)
def _clock():
    """Logins and sessions happen at NOW too (a session must not expire by travelling)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked(world):
    """Each customer has booked Managed Client Standard for one workstation on 2026-03-10."""
    plans = {plan.code: plan for plan in plans_seed()}
    bookings = {}
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN), tick=False):
        for key, person in BOOKERS.items():
            org = world["orgs"][key]
            device = DeviceFactory(customer=org, kind="workstation",
                                   hostname=f"pc-{key}".replace("_", "-"))
            [bookings[key]] = booking_create(actor=world["people"][person], customer=org,
                                             plan=plans["mc-standard"], devices=[device])
    contracts = {key: Contract.objects.get(customer=world["orgs"][key]) for key in BOOKERS}
    return {**world, "plans": plans, "bookings": bookings, "contracts": contracts}


def _keys(booked, objects) -> set[str]:
    by_org = {org.pk: key for key, org in booked["orgs"].items()}
    return {by_org[obj.customer_id] for obj in objects}


@pytest.mark.parametrize("person", list(VISIBLE_CUSTOMERS))
def test_changelists_are_scoped_per_role(booked, verified_client, person):
    client = verified_client(booked["people"][person])
    for url in (CONTRACTS, BOOKINGS):
        response = client.get(reverse(url))
        assert response.status_code == 200
        assert _keys(booked, response.context["cl"].result_list) == VISIBLE_CUSTOMERS[person]
        for key in set(BOOKERS) - VISIBLE_CUSTOMERS[person]:
            assert booked["orgs"][key].name not in response.content.decode()
    # The catalogue is the same for everyone.
    response = client.get(reverse(PLANS))
    assert response.context["cl"].result_count == Plan.objects.count() == 7


@pytest.mark.parametrize("person", ["customer_admin", "customer_member"])
def test_customers_have_no_contracts_admin(booked, verified_client, person):
    client = verified_client(booked["people"][person])
    for url in (PLANS, CONTRACTS, BOOKINGS):
        assert client.get(reverse(url)).status_code in (302, 403)


def test_booking_list_filters_and_search(booked, verified_client):
    client = verified_client(booked["people"]["provider_staff"])
    response = client.get(reverse(BOOKINGS), {"q": "pc-customer-b"})
    assert _keys(booked, response.context["cl"].result_list) == {"customer_b"}
    with time_machine.travel(NOW, tick=False):
        client.post(reverse(BOOKINGS), {
            "action": "remove", "confirmed": "yes",
            "_selected_action": [booked["bookings"]["customer_a"].pk]})
    # Ends 2027-03-31: within 90 days from 2027-01-15, not within 30.
    with time_machine.travel(datetime(2027, 1, 15, 10, 0, tzinfo=BERLIN), tick=False):
        client = verified_client(booked["people"]["provider_staff"])
        response = client.get(reverse(BOOKINGS), {"ending_within": "90"})
        assert _keys(booked, response.context["cl"].result_list) == {"customer_a"}
        response = client.get(reverse(BOOKINGS), {"ending_within": "30"})
        assert not list(response.context["cl"].result_list)


def test_partner_support_does_not_see_who_at_the_provider_booked(booked, verified_client):
    staff = booked["people"]["provider_staff"]
    Booking.objects.filter(pk=booked["bookings"]["customer_a"].pk).update(booked_by=staff)
    client = verified_client(booked["people"]["partner_support"])
    body = client.get(reverse(BOOKINGS)).content.decode()
    assert str(staff) not in body and "(nicht einsehbar)" in body


# --- Catalogue --------------------------------------------------------------------------------


def test_plan_change_form_says_bookings_keep_their_snapshot(booked, verified_client):
    client = verified_client(booked["people"]["provider_staff"])
    plan = booked["plans"]["mc-standard"]
    url = reverse("admin:contracts_plan_change", args=[plan.pk])
    response = client.get(url)
    assert "Bestehende Buchungen behalten Preis" in response.content.decode()
    data = {"code": plan.code, "name": plan.name, "family": plan.family, "tier": plan.tier,
            "unit": plan.unit, "monthly_price": "9.50", "billing_mode": plan.billing_mode,
            "features": '["x"]', "sort_order": "2", "is_active": "on", "notice": "15d",
            "notice_anchor": "month_end", "min_term": "12m", "renewal": "1m",
            "provider_notice": "3m", "provider_notice_anchor": "month_end"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan.refresh_from_db()
    # A booked plan's price is read-only here: it changes by "Preisänderung ankündigen".
    assert plan.monthly_price == Decimal("8.00") and plan.sort_order == 2
    assert {b.monthly_price for b in Booking.objects.all()} == {Decimal("8.00")}
    assert AuditEvent.objects.filter(action="admin.changed", target_id=str(plan.pk)).exists()
    assert client.get(reverse("admin:contracts_plan_delete", args=[plan.pk])).status_code == 403
    # Partner support and the DPO only look.
    for person in ("partner_support", "dpo"):
        client = verified_client(booked["people"][person])
        assert client.post(url, {**data, "monthly_price": "1.00"}).status_code == 403
    plan.refresh_from_db()
    assert plan.monthly_price == Decimal("8.00")


# --- Contracts --------------------------------------------------------------------------------


def test_staff_record_the_isa_date_and_nothing_else(booked, verified_client):
    client = verified_client(booked["people"]["provider_staff"])
    contract = booked["contracts"]["customer_a"]
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    with time_machine.travel(NOW, tick=False):
        response = client.post(url, {"isa_completed_on": "2026-05-28", "terms_version": "2026-05",
                                     "status": "ended", "start": "2020-01-01"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.isa_completed_on == date(2026, 5, 28)
    assert contract.terms_version == "2026-05"
    assert contract.status == ContractStatus.ACTIVE and contract.start == date(2026, 3, 11)
    event = AuditEvent.objects.get(action="contract.updated")
    assert event.details["isa_completed_on"] == ["", "2026-05-28"]
    with time_machine.travel(NOW, tick=False):
        response = client.post(url, {"isa_completed_on": "2026-06-05", "terms_version": "x"})
    assert response.status_code == 200
    assert "isa_completed_on" in response.context["adminform"].form.errors
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 403
    assert client.get(reverse("admin:contracts_contract_delete",
                              args=[contract.pk])).status_code == 403


def _terminate(client, contract, **form):
    return client.post(reverse(CONTRACTS), {"action": "terminate_extraordinary",
                                            "_selected_action": [contract.pk], **form})


def test_extraordinary_termination_confirmation_flow(booked, verified_client):
    staff = booked["people"]["provider_staff"]
    client = verified_client(staff)
    contract = booked["contracts"]["customer_b"]
    with time_machine.travel(NOW, tick=False):
        # 1. The action shows the confirmation page with the form; nothing changes yet.
        response = _terminate(client, contract)
        assert response.status_code == 200
        assert "admin/contracts/contract/terminate.html" in [t.name for t in response.templates]
        assert set(response.context["form"].fields) == {"end", "reason"}
        assert "Kunde B" in response.content.decode()
        contract.refresh_from_db()
        assert contract.status == ContractStatus.ACTIVE
        # 2. Without reason (or with an end in the past): the page again, with the errors.
        response = _terminate(client, contract, confirmed="yes", end="2026-06-30", reason="")
        assert response.status_code == 200 and "reason" in response.context["form"].errors
        response = _terminate(client, contract, confirmed="yes", end="2026-05-01",
                              reason="Zahlungsverzug")
        assert "end" in response.context["form"].errors
        contract.refresh_from_db()
        assert contract.status == ContractStatus.ACTIVE
        # 3. Confirmed with end and reason.
        response = _terminate(client, contract, confirmed="yes", end="2026-06-30",
                              reason="Zahlungsverzug")
        assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDING and contract.extraordinary
    assert contract.effective_end == date(2026, 6, 30)
    assert contract.cancellation_reason == "Zahlungsverzug" and contract.cancelled_by == staff
    booking = booked["bookings"]["customer_b"]
    booking.refresh_from_db()
    assert booking.state == BookingState.ENDING and booking.effective_end == date(2026, 6, 30)
    assert AuditEvent.objects.filter(action="contract.terminated").count() == 1
    # Only one contract at a time.
    response = client.post(reverse(CONTRACTS), {
        "action": "terminate_extraordinary",
        "_selected_action": [c.pk for c in booked["contracts"].values()]}, follow=True)
    assert "genau einen Rahmenvertrag" in response.content.decode()


@pytest.mark.parametrize("person", ["dpo", "partner_support"])
def test_only_provider_staff_terminate(booked, verified_client, person):
    client = verified_client(booked["people"][person])
    contract = booked["contracts"]["customer_a"]
    response = client.get(reverse(CONTRACTS))
    assert "terminate_extraordinary" not in response.content.decode()
    with time_machine.travel(NOW, tick=False):
        _terminate(client, contract, confirmed="yes", end="2026-06-30", reason="x")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


# --- Bookings ---------------------------------------------------------------------------------


def test_booking_remove_action_confirms_then_cancels(booked, verified_client):
    support = booked["people"]["partner_support"]
    client = verified_client(support)
    own, foreign = booked["bookings"]["customer_a"], booked["bookings"]["customer_b"]
    selected = {"action": "remove", "_selected_action": [own.pk, foreign.pk]}
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse(BOOKINGS), selected)
        assert response.status_code == 200
        assert response.context["objects"] == [own]  # the queryset is scoped
        own.refresh_from_db()
        assert own.state == BookingState.ACTIVE
        response = client.post(reverse(BOOKINGS), {**selected, "confirmed": "yes"})
        assert response.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.state == BookingState.ENDING and own.effective_end == date(2027, 3, 31)
    assert own.removed_by == support
    assert foreign.state == BookingState.ACTIVE
    # Removing again reports the service's message.
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse(BOOKINGS), {"action": "remove", "confirmed": "yes",
                                                   "_selected_action": [own.pk]}, follow=True)
    assert "bereits gekündigt" in response.content.decode()


def test_bookings_are_read_only_in_the_admin(booked, verified_client):
    client = verified_client(booked["people"]["provider_admin"])
    booking = booked["bookings"]["customer_a"]
    assert client.get(reverse("admin:contracts_booking_add")).status_code == 403
    response = client.get(reverse("admin:contracts_booking_change", args=[booking.pk]))
    assert response.status_code == 200 and not response.context["has_change_permission"]
    assert client.get(reverse("admin:contracts_booking_delete",
                              args=[booking.pk])).status_code == 403


def test_dpo_is_read_only(booked, verified_client):
    client = verified_client(booked["people"]["dpo"])
    contract, booking = booked["contracts"]["customer_a"], booked["bookings"]["customer_a"]
    plan = booked["plans"]["mc-basis"]
    for name, obj in (("contract", contract), ("booking", booking), ("plan", plan)):
        response = client.get(reverse(f"admin:contracts_{name}_change", args=[obj.pk]))
        assert response.status_code == 200 and not response.context["has_change_permission"]
    response = client.get(reverse(BOOKINGS))
    assert 'name="action"' not in response.content.decode()  # no actions at all
    with time_machine.travel(NOW, tick=False):
        client.post(reverse(BOOKINGS), {"action": "remove", "confirmed": "yes",
                                        "_selected_action": [booking.pk]})
        response = client.post(reverse("admin:contracts_contract_change", args=[contract.pk]),
                               {"isa_completed_on": "2026-05-01", "terms_version": "x"})
    assert response.status_code == 403
    booking.refresh_from_db()
    contract.refresh_from_db()
    assert booking.state == BookingState.ACTIVE and contract.isa_completed_on is None
