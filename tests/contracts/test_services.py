"""Contract and booking services: book, refuse bad input, remove (DOMAIN.md § 3 examples),
withdraw, change tier, cancel, terminate, the daily end job and the login block after the end."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import formats, timezone, translation

from contracts.models import (
    Booking,
    BookingChange,
    BookingState,
    Contract,
    ContractStatus,
    Plan,
    PlanFamily,
    PlanUnit,
)
from contracts.services import (
    booking_change_tier,
    booking_create,
    booking_is_withdrawable,
    booking_remove,
    booking_withdraw_removal,
    contract_cancel,
    contract_terminate_extraordinary,
    contracts_end_due,
)
from portal.models import AuditEvent
from portal.periods import BERLIN, purge_schedule
from tests.concurrency import run_at_once
from tests.factories import PASSWORD, DeviceFactory
from tests.outbox import deliver_queued

LOGIN_URL = "/konto/login/"
NOT_ALLOWED = "Eine ordentliche Kündigung ist für diese Leistung ausgeschlossen."


def at(day: date, hour: int = 10):
    """Freeze the clock on ``day`` (Berlin time)."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN),
                               tick=False)


def events(action: str, target=None):
    rows = AuditEvent.objects.filter(action=action)
    if target is not None:
        rows = rows.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    return rows


def plan_of(code: str) -> Plan:
    return Plan.objects.get(code=code)


def workstation(customer, **fields):
    return DeviceFactory(customer=customer, kind="workstation", **fields)


@pytest.fixture
def booker(world):
    return world["people"]["customer_admin"]


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


def book(actor, customer, plan, devices, day: date) -> list[Booking]:
    with at(day):
        return booking_create(actor=actor, customer=customer, plan=plan, devices=devices)


def snapshot():
    """Everything the bad-input tests must leave unchanged."""
    return (Booking.objects.count(), Contract.objects.count(), AuditEvent.objects.count(),
            list(Booking.objects.order_by("pk").values_list("state", "effective_end")))


# --- Booking ------------------------------------------------------------------------------------


def test_booking_managed_client_standard_on_two_workstations(
        catalogue, customer, booker, django_capture_on_commit_callbacks):
    devices = [workstation(customer, hostname="pc-b"), workstation(customer, hostname="pc-a")]
    plan = catalogue["mc-standard"]
    with at(date(2026, 3, 10)), django_capture_on_commit_callbacks(execute=True):
        bookings = booking_create(actor=booker, customer=customer, plan=plan, devices=devices)

    assert [b.device.hostname for b in bookings] == ["pc-a", "pc-b"]
    contract = Contract.objects.get(customer=customer)
    assert contract.start == date(2026, 3, 11) and contract.status == ContractStatus.ACTIVE
    for booking in Booking.objects.filter(customer=customer):
        assert booking.plan == plan and booking.plan_name == "Managed Client Standard"
        assert booking.family == PlanFamily.MANAGED_CLIENT
        assert booking.monthly_price == Decimal("8.00")
        assert booking.active_from == date(2026, 3, 11)  # the day after activation (000 § 2)
        assert booking.term_start == date(2026, 3, 11)
        assert booking.min_term_end == date(2027, 3, 10)  # 12 months - 1 day
        assert booking.state == BookingState.ACTIVE and booking.effective_end is None
        assert booking.booked_by == booker and not booking.on_behalf
        assert booking.contract == contract
        created = events("booking.created", booking).get()
        assert created.actor == booker and created.organisation == customer
        assert created.details["price"] == "8.00"
    assert events("booking.created").count() == 2
    assert events("contract.opened", contract).count() == 1

    assert mail.outbox == []  # sent by the outbox job, not in the request
    deliver_queued()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [booker.email]
    assert "Ihre Buchung ist bestätigt" in message.subject
    assert "Managed Client Standard" in message.body and "11.03.2026" in message.body

    # A later catalogue edit changes nothing that is booked.
    plan.monthly_price = Decimal("9.90")
    plan.name = "Managed Client Standard (neu)"
    plan.notice = "1m"
    plan.save()
    for booking in Booking.objects.filter(customer=customer):
        assert booking.monthly_price == Decimal("8.00")
        assert booking.plan_name == "Managed Client Standard"
        assert booking.notice == "15d"


