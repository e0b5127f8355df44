"""When a contract's termination is registered, and the end it was registered for: a hook for
the layers above.

Contracts do not know what other apps do at the end of a contract (gdpr mails the customer's
admins about its data, 003 § 24); those apps register a listener here from their
``plugins`` module, and the contract services call :func:`termination_registered` inside their
transaction, so what a listener writes commits or rolls back with the termination. One hook
for the three ways a termination is registered:

* the customer cancels the framework contract (``contract_cancel``);
* the provider terminates it for good cause (``contract_terminate_extraordinary``);
* the last running booking is removed (``booking_remove``, or a special termination after a
  price-change objection ending the last ones): nothing remains booked, so the customer's
  services end with that booking (DOMAIN § 3, "anything not fully removed continues"). The
  framework contract stays "active" while the removal can be withdrawn; the end is the last
  booking's (:func:`registered_end_for`), and when that booking has ended the daily
  ``contracts_end_due`` ends the contract on that day, with its purge date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery

from portal.registries import Registry


class TerminationWay(StrEnum):
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    LAST_BOOKING_REMOVED = "last_booking_removed"


@dataclass(frozen=True)
class Termination:
    """What was registered: the contract (with its customer), the end and who acted."""

    contract: Any
    end: date
    way: TerminationWay
    actor: Any = None


@dataclass(frozen=True)
class TerminationListener:
    key: str
    #: ``on_registered(termination)``, inside the contract service's transaction.
    on_registered: Callable[[Termination], None]


termination_listeners: Registry[TerminationListener] = Registry(
    "termination_listeners", key=lambda entry: entry.key, order=lambda entry: entry.key)


def termination_registered(termination: Termination) -> None:
    """Tell every registered listener (the contract services call this)."""
    for listener in termination_listeners:
        listener.on_registered(termination)


def _annotated(contracts):
    """Contracts with whether a booking is still active and the end of the last cancelled
    one: what the end after the last removed booking is computed from, in the same query."""
    from contracts.models import Booking, BookingState

    bookings = Booking.objects.filter(contract=OuterRef("pk"))
    last = (bookings.filter(state=BookingState.ENDING).order_by("-effective_end")
            .values("effective_end")[:1])
    return contracts.annotate(has_active=Exists(bookings.filter(state=BookingState.ACTIVE)),
                              last_booking_end=Subquery(last))


def _end(contract) -> date | None:
    from contracts.models import ContractStatus

    if contract.status == ContractStatus.ENDED:
        return None
    if contract.status == ContractStatus.ENDING:
        return contract.effective_end
    return None if contract.has_active else contract.last_booking_end


def last_booking_end(contract) -> date | None:
    """The end of the last running booking when every one of them is cancelled (none is
    active any more), else ``None``."""
    from contracts.models import Contract

    annotated = _annotated(Contract.objects.filter(pk=contract.pk)).get()
    return None if annotated.has_active else annotated.last_booking_end


def registered_end_for(customer) -> date | None:
    """The end the customer's termination was registered for, while it has not passed: the
    contract's own end once it is cancelled or terminated, else the last booking's when all
    running bookings were removed; ``None`` when nothing ends. One query."""
    from contracts.models import Contract

    contract = _annotated(Contract.objects.filter(customer=customer)).first()
    return _end(contract) if contract is not None else None


def registered_ends(*, first: date, last: date) -> list[tuple[Any, date]]:
    """Every contract whose registered end lies between ``first`` and ``last`` (inclusive),
    with that end, in one query (the daily reminder job)."""
    from contracts.models import Contract, ContractStatus

    contracts = _annotated(Contract.objects.filter(
        Q(status=ContractStatus.ENDING, effective_end__range=(first, last))
        | Q(status=ContractStatus.ACTIVE))).filter(
        Q(status=ContractStatus.ENDING) | Q(has_active=False,
                                            last_booking_end__range=(first, last)))
    return [(contract, _end(contract))
            for contract in contracts.select_related("customer").order_by("pk")]
