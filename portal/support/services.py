"""Writes of the support desk (DOMAIN §7): every state change with an actor and an audit event.

- :func:`ticket_create`: by the customer's people, by its partner's support or by provider
  staff. It goes to the partner's first level when the customer has a partner, else straight
  to the provider's second level. Its SLA target (plan of the affected device's running
  booking, else the default; by severity: critical, or the priority) fixes the calendar and
  the hours; the due times are stored.
- :func:`ticket_escalate` (first level → second, with a summary), :func:`ticket_hand_back`.
- :func:`ticket_reply`: a public reply or an internal note; the first public reply of the
  handling level is the reaction.
- :func:`ticket_wait`, and the customer's reply, pause and resume the clock: waiting for the
  customer does not count against the SLA; the due times move by the service time waited.
- :func:`ticket_set_priority`: a new severity recomputes both due times from the receipt.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Organisation, User
from portal.roles import CUSTOMER_ROLES, Role
from portal.services.audit import audit_event_record
from portal.support.models import (
    OPEN_STATES,
    Level,
    Priority,
    SlaTarget,
    Ticket,
    TicketMessage,
    TicketState,
)
from portal.support.sla import Severity, due_after, paused_between
from portal.tenancy import role_of

#: Roles that may open a ticket for a customer they see.
OPENING_ROLES = CUSTOMER_ROLES | {Role.PARTNER_SUPPORT, Role.PROVIDER_ADMIN,
                                  Role.PROVIDER_STAFF}
SECOND_LEVEL_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF})


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _severity(ticket: Ticket) -> str:
    return Severity.CRITICAL if ticket.critical else ticket.priority


def sla_target_for(ticket: Ticket) -> SlaTarget:
    """The target of the plan the affected device is booked under, else the default."""
    from contracts.models import Booking, BookingState

    severity = _severity(ticket)
    plan_ids = []
    if ticket.device_id:
        plan_ids = list(Booking.objects.filter(device_id=ticket.device_id,
                                               state__in=BookingState.RUNNING)
                        .values_list("plan_id", flat=True))
    target = (SlaTarget.objects.filter(severity=severity, plan_id__in=plan_ids)
              .order_by("reaction_hours").first() if plan_ids else None)
    target = target or SlaTarget.objects.filter(severity=severity, plan__isnull=True).first()
    if target is None:
        raise ValidationError(_("Für diese Einstufung ist kein SLA-Ziel hinterlegt."))
    return target


def _apply_target(ticket: Ticket, target: SlaTarget) -> None:
    ticket.calendar = target.calendar
    ticket.reaction_hours, ticket.resolution_hours = (target.reaction_hours,
                                                      target.resolution_hours)
    _recompute(ticket)


def _recompute(ticket: Ticket) -> None:
    """Both due times from the receipt, the target's hours and the service time paused."""
    paused = Decimal(ticket.paused_hours or 0)
    ticket.reaction_due = due_after(ticket.calendar, start=ticket.received_at,
                                    hours=ticket.reaction_hours, paused_hours=paused)
    ticket.resolution_due = due_after(ticket.calendar, start=ticket.received_at,
                                      hours=ticket.resolution_hours, paused_hours=paused)


def _require_opener(actor: User, customer: Organisation) -> None:
    if role_of(actor) not in OPENING_ROLES or not Organisation.objects.visible_to(
            actor).filter(pk=customer.pk).exists() or not customer.is_customer:
        raise PermissionDenied(_("Sie können für diesen Kunden kein Ticket eröffnen."))


