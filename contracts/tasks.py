"""django-q2 jobs of contracts and bookings."""

from __future__ import annotations

from contracts.price_changes import plan_price_changes_apply
from contracts.services import contracts_end_due


def end_due_contracts() -> dict[str, int]:
    """Move bookings and contracts past their end to "ended" (daily, idempotent)."""
    return contracts_end_due()


def apply_due_price_changes() -> dict[str, int]:
    """Announced price changes whose effective date has come take effect (daily, idempotent)."""
    return plan_price_changes_apply()