def test_booking_mail_is_in_the_bookers_language(catalogue, customer, booker,
                                                 django_capture_on_commit_callbacks):
    booker.language = "en"
    booker.save(update_fields=["language"])
    with at(date(2026, 3, 10)), django_capture_on_commit_callbacks(execute=True):
        booking_create(actor=booker, customer=customer, plan=catalogue["mc-basis"],
                       devices=[workstation(customer)])
    deliver_queued()
    assert len(mail.outbox) == 1
    with translation.override("en"):
        english = formats.date_format(date(2026, 3, 11), "SHORT_DATE_FORMAT")
    assert english != "11.03.2026"
    assert english in mail.outbox[0].body and "11.03.2026" not in mail.outbox[0].body


def test_partner_support_books_on_behalf(world, catalogue, customer):
    support = world["people"]["partner_support"]
    [booking] = book(support, customer, catalogue["mc-basis"], [workstation(customer)],
                     date(2026, 3, 10))
    assert booking.on_behalf and booking.booked_by == support
    other = world["orgs"]["customer_b"]
    before = snapshot()
    with pytest.raises(PermissionDenied):
        book(support, other, catalogue["mc-basis"], [workstation(other)], date(2026, 3, 10))
    assert snapshot() == before


# --- Bad input: a clear message and no change ---------------------------------------------------


def test_device_of_another_customer_is_refused(world, catalogue, customer, booker):
    foreign = workstation(world["orgs"]["customer_b"])
    before = snapshot()
    with pytest.raises(PermissionDenied, match="gehört nicht zu diesem Kunden"):
        book(booker, customer, catalogue["mc-standard"], [workstation(customer), foreign],
             date(2026, 3, 10))
    assert snapshot() == before


def test_retired_device_is_refused(catalogue, customer, booker):
    device = workstation(customer, hostname="pc-alt", retired_at=timezone.now())
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        book(booker, customer, catalogue["mc-standard"], [device], date(2026, 3, 10))
    assert exc.value.messages == ["pc-alt ist ausgemustert."]
    assert snapshot() == before


def test_device_with_that_family_already_is_refused(catalogue, customer, booker):
    device = workstation(customer, hostname="pc-1")
    book(booker, customer, catalogue["mc-basis"], [device], date(2026, 3, 10))
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        book(booker, customer, catalogue["mc-standard"], [device], date(2026, 3, 12))
    assert exc.value.messages == [
        "pc-1 hat bereits eine Leistung aus Managed Client; wechseln Sie stattdessen die Stufe."]
    assert snapshot() == before


def test_plan_that_does_not_fit_the_device_kind_is_refused(catalogue, customer, booker):
    device = workstation(customer, hostname="pc-1")
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        book(booker, customer, catalogue["srv-basis"], [device], date(2026, 3, 10))
    assert exc.value.messages == [
        "Server Management Basis passt nicht zu pc-1 (Arbeitsplatz-PC)."]
    assert snapshot() == before


def test_plan_requiring_isa_without_isa_is_refused(catalogue, customer, booker):
    server = DeviceFactory(customer=customer, kind="server", hostname="srv-1")
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        book(booker, customer, catalogue["srv-plus"], [server], date(2026, 3, 10))
    assert "setzt eine Infrastrukturanalyse (ISA) voraus" in exc.value.messages[0]
    assert snapshot() == before  # not even the contract the booking would have opened

    # With the ISA recorded the same booking goes through.
    book(booker, customer, catalogue["srv-basis"], [DeviceFactory(customer=customer,
                                                                  kind="server")],
         date(2026, 3, 10))
    Contract.objects.filter(customer=customer).update(isa_completed_on=date(2026, 3, 9))
    [booking] = book(booker, customer, catalogue["srv-plus"], [server], date(2026, 3, 10))
    assert booking.plan_name == "Server Management Plus"


def test_removing_twice_is_refused(catalogue, customer, booker):
    [booking] = book(booker, customer, catalogue["mc-standard"], [workstation(customer)],
                     date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=booking)
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            booking_remove(actor=booker, booking=booking)
    assert exc.value.messages == ["Diese Leistung ist bereits gekündigt; sie endet am "
                                  "31.03.2027."]
    assert snapshot() == before