def ticket_create(*, actor: User, customer: Organisation, location: str, description: str,
                  occurred_at: datetime, priority: str, reproducible: bool,
                  critical: bool = False, device=None, function: str = "",
                  ip: str | None = None, now: datetime | None = None) -> Ticket:
    """Open a ticket with the fields 002 § 6.9 / 004 § 11.4 require."""
    _require_opener(actor, customer)
    errors: dict[str, list[str]] = {}
    for field, value, message in (
            ("location", location, _("Bitte geben Sie den Standort an.")),
            ("description", description, _("Bitte beschreiben Sie das Problem so, dass es "
                                           "sich nachvollziehen lässt."))):
        if not (value or "").strip():
            errors[field] = [message]
    if priority not in Priority.values:
        errors["priority"] = [_("Bitte wählen Sie eine Priorität.")]
    if device is None and not (function or "").strip():
        errors["device"] = [_("Bitte wählen Sie das betroffene Gerät oder nennen Sie die "
                              "betroffene Funktion.")]
    if device is not None:
        from devices.models import Device

        if not Device.objects.visible_to(actor).filter(pk=device.pk,
                                                       customer=customer).exists():
            errors["device"] = [_("Dieses Gerät gehört nicht zu diesem Kunden.")]
    now = now or timezone.now()
    if occurred_at is None or occurred_at > now:
        errors["occurred_at"] = [_("Bitte geben Sie an, wann das Problem aufgetreten ist "
                                   "(nicht in der Zukunft).")]
    if errors:
        raise ValidationError(errors)
    ticket = Ticket(
        customer=customer, created_by=actor, requester_email=actor.email,
        location=location.strip(), description=description.strip(), occurred_at=occurred_at,
        device=device, function=(function or "").strip(), reproducible=bool(reproducible),
        priority=priority, critical=bool(critical),
        level=Level.FIRST if customer.partner_id else Level.SECOND, received_at=now)
    with transaction.atomic():
        _apply_target(ticket, sla_target_for(ticket))
        ticket.save()
        audit_event_record(actor=actor, action="ticket.created", target=ticket,
                           organisation=customer, ip=ip,
                           details={"priority": ticket.priority, "critical": ticket.critical,
                                    "level": ticket.level,
                                    "reaction_due": ticket.reaction_due.isoformat()})
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)


def may_handle(actor: User, ticket: Ticket) -> bool:
    """The level that holds the ticket: its partner's support on the first level, provider
    admins and staff on the second (and on the first, standing in for a partner)."""
    role = role_of(actor)
    if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
        return False
    if role in SECOND_LEVEL_ROLES:
        return True
    return role == Role.PARTNER_SUPPORT and ticket.level == Level.FIRST


def _require_handler(actor: User, ticket: Ticket) -> None:
    if not may_handle(actor, ticket):
        raise PermissionDenied(_("Sie bearbeiten dieses Ticket nicht."))


def _require_open(ticket: Ticket) -> None:
    if ticket.state not in OPEN_STATES:
        raise ValidationError(_("Das Ticket ist bereits %(state)s.")
                              % {"state": ticket.get_state_display()})


def ticket_escalate(*, actor: User, ticket: Ticket, summary: str) -> Ticket:
    """First level → the provider's second level, with a meaningful summary (002 § 22)."""
    summary = _require_text(summary, "summary", _("Bitte fassen Sie zusammen, was bisher "
                                                  "geprüft wurde und was fehlt."))
    with transaction.atomic():
        ticket = _locked(ticket)
        _require_handler(actor, ticket)
        _require_open(ticket)
        if ticket.level != Level.FIRST:
            raise ValidationError(_("Das Ticket liegt bereits beim 2nd Level."))
        ticket.level, ticket.escalation_summary = Level.SECOND, summary
        ticket.save(update_fields=["level", "escalation_summary", "updated_at"])
        TicketMessage.objects.create(ticket=ticket, customer=ticket.customer, author=actor,
                                     body=summary, internal=True)
        audit_event_record(actor=actor, action="ticket.escalated", target=ticket,
                           organisation=ticket.customer, details={"level": ticket.level})
    return ticket


def ticket_hand_back(*, actor: User, ticket: Ticket, note: str) -> Ticket:
    """The provider hands an escalated ticket back to the partner's first level."""
    note = _require_text(note, "note", _("Bitte schreiben Sie dem 1st Level, was zu tun ist."))
    with transaction.atomic():
        ticket = _locked(ticket)
        if role_of(actor) not in SECOND_LEVEL_ROLES:
            raise PermissionDenied(_("Nur der 2nd Level gibt Tickets zurück."))
        _require_open(ticket)
        if ticket.level != Level.SECOND or not ticket.customer.partner_id:
            raise ValidationError(_("Dieses Ticket hat keinen 1st Level, an den es zurückgehen "
                                    "kann."))
        ticket.level = Level.FIRST
        ticket.save(update_fields=["level", "updated_at"])
        TicketMessage.objects.create(ticket=ticket, customer=ticket.customer, author=actor,
                                     body=note, internal=True)
        audit_event_record(actor=actor, action="ticket.handed_back", target=ticket,
                           organisation=ticket.customer, details={"level": ticket.level})
    return ticket


