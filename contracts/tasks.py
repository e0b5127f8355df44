"""django-q2 jobs of contracts and bookings."""

from __future__ import annotations

from contracts.services import contracts_end_due


def end_due_contracts() -> dict[str, int]:
    """Move bookings and contracts past their end to "ended" (daily, idempotent)."""
    return contracts_end_due()