def test_removing_after_the_end_is_refused(catalogue, customer, booker):
    [booking] = book(booker, customer, catalogue["av"], [workstation(customer)],
                     date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=booking)
    with at(date(2026, 7, 1)):
        # Its only booking ended, so the framework contract ends with it.
        assert contracts_end_due() == {"bookings": 1, "contracts": 1}
        booking.refresh_from_db()
        assert booking.state == BookingState.ENDED
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            booking_remove(actor=booker, booking=booking)
        assert exc.value.messages == ["Diese Leistung ist bereits beendet."]
        with pytest.raises(ValidationError):
            booking_withdraw_removal(actor=booker, booking=booking)
    assert snapshot() == before


def test_plan_with_anchor_none_cannot_be_cancelled(customer, booker):
    plan = Plan.objects.create(code="miete-3j", name="Software-Miete 3 Jahre",
                               family=PlanFamily.ANTIVIRUS, tier="Miete",
                               unit=PlanUnit.WORKSTATION, monthly_price=Decimal("20.00"),
                               notice="3m", notice_anchor="none", min_term="36m", renewal="")
    [booking] = book(booker, customer, plan, [workstation(customer)], date(2026, 3, 10))
    before = snapshot()
    with at(date(2026, 6, 1)), pytest.raises(ValidationError) as exc:
        booking_remove(actor=booker, booking=booking)
    assert exc.value.messages[0].startswith(NOT_ALLOWED)
    assert snapshot() == before
    booking.refresh_from_db()
    assert booking.state == BookingState.ACTIVE


def test_customer_member_may_not_book_or_remove(world, catalogue, customer, booker):
    member = world["people"]["customer_member"]
    [booking] = book(booker, customer, catalogue["mc-basis"], [workstation(customer)],
                     date(2026, 3, 10))
    before = snapshot()
    with pytest.raises(PermissionDenied):
        book(member, customer, catalogue["mc-basis"], [workstation(customer)],
             date(2026, 3, 10))
    with at(date(2026, 4, 1)), pytest.raises(PermissionDenied):
        booking_remove(actor=member, booking=booking)
    assert snapshot()[:3] == before[:3]


# --- DOMAIN.md § 3 worked examples, through booking_remove --------------------------------------

NO_START = date(2025, 1, 1)

WORKED_EXAMPLES = [
    # notice, anchor, min term, renewal, start, received, effective end
    ("15d", "month_end", "", "1m", NO_START, date(2026, 11, 15), date(2026, 11, 30)),
    ("15d", "month_end", "", "1m", NO_START, date(2026, 11, 16), date(2026, 12, 31)),
    ("15d", "month_end", "12m", "1m", date(2026, 1, 16), date(2026, 6, 1), date(2027, 1, 31)),
    ("4w", "month_end", "", "1m", NO_START, date(2026, 11, 2), date(2026, 11, 30)),
    ("3m", "month_end", "", "1m", NO_START, date(2026, 9, 30), date(2026, 12, 31)),
    ("3m", "term_end", "12m", "12m", date(2026, 1, 1), date(2026, 9, 30), date(2026, 12, 31)),
    ("3m", "term_end", "12m", "12m", date(2026, 1, 1), date(2026, 10, 1), date(2027, 12, 31)),
]


@pytest.mark.parametrize(("notice", "anchor", "min_term", "renewal", "start", "received",
                          "end"), WORKED_EXAMPLES)
def test_worked_examples_through_booking_remove(customer, booker, notice, anchor, min_term,
                                                renewal, start, received, end):
    plan = Plan.objects.create(code="beispiel", name="Beispiel", family=PlanFamily.ANTIVIRUS,
                               tier="Standard", unit=PlanUnit.WORKSTATION,
                               monthly_price=Decimal("5.00"), notice=notice,
                               notice_anchor=anchor, min_term=min_term, renewal=renewal)
    plan.full_clean()
    # Booked the day before the start: the service is active from the start.
    [booking] = book(booker, customer, plan, [workstation(customer)], start - timedelta(days=1))
    assert booking.term_start == start
    with at(received):
        removed = booking_remove(actor=booker, booking=booking)
    booking.refresh_from_db()
    assert removed.effective_end == booking.effective_end == end
    assert booking.state == BookingState.ENDING
    assert booking.removal_received == received and booking.removed_by == booker
    event = events("booking.removed", booking).get()
    assert event.details["effective_end"] == str(end)
    assert event.details["last_billed_month"] == f"{end.year:04d}-{end.month:02d}"


# --- Withdraw, change tier ----------------------------------------------------------------------


