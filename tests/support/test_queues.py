"""The support queues and what each reader sees of a ticket (portal/support/selectors.py):
levels, due order, breaches, internal notes hidden from the customer, flat query counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.support.models import Level, Ticket
from portal.support.selectors import ticket_messages, ticket_queue, tickets_of_customer
from portal.support.services import ticket_create, ticket_escalate, ticket_reply
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 11, 23, 9, tzinfo=BERLIN)


def _ticket(world, customer, person, *, hour=0, critical=False):
    org = world["orgs"][customer]
    received = MONDAY + timedelta(hours=hour)
    return ticket_create(actor=world["people"][person], customer=org, location="Büro",
                         description="VPN trennt alle fünf Minuten", occurred_at=received,
                         priority="2", critical=critical, reproducible=True,
                         device=DeviceFactory(customer=org), now=received)


def test_each_level_sees_its_queue_most_urgent_first(world):
    late = _ticket(world, "customer_a", "customer_admin", hour=1)
    urgent = _ticket(world, "customer_a", "customer_admin", hour=2, critical=True)
    other_partner = _ticket(world, "customer_b", "customer_admin_b")
    direct = _ticket(world, "customer_direct", "customer_admin_direct")
    people = world["people"]
    assert list(ticket_queue(people["partner_support"])) == [urgent, late]
    assert list(ticket_queue(people["partner_support_b"])) == [other_partner]
    assert list(ticket_queue(people["provider_staff"])) == [direct]
    ticket_escalate(actor=people["partner_support"], ticket=late, summary="VPN-Logs geprüft")
    assert list(ticket_queue(people["provider_staff"])) == [direct, late]
    assert list(ticket_queue(people["partner_support"])) == [urgent]
    for reader in ("dpo", "customer_admin"):
        assert not ticket_queue(people[reader]).exists()


def test_a_breach_is_flagged(world):
    ticket = _ticket(world, "customer_direct", "customer_admin_direct", critical=True)
    staff = world["people"]["provider_staff"]
    [row] = ticket_queue(staff, now=ticket.reaction_due - timedelta(minutes=1))
    assert not row.reaction_breached
    [row] = ticket_queue(staff, now=ticket.reaction_due + timedelta(minutes=1))
    assert row.reaction_breached and not row.resolution_breached
    ticket_reply(actor=staff, ticket=ticket, body="Wir sind dran.",
                 now=ticket.reaction_due - timedelta(minutes=5))
    [row] = ticket_queue(staff, now=ticket.reaction_due + timedelta(hours=1))
    assert not row.reaction_breached  # answered in time


def test_the_customer_never_sees_internal_notes(world):
    ticket = _ticket(world, "customer_a", "customer_admin")
    people = world["people"]
    ticket_reply(actor=people["partner_support"], ticket=ticket, body="intern: Router prüfen",
                 internal=True)
    ticket_reply(actor=people["partner_support"], ticket=ticket, body="Bitte Router neu "
                 "starten.")
    for reader in ("customer_admin", "customer_member"):
        assert [m.body for m in ticket_messages(people[reader], ticket)] == [
            "Bitte Router neu starten."]
    assert len(ticket_messages(people["partner_support"], ticket)) == 2
    assert len(ticket_messages(people["provider_staff"], ticket)) == 2
    assert not ticket_messages(people["customer_admin_b"], ticket).exists()
    assert not ticket_messages(people["partner_support_b"], ticket).exists()
    assert list(tickets_of_customer(people["customer_admin_b"])) == []


def test_queue_queries_do_not_grow_with_tickets(world):
    staff = world["people"]["provider_staff"]
    org = world["orgs"]["customer_direct"]

    def add(n):
        base = _ticket(world, "customer_direct", "customer_admin_direct")
        Ticket.objects.bulk_create([Ticket(**{
            f.attname: getattr(base, f.attname) for f in Ticket._meta.concrete_fields
            if f.attname != "id"}) for _i in range(n - 1)])

    def count() -> int:
        staff.__dict__.pop("_portal_membership_cache", None)
        with CaptureQueriesContext(connection) as queries:
            rows = list(ticket_queue(staff))
            _ = [(t.customer.name, t.device.hostname if t.device else "", t.level) for t in rows]
        return len(queries)

    add(10)
    small = count()
    add(990)
    large = count()
    assert Ticket.objects.filter(customer=org, level=Level.SECOND).count() == 1000
    assert small == large
