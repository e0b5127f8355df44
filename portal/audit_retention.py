"""How long the audit trail is kept (issue 11 item 7, ADR 0016).

An event is evidence of who did what (Art. 5 Abs. 2 DSGVO). Claims that the evidence may be
needed for become time-barred after the regular limitation period of three years, counted
from the end of the calendar year in which they arose (§§ 195, 199 BGB); the events of a year
therefore go together, on the first day after the last year of their retention.
``PORTAL_AUDIT_RETENTION_YEARS`` (default 3) sets the number of years; the privacy registry
(portal/privacy_entries.py) and the daily job (``portal.purge_audit_trail``) both read it here.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from portal.privacy import Retention, years


def audit_retention() -> Retention:
    """The retention of the audit trail, with the setting in force."""
    return Retention(
        basis="Art. 5 Abs. 2, Art. 32 DSGVO (Rechenschaft); §§ 195, 199 BGB (Verjährung)",
        period=years(settings.PORTAL_AUDIT_RETENTION_YEARS),
        starts="Ende des Kalenderjahres des Ereignisses", at_year_end=True)


def audit_expired_before(today: date | None = None) -> datetime:
    """Events created before this instant are past their retention on ``today``: 1 January,
    00:00 local time (Europe/Berlin), of the year ``PORTAL_AUDIT_RETENTION_YEARS`` before.
    An event of 2023 is kept through 31 December 2026 and gone from 1 January 2027
    (``Retention.ends_after``, which the tests compare with this)."""
    today = today or timezone.localdate()
    first_kept_year = today.year - settings.PORTAL_AUDIT_RETENTION_YEARS
    return timezone.make_aware(datetime(first_kept_year, 1, 1),
                               timezone.get_default_timezone())
