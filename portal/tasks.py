"""Scheduled jobs of the portal package; each calls one service and is idempotent."""

from __future__ import annotations

from portal.services.audit import access_log_purge, audit_trail_purge


def purge_access_log() -> int:
    """Delete access-log entries past their retention (ACCESS_LOG_RETENTION_DAYS)."""
    return access_log_purge(actor=None)


def purge_audit_trail() -> int:
    """Delete audit events past their retention (PORTAL_AUDIT_RETENTION_YEARS)."""
    return audit_trail_purge(actor=None)
