"""The daily job of change notices (scheduled in ``portal.plugins``)."""

from __future__ import annotations

from django.utils import timezone


def deem_accepted_change_notices() -> int:
    """Open notices whose objection deadline has passed are deemed accepted."""
    from portal.change_notices.services import change_notices_deem_accepted

    return change_notices_deem_accepted(today=timezone.localdate())