def test_withdraw_removal(catalogue, customer, booker):
    [booking] = book(booker, customer, catalogue["mc-standard"], [workstation(customer)],
                     date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=booking)
    with at(date(2027, 3, 31)):  # the last day: still possible
        booking_withdraw_removal(actor=booker, booking=booking)
    booking.refresh_from_db()
    assert booking.state == BookingState.ACTIVE
    assert booking.effective_end is None and booking.removal_received is None
    assert booking.removed_by is None
    event = events("booking.removal_withdrawn", booking).get()
    assert event.details == {"previous_end": "2027-03-31"}
    with at(date(2027, 4, 1)), pytest.raises(ValidationError,
                                             match="keine Kündigung, die sich zurücknehmen"):
        booking_withdraw_removal(actor=booker, booking=booking)


@pytest.mark.parametrize("terminated", [False, True])
def test_withdrawal_refused_once_the_contract_is_cancelled(world, catalogue, customer, booker,
                                                          terminated):
    """Issue 9: a removal cannot be taken back once the framework contract is cancelled by the
    customer or terminated by the provider, and the refusal asks for no action the portal
    does not have (there is no way to take back a contract's cancellation)."""
    [booking] = book(booker, customer, catalogue["mc-standard"], [workstation(customer)],
                     date(2026, 3, 10))
    contract = Contract.objects.get(customer=customer)
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=booking)
        if terminated:
            contract_terminate_extraordinary(actor=world["people"]["provider_staff"],
                                             contract=contract, end=date(2026, 6, 30),
                                             reason="Zahlungsverzug")
        else:
            contract_cancel(actor=booker, contract=contract)
        booking.refresh_from_db()
        assert not booking_is_withdrawable(booking, today=date(2026, 6, 1))
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            booking_withdraw_removal(actor=booker, booking=booking)
    assert snapshot() == before
    [message] = exc.value.messages
    assert "zuerst" not in message and "wenden Sie sich bitte an uns" in message
    assert ("außerordentlich" in message) is terminated


def test_change_tier_up_and_down_keeps_the_term(catalogue, customer, booker):
    [basis] = book(booker, customer, catalogue["mc-basis"], [workstation(customer)],
                   date(2026, 3, 10))
    with at(date(2026, 5, 20)):
        premium = booking_change_tier(actor=booker, booking=basis, plan=catalogue["mc-premium"])
    basis.refresh_from_db()
    assert basis.state == BookingState.ENDED and basis.effective_end == date(2026, 5, 19)
    assert premium.change == BookingChange.UPGRADE and premium.replaces == basis
    assert premium.active_from == date(2026, 5, 20)
    assert premium.term_start == date(2026, 3, 11)  # the term continues
    assert premium.min_term_end == date(2027, 3, 10)
    assert premium.monthly_price == Decimal("12.60")
    assert events("booking.upgrade", premium).get().details["to"] == "Managed Client Premium"

    with at(date(2026, 7, 1)):
        standard = booking_change_tier(actor=booker, booking=premium,
                                       plan=catalogue["mc-standard"])
    premium.refresh_from_db()
    assert premium.state == BookingState.ENDED and premium.effective_end == date(2026, 6, 30)
    assert standard.change == BookingChange.DOWNGRADE and standard.replaces == premium
    assert standard.term_start == date(2026, 3, 11)
    assert standard.min_term_end == date(2027, 3, 10)
    assert events("booking.downgrade", standard).count() == 1
    assert Booking.objects.filter(device=basis.device, state=BookingState.ACTIVE).get() == \
        standard
    with at(date(2026, 7, 2)), pytest.raises(ValidationError, match="andere Stufe"):
        booking_change_tier(actor=booker, booking=standard, plan=catalogue["av"])


# --- Contract cancellation, extraordinary termination, end job ----------------------------------


def _cancelled_contract(catalogue, customer, booker):
    """Standard (12 months) and anti-virus (no minimum term), cancelled on 2026-06-01."""
    book(booker, customer, catalogue["mc-standard"], [workstation(customer)], date(2026, 3, 10))
    book(booker, customer, catalogue["av"], [workstation(customer)], date(2026, 3, 10))
    contract = Contract.objects.get(customer=customer)
    with at(date(2026, 6, 1)):
        return contract_cancel(actor=booker, contract=contract)


