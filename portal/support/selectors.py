"""Reads of the support desk: the queues of the two levels and a ticket's messages as each
reader may see them. The one home of "the customer never sees internal notes"."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from portal.roles import PROVIDER_ROLES, STAFF_ROLES, Role
from portal.support.models import OPEN_STATES, Level, Ticket, TicketMessage
from portal.tenancy import role_of


def _with_breach(tickets: QuerySet, now) -> QuerySet:
    """``reaction_breached``: no reaction and its due time has passed (or the reaction came
    late); ``resolution_breached`` likewise."""
    return tickets.annotate(
        reaction_breached=ExpressionWrapper(
            Q(reacted_at__isnull=True, reaction_due__lt=now)
            | Q(reacted_at__gt=F("reaction_due")), output_field=BooleanField()),
        resolution_breached=ExpressionWrapper(
            Q(resolution_due__isnull=False)
            & (Q(resolved_at__isnull=True, resolution_due__lt=now)
               | Q(resolved_at__gt=F("resolution_due"))),
            output_field=BooleanField()))


def ticket_queue(user, *, now=None) -> QuerySet[Ticket]:
    """The open tickets the user's level handles, the most urgent due time first: partner
    support its customers' first-level tickets, the provider's admins and staff the second
    level (the DPO reads, it does not work a queue)."""
    now = now or timezone.now()
    role = role_of(user)
    tickets = Ticket.objects.visible_to(user).filter(state__in=OPEN_STATES)
    if role == Role.PARTNER_SUPPORT:
        tickets = tickets.filter(level=Level.FIRST)
    elif role in PROVIDER_ROLES - {Role.DPO}:
        tickets = tickets.filter(level=Level.SECOND)
    else:
        return Ticket.objects.none()
    return (_with_breach(tickets, now).select_related("customer", "device")
            .order_by("reaction_due", "pk"))


def tickets_of_customer(user, *, now=None) -> QuerySet[Ticket]:
    """Every ticket the user sees, newest first (the customer's list)."""
    return (_with_breach(Ticket.objects.visible_to(user), now or timezone.now())
            .select_related("device").order_by("-received_at", "-pk"))


def ticket_messages(user, ticket: Ticket) -> QuerySet[TicketMessage]:
    """The messages of ``ticket`` the user may read: the customer's people never see
    internal notes."""
    messages = TicketMessage.objects.visible_to(user).filter(ticket=ticket)
    if role_of(user) not in STAFF_ROLES:  # the customer's people, and anyone unknown
        messages = messages.filter(internal=False)
    return messages.select_related("author").order_by("created_at", "pk")
