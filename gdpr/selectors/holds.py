"""Reads of legal holds: what the purge must leave alone for one customer (``holds_for``, one
query, no user: the purge job asks), and the holds a person may see in the admin and on the
DPO's start page (through ``visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from gdpr.models.purge import LegalHold


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


def holds_for(customer) -> Holds:
    """The active holds of ``customer`` (an organisation or its id), in one query."""
    customer_id = getattr(customer, "pk", customer)
    whole = False
    records: dict[str, set[str]] = {}
    for model_label, object_id in (LegalHold.objects
                                   .filter(customer_id=customer_id, released_at__isnull=True)
                                   .values_list("model_label", "object_id")):
        if not model_label:
            whole = True
        else:
            records.setdefault(model_label, set()).add(object_id)
    return Holds(whole=whole, records=records)


def holds_visible(user) -> QuerySet:
    return LegalHold.objects.visible_to(user)


def holds_active(user) -> QuerySet:
    """The active holds ``user`` sees, newest first, with their customer."""
    return (holds_visible(user).filter(released_at__isnull=True).select_related("customer")
            .order_by("-placed_at", "-pk"))
