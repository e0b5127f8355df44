"""Reads of legal holds: what the purge must leave alone for one customer (``holds_for``, one
query, no user: the purge job asks), the customers held as a whole (``customers_held``, for
the core's deletion jobs and erasure), and the holds a person may see in the admin and on the
DPO's start page (through ``visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from gdpr.models.purge import LegalHold
from portal.privacy import entries


@dataclass(frozen=True)
class Holds:
    """The active holds of one customer: ``whole`` — all its data is held; ``records`` — per
    registry model label (``"devices.Device"``) the ids of the held rows, as strings."""

    whole: bool = False
    records: dict[str, set[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.whole or bool(self.records)

    def holds(self, model_label: str, pk) -> bool:
        """Whether the row ``pk`` of ``model_label`` is held (by its own or a whole hold)."""
        return self.whole or str(pk) in self.records.get(model_label, ())


def _holdable_labels() -> list[str]:
    return [entry.model for entry in entries if entry.holdable]


def _holds_whole() -> Q:
    """Holds that keep all of a customer's data: those that name no record, and those that
    name a record of an entry that cannot be held row by row (``holdable=False``, or no longer
    registered), which the add form refuses now but an older hold may name. Keeping the whole
    customer is the safe reading: such a hold was meant to keep something."""
    return ~Q(model_label__in=_holdable_labels())


def holds_for(customer) -> Holds:
    """The active holds of ``customer`` (an organisation or its id), in one query."""
    customer_id = getattr(customer, "pk", customer)
    holdable = set(_holdable_labels())
    whole = False
    records: dict[str, set[str]] = {}
    for model_label, object_id in (LegalHold.objects
                                   .filter(customer_id=customer_id, released_at__isnull=True)
                                   .values_list("model_label", "object_id")):
        if model_label not in holdable:  # no record, or one that cannot be held alone
            whole = True
        else:
            records.setdefault(model_label, set()).add(object_id)
    return Holds(whole=whole, records=records)


def customers_held() -> QuerySet:
    """The ids of the customers all of whose data an active hold keeps (one query, or a
    subquery): the core's deletion jobs skip their rows (portal.registries.deletion_holds,
    gdpr/plugins/holds.py), erasure refuses their people (gdpr/services/erasure.py)."""
    return (LegalHold.objects.filter(_holds_whole(), released_at__isnull=True)
            .order_by().values_list("customer_id", flat=True).distinct())


def holds_visible(user) -> QuerySet:
    return LegalHold.objects.visible_to(user)


def holds_active(user) -> QuerySet:
    """The active holds ``user`` sees, newest first, with their customer."""
    return (holds_visible(user).filter(released_at__isnull=True).select_related("customer")
            .order_by("-placed_at", "-pk"))