def test_contract_cancel_ends_every_booking_and_the_contract_with_the_last(catalogue, customer,
                                                                          booker):
    contract = _cancelled_contract(catalogue, customer, booker)
    ends = {b.plan_name: b.effective_end for b in Booking.objects.filter(customer=customer)}
    assert ends == {"Managed Client Standard": date(2027, 3, 31),
                    "Anti-Virus Management": date(2026, 6, 30)}
    assert set(Booking.objects.filter(customer=customer).values_list("state", flat=True)) == {
        BookingState.ENDING}
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDING
    assert contract.effective_end == date(2027, 3, 31)
    assert contract.purge_on == purge_schedule(contract_end=date(2027, 3, 31)).purge_on
    assert contract.purge_on == date(2027, 3, 31) + timedelta(days=57)
    assert contract.cancellation_received == date(2026, 6, 1)
    assert contract.cancelled_by == booker and not contract.extraordinary
    assert events("contract.cancelled", contract).count() == 1
    assert events("booking.removed").count() == 2
    with at(date(2026, 6, 2)), pytest.raises(ValidationError, match="bereits gekündigt"):
        contract_cancel(actor=booker, contract=contract)


@pytest.mark.parametrize("person", ["customer_admin", "customer_member", "partner_support",
                                    "dpo"])
def test_extraordinary_termination_is_for_provider_staff_only(world, catalogue, customer,
                                                              booker, person):
    book(booker, customer, catalogue["mc-standard"], [workstation(customer)], date(2026, 3, 10))
    contract = Contract.objects.get(customer=customer)
    before = snapshot()
    with at(date(2026, 6, 1)), pytest.raises(PermissionDenied):
        contract_terminate_extraordinary(actor=world["people"][person], contract=contract,
                                         end=date(2026, 6, 30), reason="Zahlungsverzug")
    assert snapshot() == before


def test_extraordinary_termination(world, catalogue, customer, booker):
    staff = world["people"]["provider_staff"]
    [booking] = book(booker, customer, catalogue["mc-standard"], [workstation(customer)],
                     date(2026, 3, 10))
    contract = Contract.objects.get(customer=customer)
    before = snapshot()
    with at(date(2026, 6, 1)):
        with pytest.raises(ValidationError) as exc:
            contract_terminate_extraordinary(actor=staff, contract=contract,
                                             end=date(2026, 6, 30), reason="  ")
        assert exc.value.message_dict == {"reason": ["Bitte geben Sie den Grund an."]}
        with pytest.raises(ValidationError) as exc:
            contract_terminate_extraordinary(actor=staff, contract=contract,
                                             end=date(2026, 5, 31), reason="Zahlungsverzug")
        assert "end" in exc.value.message_dict
        assert snapshot() == before
        contract_terminate_extraordinary(actor=staff, contract=contract,
                                         end=date(2026, 6, 30), reason=" Zahlungsverzug ")
    contract.refresh_from_db()
    booking.refresh_from_db()
    assert contract.status == ContractStatus.ENDING and contract.extraordinary
    assert contract.effective_end == date(2026, 6, 30)
    assert contract.purge_on == date(2026, 8, 26)
    assert contract.cancellation_reason == "Zahlungsverzug" and contract.cancelled_by == staff
    assert booking.state == BookingState.ENDING and booking.effective_end == date(2026, 6, 30)
    event = events("contract.terminated", contract).get()
    assert event.details == {"effective_end": "2026-06-30", "reason": "Zahlungsverzug"}


def test_the_contract_ends_with_its_last_removed_booking(catalogue, customer, booker):
    """Removing the last service is the cancellation (000 § 12.1): once that booking has ended
    and nothing was booked again, the contract ends on its end and the purge date follows."""
    first, second = book(booker, customer, catalogue["mc-standard"],
                         [workstation(customer), workstation(customer)], date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=first)
        booking_remove(actor=booker, booking=second)
    contract = Contract.objects.get(customer=customer)
    assert contract.status == ContractStatus.ACTIVE  # the removals can still be withdrawn
    with at(date(2027, 3, 31)):
        assert contracts_end_due() == {"bookings": 0, "contracts": 0}
    with at(date(2027, 4, 1)):
        assert contracts_end_due() == {"bookings": 2, "contracts": 1}
        assert contracts_end_due() == {"bookings": 0, "contracts": 0}
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED
    assert contract.effective_end == date(2027, 3, 31)
    assert contract.purge_on == date(2027, 5, 27)  # end + 57 days
    assert events("contract.ended", contract).count() == 1


