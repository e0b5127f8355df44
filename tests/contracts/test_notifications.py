"""E-mails about bookings and contracts: who is told, what it says, and contract_cancel in one
pass (one summary e-mail, one audit event per booking, queries that do not grow)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Booking, BookingState, Contract
from contracts.services import (
    booking_change_tier,
    booking_remove,
    booking_withdraw_removal,
    contract_cancel,
    contract_terminate_extraordinary,
)
from portal.models import AuditEvent, Notification
from portal.roles import Role
from tests.contracts.test_services import at, book, workstation
from tests.factories import make_person
from tests.outbox import deliver_queued


@pytest.fixture(autouse=True)
def _contracts_own_mails_only():
    """These tests count the e-mails and queries of contracts itself; the listeners of a
    registered termination (gdpr's end-of-contract e-mail, tests/gdpr/test_contract_end.py)
    are left out."""
    from contracts.terminations import termination_listeners

    listeners = list(termination_listeners)
    for listener in listeners:
        termination_listeners.unregister(listener.key)
    yield
    for listener in listeners:
        termination_listeners.register(listener)


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def second_admin(customer):
    return make_person(Role.CUSTOMER_ADMIN, customer, first_name="Karl",
                       last_name="Weber & Söhne")


def _sent() -> dict[str, list[str]]:
    """Recipient -> subjects of what the job sent."""
    deliver_queued()
    sent: dict[str, list[str]] = {}
    for message in mail.outbox:
        for address in message.to:
            sent.setdefault(address, []).append(message.subject)
    return sent


def _change(kind: str, actor, customer, catalogue):
    """Make one change of ``kind`` as ``actor``; the setup is mailed and forgotten first."""
    admin = customer.memberships.filter(role=Role.CUSTOMER_ADMIN).first().user
    if kind == "booking.created":
        with at(date(2026, 3, 10)):
            return book(actor, customer, catalogue["mc-basis"], [workstation(customer)],
                        date(2026, 3, 10))
    [booking] = book(admin, customer, catalogue["mc-basis"], [workstation(customer)],
                     date(2026, 3, 10))
    if kind == "booking.removal_withdrawn":
        with at(date(2026, 4, 1)):
            booking_remove(actor=admin, booking=booking)
    deliver_queued()
    mail.outbox.clear()
    with at(date(2026, 4, 2)):
        if kind == "booking.removed":
            return booking_remove(actor=actor, booking=booking)
        if kind == "booking.removal_withdrawn":
            return booking_withdraw_removal(actor=actor, booking=booking)
        if kind == "booking.tier_changed":
            return booking_change_tier(actor=actor, booking=booking,
                                       plan=catalogue["mc-standard"])
        return contract_cancel(actor=actor, contract=booking.contract)


CHANGES = ("booking.created", "booking.removed", "booking.removal_withdrawn",
           "booking.tier_changed", "contract.cancelled")


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("actor_role", ["partner_support", "provider_staff"])
def test_a_change_on_behalf_is_mailed_to_the_actor_and_the_admins(world, catalogue, customer,
                                                                   second_admin, kind,
                                                                   actor_role):
    actor = world["people"][actor_role]
    _change(kind, actor, customer, catalogue)
    sent = _sent()
    admin = world["people"]["customer_admin"]
    assert set(sent) == {actor.email, admin.email, second_admin.email}
    assert all(len(subjects) == 1 for subjects in sent.values())
    assert {row.event for row in Notification.objects.filter(email=actor.email)} == {kind}
    body = next(m.body for m in mail.outbox if second_admin.email in m.to)
    assert f"Vorgenommen hat dies {actor.get_full_name()}" in body
    assert "im Auftrag von Kunde A" in body
    assert "Guten Tag Karl Weber & Söhne," in body  # plain text, not escaped


@pytest.mark.parametrize("kind", CHANGES)
def test_a_change_of_the_customer_itself_is_confirmed_to_the_actor_only(world, catalogue,
                                                                        customer, second_admin,
                                                                        kind):
    admin = world["people"]["customer_admin"]
    _change(kind, admin, customer, catalogue)
    assert set(_sent()) == {admin.email}
    assert "Vorgenommen hat dies" not in mail.outbox[0].body


def test_withdrawal_of_a_removal_is_confirmed(world, catalogue, customer):
    admin = world["people"]["customer_admin"]
    _change("booking.removal_withdrawn", admin, customer, catalogue)
    deliver_queued()
    message, = mail.outbox
    assert "Ihre Kündigung ist zurückgenommen" in message.subject
    assert "läuft unverändert weiter" in message.body
    assert "Das bisherige Vertragsende (31.03.2027) entfällt." in message.body


def test_extraordinary_termination_tells_the_admins_the_reason_and_the_end(world, catalogue,
                                                                           customer,
                                                                           second_admin):
    admin = world["people"]["customer_admin"]
    book(admin, customer, catalogue["mc-standard"], [workstation(customer, hostname="pc-1")],
         date(2026, 3, 10))
    deliver_queued()
    mail.outbox.clear()
    staff = world["people"]["provider_staff"]
    with at(date(2026, 6, 1)):
        contract_terminate_extraordinary(
            actor=staff, contract=Contract.objects.get(customer=customer),
            end=date(2026, 6, 30), reason="Zahlungsverzug & Vertragsverletzung")
    assert mail.outbox == []
    sent = _sent()
    assert set(sent) == {admin.email, second_admin.email}
    message = mail.outbox[0]
    assert "Außerordentliche Kündigung Ihres Rahmenvertrags" in message.subject
    assert "außerordentlich zum 30.06.2026" in message.body
    assert "Grund: Zahlungsverzug & Vertragsverletzung" in message.body
    assert "pc-1" in message.body and "endet am 30.06.2026" in message.body
    (html, _mimetype), = message.alternatives
    assert "Zahlungsverzug &amp; Vertragsverletzung" in html


# --- contract_cancel in one pass ----------------------------------------------------------

def _contract_with(customer, admin, catalogue, count: int) -> Contract:
    devices = [workstation(customer, hostname=f"pc-{n:02d}") for n in range(count)]
    book(admin, customer, catalogue["mc-standard"], devices, date(2026, 3, 10))
    deliver_queued()
    mail.outbox.clear()
    return Contract.objects.get(customer=customer)


def _cancel_queries(customer, admin, catalogue, count: int) -> int:
    contract = _contract_with(customer, admin, catalogue, count)
    with at(date(2026, 6, 1)), CaptureQueriesContext(connection) as queries:
        contract_cancel(actor=admin, contract=contract)
    return len(queries)


def test_contract_cancel_sends_one_summary_with_every_booking(world, catalogue, customer):
    admin = world["people"]["customer_admin"]
    contract = _contract_with(customer, admin, catalogue, 5)
    with at(date(2026, 6, 1)):
        contract_cancel(actor=admin, contract=contract)
    deliver_queued()
    message, = mail.outbox
    assert "Ihre Kündigung des Rahmenvertrags ist eingegangen" in message.subject
    assert "Der Rahmenvertrag endet am 31.03.2027" in message.body
    assert "Diese 5 Leistungen enden:" in message.body
    for n in range(5):
        assert f"pc-{n:02d} " in message.body
    assert message.body.count("): endet am 31.03.2027") == 5
    bookings = Booking.objects.filter(customer=customer)
    assert {b.state for b in bookings} == {BookingState.ENDING}
    removed = AuditEvent.objects.filter(action="booking.removed")
    assert sorted(removed.values_list("target_id", flat=True)) == sorted(
        str(b.pk) for b in bookings)
    assert all(event.details["effective_end"] == "2027-03-31" and event.actor == admin
               and event.organisation == customer for event in removed)


def test_contract_cancel_does_not_grow_with_the_bookings(world, catalogue, customer):
    admin = world["people"]["customer_admin"]
    one = _cancel_queries(customer, admin, catalogue, 1)
    other = world["orgs"]["customer_direct"]
    twenty = _cancel_queries(other, world["people"]["customer_admin_direct"], catalogue, 20)
    print(f"contract_cancel queries: 1 booking {one}, 20 bookings {twenty}")
    assert one == twenty
    assert twenty <= 16
