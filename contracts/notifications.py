"""Who is told about bookings and contracts, and what the e-mail shows (registered in
``contracts.plugins``; sent by the core outbox job, see ``portal.notifications``).

Changes a person makes for their own company confirm to them; made on behalf of the customer
(partner support, provider staff) they go to the customer's admins as well. A provider's
extraordinary termination goes to the customer's admins. The booking e-mail carries the
booking confirmation PDF (contracts/documents.py), made in the job once for all recipients.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from contracts.documents import booking_confirmation_attachments
from portal.notifications.registry import (
    NotificationRule,
    actor_and_admins_if_on_behalf,
    customer_admins,
)


def _bookings(notification) -> list:
    from contracts.models import Booking

    return list(Booking.objects.filter(pk__in=notification.context.get("booking_ids", []))
                .select_related("device").order_by("device__hostname", "pk"))


def _contract(notification):
    from contracts.models import Contract

    return Contract.objects.get(pk=notification.context["contract_id"])


def _acted_by(notification) -> dict:
    """Names who acted when it was not the customer itself (shown in the e-mail)."""
    if not notification.context.get("on_behalf") or notification.actor is None:
        return {}
    from portal.tenancy import membership_of

    membership = membership_of(notification.actor)
    return {"acted_by": notification.actor.get_full_name() or notification.actor.email,
            "acted_by_organisation": membership.organisation.name if membership else "",
            "customer_name": notification.customer.name if notification.customer else ""}


def bookings_context(notification) -> dict:
    stored = notification.context
    previous_end = stored.get("previous_end")
    return {"bookings": _bookings(notification), **_acted_by(notification),
            "previous_plan": stored.get("previous_plan", ""),
            "previous_end": date.fromisoformat(previous_end) if previous_end else None}


def contract_context(notification) -> dict:
    return {"contract": _contract(notification), **bookings_context(notification)}


def termination_offer_context(notification) -> dict:
    from contracts.selectors import special_termination_offer_context

    return special_termination_offer_context(notification.context["offer_id"])


RULES = (
    NotificationRule(event="booking.created", template="booking_confirmed",
                     recipients=actor_and_admins_if_on_behalf, context=bookings_context,
                     attachments=booking_confirmation_attachments),
    NotificationRule(event="booking.removed", template="booking_removed",
                     recipients=actor_and_admins_if_on_behalf, context=bookings_context),
    NotificationRule(event="booking.removal_withdrawn", template="booking_removal_withdrawn",
                     recipients=actor_and_admins_if_on_behalf, context=bookings_context),
    NotificationRule(event="booking.tier_changed", template="booking_tier_changed",
                     label=_("Stufe einer Leistung gewechselt"),
                     recipients=actor_and_admins_if_on_behalf, context=bookings_context),
    NotificationRule(event="contract.cancelled", template="contract_cancelled",
                     recipients=actor_and_admins_if_on_behalf, context=contract_context),
    NotificationRule(event="contract.terminated", template="contract_terminated",
                     recipients=customer_admins, context=contract_context),
    NotificationRule(event="price_change.termination_offered",
                     template="price_change_termination_offered",
                     label=_("Sonderkündigungsrecht nach Widerspruch gegen eine Preisänderung"),
                     recipients=customer_admins, context=termination_offer_context),
    NotificationRule(event="price_change.special_termination",
                     template="price_change_terminated",
                     label=_("Sonderkündigung nach Widerspruch gegen eine Preisänderung"),
                     recipients=customer_admins, context=bookings_context),
)