def test_a_contract_whose_last_booking_ended_long_ago_keeps_eight_weeks_from_now(
        catalogue, customer, booker):
    [booking] = book(booker, customer, catalogue["mc-standard"], [workstation(customer)],
                     date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=booking)
    Booking.objects.filter(pk=booking.pk).update(state=BookingState.ENDED)  # before the rule
    with at(date(2027, 9, 1)):
        assert contracts_end_due() == {"bookings": 0, "contracts": 1}
    contract = Contract.objects.get(customer=customer)
    assert contract.effective_end == date(2027, 3, 31)
    assert contract.purge_on == date(2027, 10, 27)  # 2027-08-31 + 57 days, not 2027-05-27


def test_a_contract_with_a_running_booking_does_not_end(catalogue, customer, booker):
    first, second = book(booker, customer, catalogue["mc-standard"],
                         [workstation(customer), workstation(customer)], date(2026, 3, 10))
    with at(date(2026, 6, 1)):
        booking_remove(actor=booker, booking=first)
    with at(date(2027, 4, 1)):
        assert contracts_end_due() == {"bookings": 1, "contracts": 0}
    assert Contract.objects.get(customer=customer).status == ContractStatus.ACTIVE


def test_contracts_end_due_is_idempotent(catalogue, customer, booker):
    contract = _cancelled_contract(catalogue, customer, booker)
    with at(date(2027, 3, 31)):
        assert contracts_end_due() == {"bookings": 1, "contracts": 0}  # the anti-virus one
    with at(date(2027, 4, 1)):
        assert contracts_end_due() == {"bookings": 1, "contracts": 1}
        assert contracts_end_due() == {"bookings": 0, "contracts": 0}
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED
    for booking in Booking.objects.filter(customer=customer):
        assert booking.state == BookingState.ENDED
        assert events("booking.ended", booking).count() == 1
    assert events("contract.ended", contract).count() == 1


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_contracts_end_due_from_two_threads_ends_each_row_once(world, catalogue):
    assert connection.vendor == "postgresql"
    contracts = []
    for key in ("customer_a", "customer_b", "customer_direct"):
        org = world["orgs"][key]
        actor = {"customer_a": "customer_admin", "customer_b": "customer_admin_b",
                 "customer_direct": "customer_admin_direct"}[key]
        people = world["people"][actor]
        book(people, org, catalogue["av"], [workstation(org) for _i in range(5)],
             date(2026, 3, 10))
        with at(date(2026, 6, 1)):
            contracts.append(contract_cancel(actor=people,
                                             contract=Contract.objects.get(customer=org)))
    results = run_at_once(lambda: contracts_end_due(today=date(2026, 7, 1)),
                          lambda: contracts_end_due(today=date(2026, 7, 1)))
    assert sum(r["bookings"] for r in results) == 15
    assert sum(r["contracts"] for r in results) == 3
    for booking in Booking.objects.all():
        assert booking.state == BookingState.ENDED
        assert events("booking.ended", booking).count() == 1
    for contract in contracts:
        assert events("contract.ended", contract).count() == 1


# --- Access ends with the contract (003 § 24.1) -------------------------------------------------


def test_after_the_contract_ended_its_people_cannot_log_in(world, catalogue, customer, booker,
                                                           client):
    _cancelled_contract(catalogue, customer, booker)
    with at(date(2027, 4, 1)):
        contracts_end_due()
    member = world["people"]["customer_member"]
    for person in (booker, member):
        response = client.post(LOGIN_URL, {"login": person.email, "password": PASSWORD},
                               follow=True)
        assert SESSION_KEY not in client.session, person
        assert "Der Vertrag Ihres Unternehmens ist beendet" in response.content.decode()
        assert not events("auth.login").filter(actor=person).exists()
    # Other customers (and a cancelled, not yet ended contract) still log in.
    other = world["people"]["customer_admin_b"]
    response = client.post(LOGIN_URL, {"login": other.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get(SESSION_KEY) == str(other.pk)


def test_running_sessions_of_the_customer_end_with_the_contract(world, catalogue, customer,
                                                                booker, verified_client):
    _cancelled_contract(catalogue, customer, booker)
    client = verified_client(world["people"]["customer_member"])
    assert client.get("/").status_code == 200
    with at(date(2027, 4, 1)):
        contracts_end_due()
    response = client.get("/")
    assert response.status_code == 302 and "/konto/login/" in response["Location"]
    event = events("contract.ended").get()
    assert event.details["sessions_ended"] >= 1
