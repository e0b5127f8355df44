"""What a purge or an erasure touched, as the deletion certificate records it (issue 11 item
6): per data store the rows before and after and what happened to them, what was retained
under which legal duty until when, the rule version — counts and references only.

One home for both callers (gdpr/services/purge.py, gdpr/services/erasure.py): they count the
rows before, run the registry inside :func:`portal.privacy.deletion_ledger`, and hand the
outcomes here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.models import DeletionCertificate
from portal.privacy import DeletionLedger, Outcome, PrivacyEntry, entries, strategy_label
from portal.tenancy import role_of

#: The date of the deletion rules (DOMAIN §5: kept through end + 56 days, retention periods of
#: the registry); the rule version adds a digest of the registry's strategies and retentions,
#: so a certificate names exactly the rules it was made under.
RULES_DATE = "2026-12"

#: Registry entries that are logs rather than data tables (the certificate groups them).
LOG_STORES = frozenset({"portal.AuditEvent", "portal.AccessLogEntry", "admin.LogEntry"})
#: Retained entries whose period starts with each row's own event (they expire through their
#: own jobs: the audit-trail retention and the access-log purge), not with the contract end.
OWN_EXPIRY = frozenset({"portal.AuditEvent", "portal.AccessLogEntry"})


def rule_version() -> str:
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.model}|{strategy_label(entry.erase)}|"
                      f"{strategy_label(entry.purge)}|{entry.retention or ''}\n".encode())
    return f"{RULES_DATE}/{digest.hexdigest()[:12]}"


def performed_by_text(actor) -> str:
    """Who carried it out, without a name: the job, or the role of the person."""
    if actor is None:
        return _("System (täglicher Löschlauf)")
    from portal.roles import Role

    role = role_of(actor)
    return _("Person mit der Rolle %(role)s") % {"role": Role(role).label if role else "–"}


def counts_before(rows_of: Callable[[PrivacyEntry], QuerySet]) -> dict[str, int]:
    """The rows each entry would touch, before anything is changed."""
    return {entry.model: rows_of(entry).count() for entry in entries}


def _action(outcome: Outcome) -> str:
    parts = [name for name, count in (("deleted", outcome.deleted),
                                      ("pseudonymised", outcome.pseudonymised),
                                      ("retained", outcome.retained)) if count]
    return "+".join(parts) or "none"


@dataclass
class Evidence:
    stores: list[dict] = field(default_factory=list)
    retained: list[dict] = field(default_factory=list)

    def add_store(self, store: str, kind: str, before: int, after: int, action: str) -> None:
        self.stores.append({"store": store, "kind": kind, "before": before, "after": after,
                            "action": action})

    def mark_held(self, held: dict[str, int]) -> None:
        """Rows a legal hold kept out: counted in ``before`` and ``after`` and named (no
        reasons, no ids)."""
        for store in self.stores:
            count = held.get(store["store"], 0)
            if count:
                store["held"] = count
                store["action"] = f"{store['action']}+held" if store["action"] != "none" \
                    else "held"


def evidence_from(outcomes: Iterable[Outcome], before: dict[str, int], *,
                  retention_start: date, today: date,
                  retained_until: Callable[[Outcome], date | None] | None = None) -> Evidence:
    """Stores and retained records from the registry's outcomes. ``after`` is what is left of
    the rows in the table (zero where the strategy deleted them all); pseudonymised rows stay
    but hold no personal data. ``retention_start``: the event the retention periods start
    from (the contract end; the day of an erasure)."""
    evidence = Evidence()
    for outcome in outcomes:
        count = before.get(outcome.model, 0)
        if not count and not (outcome.deleted or outcome.pseudonymised or outcome.retained):
            continue
        kind = "log" if outcome.model in LOG_STORES else "table"
        evidence.add_store(outcome.model, kind, count, max(count - outcome.deleted, 0),
                           _action(outcome))
        if outcome.retained and outcome.retention is not None:
            until = retained_until(outcome) if retained_until else None
            if until is None:
                start = today if outcome.model in OWN_EXPIRY else retention_start
                until = outcome.retention.ends_after(start)
            evidence.retained.append({"store": outcome.model, "count": outcome.retained,
                                      "basis": outcome.retention.basis,
                                      "until": until.isoformat()})
    return evidence


def certificate_build(*, kind: str, reference: str, customer, request, contract_end: date | None,
                      performed_at: datetime, performed_by: str, method: str,
                      evidence: Evidence, ledger: DeletionLedger) -> DeletionCertificate:
    """The certificate with its PDF (the document service), saved once: the database refuses
    any later change."""
    from gdpr.certificates import certificate_document_create

    certificate = DeletionCertificate(
        kind=kind, reference=reference, customer=customer, request=request,
        contract_end=contract_end, performed_at=performed_at, performed_by=performed_by,
        method=method, stores=evidence.stores, retained=evidence.retained,
        deleted_rows=ledger.count, deleted_ids_sha256=ledger.sha256,
        backup_expires_on=(timezone.localdate(performed_at)
                           + timedelta(days=settings.BACKUP_RETENTION_DAYS)),
        rule_version=rule_version())
    certificate.document = certificate_document_create(certificate)
    certificate.save()
    return certificate
