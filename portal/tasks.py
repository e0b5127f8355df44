"""Scheduled jobs of the portal package; each calls one service and is idempotent."""

from __future__ import annotations

from portal.services.audit import access_log_purge


def purge_access_log() -> int:
    """Delete access-log entries past their retention (ACCESS_LOG_RETENTION_DAYS)."""
    return access_log_purge(actor=None)
