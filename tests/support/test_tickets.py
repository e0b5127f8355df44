"""Tickets through the support services (portal/support/services.py): the hand-computed SLA
cases of issue 12 (service hours Mon–Fri 09:00–18:00 Europe/Berlin, nationwide holidays
excluded; critical 4 h, otherwise 24 h), levels, required fields, escalation, pausing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEvent
from portal.support.models import Level, SlaTarget, TicketMessage, TicketState
from portal.support.services import (
    ticket_create,
    ticket_escalate,
    ticket_hand_back,
    ticket_reply,
    ticket_resolve,
    ticket_set_priority,
    ticket_wait,
)
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def _open(world, received: datetime, *, critical: bool, customer="customer_direct",
          person="customer_admin_direct", priority="2", **fields):
    org = world["orgs"][customer]
    fields.setdefault("device", DeviceFactory(customer=org))
    return ticket_create(actor=world["people"][person], customer=org,
                         location="Filiale Innenstadt, Büro", description="Drucker druckt "
                         "nicht, Fehler 0x80070005 beim Senden", occurred_at=received,
                         priority=priority, critical=critical, reproducible=True,
                         now=received, **fields)


@pytest.mark.parametrize(("received", "critical", "due"), [
    (at(2026, 11, 20, 17), True, at(2026, 11, 23, 12)),   # Fri 17:00, 1 h + 3 h on Monday
    (at(2027, 4, 1, 16), True, at(2027, 4, 2, 11)),       # Thu 16:00 → Fri 11:00
    (at(2027, 4, 1, 11), False, at(2027, 4, 5, 17)),      # Thu 11:00 + 24 h → Mon 17:00
    (at(2027, 10, 2, 10), True, at(2027, 10, 4, 13)),     # Sat; 3 Oct 2027 is a Sunday
])
def test_the_hand_computed_reaction_due_times(world, received, critical, due):
    ticket = _open(world, received, critical=critical)
    assert ticket.reaction_due == due
    assert ticket.reaction_hours == (Decimal(4) if critical else Decimal(24))
    assert ticket.calendar == "service" and ticket.resolution_due is None
    ticket.refresh_from_db()
    assert ticket.reaction_due == due


def test_a_customer_with_a_partner_starts_at_the_first_level(world):
    ticket = _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
                   person="customer_member")
    assert ticket.level == Level.FIRST and ticket.state == TicketState.NEW
    direct = _open(world, at(2026, 11, 20, 10), critical=False)
    assert direct.level == Level.SECOND
    event = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert event.details["level"] == "first"


def test_missing_fields_are_named_and_nothing_is_stored(world):
    org = world["orgs"]["customer_a"]
    with pytest.raises(ValidationError) as exc:
        ticket_create(actor=world["people"]["customer_admin"], customer=org, location=" ",
                      description="", occurred_at=at(2026, 11, 20, 10), priority="9",
                      reproducible=False, now=at(2026, 11, 20, 11))
    assert set(exc.value.message_dict) == {"location", "description", "priority", "device"}
    assert not org.tickets.exists()


def test_a_device_of_another_customer_is_refused(world):
    other = DeviceFactory(customer=world["orgs"]["customer_b"])
    with pytest.raises(ValidationError) as exc:
        _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
              person="customer_admin", device=other)
    assert exc.value.message_dict["device"] == ["Dieses Gerät gehört nicht zu diesem Kunden."]


def test_who_may_open_a_ticket(world):
    for person in ("dpo", "partner_support_b", "customer_admin_b"):
        with pytest.raises(PermissionDenied):
            _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
                  person=person, device=None, function="E-Mail")
    for person in ("partner_support", "provider_staff", "customer_member"):
        _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
              person=person, device=None, function="E-Mail")


def test_partner_support_escalates_with_a_summary_and_the_provider_hands_back(world):
    ticket = _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
                   person="customer_admin")
    support, staff = world["people"]["partner_support"], world["people"]["provider_staff"]
    with pytest.raises(ValidationError):
        ticket_escalate(actor=support, ticket=ticket, summary="  ")
    with pytest.raises(PermissionDenied):
        ticket_escalate(actor=world["people"]["partner_support_b"], ticket=ticket,
                        summary="geprüft")
    ticket = ticket_escalate(actor=support, ticket=ticket,
                             summary="Treiber neu installiert, Fehler bleibt; Logs anbei.")
    assert ticket.level == Level.SECOND
    with pytest.raises(PermissionDenied):  # the first level no longer holds it
        ticket_reply(actor=support, ticket=ticket, body="Hallo")
    ticket = ticket_hand_back(actor=staff, ticket=ticket, note="Bitte Druckerfirmware prüfen")
    assert ticket.level == Level.FIRST
    notes = TicketMessage.objects.filter(ticket=ticket, internal=True).count()
    assert notes == 2


def test_internal_notes_only_from_support_and_the_first_public_reply_is_the_reaction(world):
    ticket = _open(world, at(2026, 11, 20, 10), critical=False)
    admin, staff = world["people"]["customer_admin_direct"], world["people"]["provider_staff"]
    with pytest.raises(PermissionDenied):
        ticket_reply(actor=admin, ticket=ticket, body="geheim", internal=True)
    ticket_reply(actor=staff, ticket=ticket, body="intern: Lieferant fragen", internal=True,
                 now=at(2026, 11, 20, 11))
    ticket.refresh_from_db()
    assert ticket.reacted_at is None and ticket.state == TicketState.NEW
    ticket_reply(actor=staff, ticket=ticket, body="Wir kümmern uns.", now=at(2026, 11, 20, 12))
    ticket.refresh_from_db()
    assert ticket.reacted_at == at(2026, 11, 20, 12)
    assert ticket.state == TicketState.IN_PROGRESS


def test_waiting_for_the_customer_pauses_the_clock(world):
    ticket = _open(world, at(2026, 11, 23, 9), critical=False)  # Mon 09:00 → due Wed 15:00
    assert ticket.reaction_due == at(2026, 11, 25, 15)
    staff, admin = world["people"]["provider_staff"], world["people"]["customer_admin_direct"]
    ticket_wait(actor=staff, ticket=ticket, now=at(2026, 11, 23, 10))
    ticket_reply(actor=admin, ticket=ticket, body="Hier die Logs", now=at(2026, 11, 24, 10))
    ticket.refresh_from_db()
    assert ticket.paused_hours == Decimal(9)  # Mon 10–18 and Tue 09–10
    assert ticket.reaction_due == at(2026, 11, 26, 15)  # nine service hours later
    assert ticket.state == TicketState.IN_PROGRESS


def test_a_new_priority_recomputes_from_the_receipt(world):
    ticket = _open(world, at(2026, 11, 20, 17), critical=False)
    staff = world["people"]["provider_staff"]
    ticket = ticket_set_priority(actor=staff, ticket=ticket, priority="1", critical=True)
    assert ticket.reaction_due == at(2026, 11, 23, 12)
    SlaTarget.objects.filter(severity="critical", plan__isnull=True).update(calendar="reception")
    ticket = ticket_set_priority(actor=staff, ticket=ticket, priority="1", critical=True)
    assert ticket.reaction_due == at(2026, 11, 23, 9)  # Fri 17–19 and Mon 07–09 (07:00–19:00)


def test_a_resolved_ticket_takes_no_more_replies(world):
    ticket = _open(world, at(2026, 11, 20, 10), critical=False)
    staff = world["people"]["provider_staff"]
    ticket = ticket_resolve(actor=staff, ticket=ticket, note="Treiber aktualisiert")
    assert ticket.state == TicketState.RESOLVED and ticket.resolved_at is not None
    with pytest.raises(ValidationError):
        ticket_reply(actor=staff, ticket=ticket, body="noch etwas")


def test_the_purge_and_the_erasure_reach_tickets_and_messages(world):
    from portal.privacy import erase_for_person, purge_for_customer

    ticket = _open(world, at(2026, 11, 20, 10), critical=False, customer="customer_a",
                   person="customer_admin")
    admin = world["people"]["customer_admin"]
    email = admin.email
    ticket_reply(actor=admin, ticket=ticket, body=f"Rückruf bitte an {email}")
    erase_for_person(admin, actor=world["people"]["dpo"])
    ticket.refresh_from_db()
    message = TicketMessage.objects.get(ticket=ticket)
    assert ticket.created_by_id is None and email not in ticket.requester_email
    assert message.author_id is None and "[entfernt]" in message.body
    purge_for_customer(world["orgs"]["customer_a"], actor=None)
    assert not TicketMessage.objects.exists() and not world["orgs"]["customer_a"].tickets.exists()