def _resume(ticket: Ticket, now: datetime) -> None:
    if ticket.waiting_since is not None:
        ticket.paused_hours = Decimal(ticket.paused_hours) + paused_between(
            ticket.calendar, start=ticket.waiting_since, end=now)
        ticket.waiting_since = None
        _recompute(ticket)


def ticket_reply(*, actor: User, ticket: Ticket, body: str, internal: bool = False,
                 now: datetime | None = None) -> TicketMessage:
    """A public reply (the customer sees it) or an internal note (handlers only). A reply of
    the customer's people resumes a waiting ticket; the handler's first public reply is the
    reaction."""
    body = _require_text(body, "body", _("Bitte schreiben Sie eine Nachricht."))
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        customer_side = role_of(actor) in CUSTOMER_ROLES
        if customer_side:
            if internal:
                raise PermissionDenied(_("Interne Notizen schreibt nur der Support."))
            if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
                raise PermissionDenied(_("Sie bearbeiten dieses Ticket nicht."))
        else:
            _require_handler(actor, ticket)
        _require_open(ticket)
        fields = ["updated_at"]
        if customer_side and ticket.state == TicketState.WAITING:
            _resume(ticket, now)
            ticket.state = TicketState.IN_PROGRESS
            fields += ["paused_hours", "waiting_since", "reaction_due", "resolution_due",
                       "state"]
        elif not customer_side and not internal:
            if ticket.reacted_at is None:
                ticket.reacted_at = now
                fields.append("reacted_at")
            if ticket.state == TicketState.NEW:
                ticket.state = TicketState.IN_PROGRESS
                fields.append("state")
        ticket.save(update_fields=fields)
        message = TicketMessage.objects.create(ticket=ticket, customer=ticket.customer,
                                               author=actor, body=body, internal=internal)
        audit_event_record(actor=actor, action="ticket.replied", target=ticket,
                           organisation=ticket.customer, details={"internal": internal})
    return message


def ticket_wait(*, actor: User, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """Waiting for the customer: the SLA clock pauses until the customer replies."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        _require_handler(actor, ticket)
        _require_open(ticket)
        if ticket.state == TicketState.WAITING:
            return ticket
        ticket.state, ticket.waiting_since = TicketState.WAITING, now
        ticket.save(update_fields=["state", "waiting_since", "updated_at"])
        audit_event_record(actor=actor, action="ticket.waiting", target=ticket,
                           organisation=ticket.customer, details={})
    return ticket


def ticket_set_priority(*, actor: User, ticket: Ticket, priority: str,
                        critical: bool) -> Ticket:
    """A new classification: target and due times recomputed from the receipt."""
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Bitte wählen Sie eine Priorität.")})
    with transaction.atomic():
        ticket = _locked(ticket)
        _require_handler(actor, ticket)
        _require_open(ticket)
        before = (ticket.priority, ticket.critical)
        ticket.priority, ticket.critical = priority, bool(critical)
        _apply_target(ticket, sla_target_for(ticket))
        ticket.save(update_fields=["priority", "critical", "calendar", "reaction_hours",
                                   "resolution_hours", "reaction_due", "resolution_due",
                                   "updated_at"])
        audit_event_record(actor=actor, action="ticket.reclassified", target=ticket,
                           organisation=ticket.customer,
                           details={"before": list(before),
                                    "after": [ticket.priority, ticket.critical],
                                    "reaction_due": ticket.reaction_due.isoformat()})
    return ticket


def ticket_resolve(*, actor: User, ticket: Ticket, note: str,
                   now: datetime | None = None) -> Ticket:
    """Solved, with what was done (a public reply the customer sees)."""
    note = _require_text(note, "note", _("Bitte beschreiben Sie die Lösung."))
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        _require_handler(actor, ticket)
        _require_open(ticket)
        _resume(ticket, now)
        ticket.state, ticket.resolved_at = TicketState.RESOLVED, now
        ticket.reacted_at = ticket.reacted_at or now
        ticket.save()
        TicketMessage.objects.create(ticket=ticket, customer=ticket.customer, author=actor,
                                     body=note, internal=False)
        audit_event_record(actor=actor, action="ticket.resolved", target=ticket,
                           organisation=ticket.customer, details={})
    return ticket
