"""Notification rules: which e-mail an event sends, to whom, and what it says.

Apps register one :class:`NotificationRule` per event in their ``plugins`` module; the core
never names an app. A rule's ``recipients`` runs inside the service's transaction (who is told
is decided when it happens), its ``context`` and ``attachments`` run in the job that sends the
e-mail, from the ids the service stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from portal.registries import Registry


@dataclass(frozen=True)
class Event:
    """What happened, as the service saw it: the person who acted, the customer it concerns,
    the person concerned (e.g. whose second factor was reset) and JSON-safe references."""

    event: str
    actor: Any = None
    customer: Any = None
    person: Any = None
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationRule:
    event: str
    template: str  # templates/email/<template>_subject.txt, _body.txt, _body.html
    recipients: Callable[[Event], Iterable[Any]]  # people (users) to tell
    context: Callable[[Any], dict]  # notification row -> template context, in the job
    attachments: Callable[[Any], list[int]] | None = None  # row -> Document ids, in the job
    label: Any = None  # what the outbox shows; default: the audit label of the same code
    on_sent: Callable[[Any], None] | None = None  # row -> None, in the transaction marking it sent


def event_label(code: str) -> str:
    """What the outbox calls an event: the rule's label, else the audit action's label."""
    from portal.audit_actions import audit_action_label

    rule = rules.get(code) if code in rules else None
    return str(rule.label) if rule is not None and rule.label else audit_action_label(code)


rules: Registry[NotificationRule] = Registry(
    "notification_rules", key=lambda r: r.event, order=lambda r: r.event)


# --- Recipients every app needs -----------------------------------------------------------

def the_actor(event: Event) -> list:
    return [event.actor] if event.actor is not None else []


def the_person(event: Event) -> list:
    return [event.person] if event.person is not None else []


def customer_admins(event: Event) -> list:
    """The active administrators of the customer the event concerns."""
    from portal.models import User
    from portal.roles import Role

    if event.customer is None:
        return []
    return list(User.objects.filter(
        is_active=True, memberships__organisation=event.customer,
        memberships__role=Role.CUSTOMER_ADMIN).order_by("pk"))


def acted_on_behalf(event: Event) -> bool:
    """The actor is not one of the customer's own people (partner support, provider staff)."""
    from portal.tenancy import membership_of

    if event.customer is None or event.actor is None:
        return False
    membership = membership_of(event.actor)
    return membership is None or membership.organisation_id != event.customer.pk


def actor_and_admins_if_on_behalf(event: Event) -> list:
    """The actor is always told; when someone acted for the customer, its admins are too."""
    people = the_actor(event)
    if acted_on_behalf(event):
        people += customer_admins(event)
    return people
