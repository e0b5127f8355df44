"""The purge eight weeks after a contract ends (DOMAIN §5, 003 § 24.1, issue 11 item 5).

A customer whose contract has ended is kept through end + 56 days and purged on end + 57
(``Contract.purge_on``, from ``portal.periods.purge_schedule``) by the daily job
``gdpr.purge_run`` or ``manage.py purge_due``. Per customer, in one transaction:

1. lock the organisation row; a customer already purged (``purged_at``) is skipped, so a
   second run or a second worker purges nothing twice (and the certificate's unique
   constraint would refuse a second one);
2. skip it while a customer-wide legal hold is active; single held records stay out;
3. count every registry entry's rows, run every entry's purge strategy inside a deletion
   ledger (delete, pseudonymise, or retain under a legal duty — the organisation becomes a
   tombstone, ADR 0017), clear the login-throttle cache of its people;
4. write the deletion certificate with its PDF.

Records a legal hold kept out are purged by the same run once the hold is released
(:func:`released_holds_purge`).

Stored files are deleted after the commit and retried until the storage confirms
(gdpr/services/pending_files.py). A failure anywhere rolls the customer back completely; the
run goes on with the next customer and reports the failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.models import Contract, ContractStatus
from gdpr.models import CertificateKind, DeletionCertificate
from gdpr.selectors.holds import holds_for
from gdpr.services.deletion_evidence import (
    certificate_build,
    counts_before,
    evidence_from,
    performed_by_text,
)
from gdpr.services.pending_files import files_delete_after_commit
from portal.models import Membership, Organisation
from portal.privacy import deletion_ledger, entries, purge_for_customer
from portal.roles import OrganisationKind
from portal.services.audit import audit_event_record

log = logging.getLogger(__name__)

#: allauth's rate limits keyed by the e-mail address alone (the cache holds them as SHA-256).
_ADDRESS_KEYED_LIMITS = ("login_failed_address", "reset_password", "reset_password_from_key",
                         "confirm_email", "change_email")


def due_customers(today: date, *, ending_too: bool = False):
    """Customers whose purge day has come and that are not purged yet. ``ending_too`` (a dry
    run for a later day): also contracts that will have ended by then (the daily
    ``contracts.end_due`` moves them to "ended" first)."""
    ended = Q(contract__status=ContractStatus.ENDED)
    if ending_too:
        ended |= Q(contract__status=ContractStatus.ENDING, contract__effective_end__lt=today)
    return (Organisation.objects.filter(ended, kind=OrganisationKind.CUSTOMER,
                                        purged_at__isnull=True, contract__purge_on__lte=today)
            .order_by("pk"))


def customer_reference(customer: Organisation) -> str:
    """The customer as the certificate names it: its number, never its name."""
    return customer.customer_number or f"#{customer.pk}"


def _throttle_keys(emails: list[str]) -> list[str]:
    from allauth.core.internal import ratelimit

    keys = []
    for action in _ADDRESS_KEYED_LIMITS:
        for rate in ratelimit.parse_rates(settings.ACCOUNT_RATE_LIMITS.get(action)):
            if rate.per == "key":
                keys += [ratelimit.get_cache_key(None, app="allauth.account", action=action,
                                                 rate=rate, key=email.lower())
                         for email in emails]
    return keys


def _clear_cache(emails: list[str]) -> tuple[int, int]:
    """Delete the cache entries keyed by the people's addresses (login and reset throttling);
    the per-IP ones hold no address and expire within the hour. Returns before/after."""
    from django.core.cache import cache

    keys = _throttle_keys(emails)
    before = len(cache.get_many(keys)) if keys else 0
    if keys:
        cache.delete_many(keys)
    return before, (len(cache.get_many(keys)) if keys else 0)


def _document_until(customer: Organisation):
    from portal.models import Document

    return (Document.objects.filter(customer=customer, retain_until__isnull=False)
            .order_by("-retain_until").values_list("retain_until", flat=True).first())


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    planned: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    #: customers whose records a released legal hold had kept out, purged now
    released: list[str] = field(default_factory=list)


def customer_purge(*, customer_id: int, actor=None, today: date | None = None
                   ) -> DeletionCertificate | str | None:
    """Purge one due customer; returns its certificate, ``"held"`` when a legal hold pauses
    it, or ``None`` when there is nothing to do (purged already, not due)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        customer = Organisation.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None or customer.purged_at is not None:
            return None
        contract = Contract.objects.filter(customer=customer).first()
        if (contract is None or contract.status != ContractStatus.ENDED
                or contract.purge_on is None or contract.purge_on > today):
            return None
        holds = holds_for(customer)
        if holds.whole:
            return "held"
        held = {label: set(ids) for label, ids in holds.records.items()}
        emails = list(Membership.objects.filter(organisation=customer)
                      .values_list("user__email", flat=True))
        before = counts_before(lambda entry: entry.rows_of_customer(customer))
        held_counts = {entry.model: entry.rows_of_customer(customer)
                       .filter(pk__in=held[entry.model]).count()
                       for entry in entries if entry.model in held}
        files: list[str] = []
        with deletion_ledger() as ledger:
            outcomes = purge_for_customer(customer, actor=actor, held=held,
                                          files=_files_sink(files))
        cache_before, cache_after = _clear_cache(emails)
        # Retention periods start at the purge day, not at the contract end: a final invoice or
        # a request closed within the eight weeks must not lose a year (conservative).
        evidence = evidence_from(
            outcomes, before, retention_start=today, today=today,
            retained_until=lambda o: _document_until(customer)
            if o.model == "portal.Document" else None)
        evidence.mark_held(held_counts)
        evidence.add_store("files", "files", len(files), 0, "deleted_after_commit")
        evidence.add_store("cache", "cache", cache_before, cache_after, "deleted")
        with translation.override(settings.LANGUAGE_CODE):
            method = _("Datensätze gelöscht (SQL DELETE, eine Transaktion je Kunde), Konten "
                       "und Protokolle pseudonymisiert, aufbewahrungspflichtige Daten "
                       "eingeschränkt; gespeicherte Dateien nach dem Abschluss gelöscht")
            performed_by = performed_by_text(actor)
        return certificate_build(
            kind=CertificateKind.PURGE, reference=customer_reference(customer),
            customer=customer, request=None, contract_end=contract.effective_end,
            performed_at=timezone.now(), performed_by=performed_by, method=method,
            evidence=evidence, ledger=ledger)


def _files_sink(collected: list[str]):
    def sink(paths: list[str]) -> None:
        collected.extend(paths)
        files_delete_after_commit(paths)
    return sink


def released_holds_purge(*, actor=None) -> list[str]:
    """Records a legal hold kept out of a purge are purged once the hold is released (and no
    other active hold covers them): the same entry's purge strategy on exactly those rows, in
    one transaction per hold, with one audit event (counts and the ledger's digest). Once per
    hold: the event marks it done. Returns the references of the customers concerned."""
    from gdpr.models import LegalHold
    from portal.models import AuditEvent

    done = set(AuditEvent.objects.filter(action="purge.held_records_purged",
                                         target_type="gdpr.legalhold")
               .values_list("target_id", flat=True))
    released = (LegalHold.objects.filter(released_at__isnull=False,
                                         customer__purged_at__isnull=False)
                .exclude(model_label="").order_by("pk"))
    purged: list[str] = []
    seen: set[tuple[str, str]] = set()
    for hold_id in released.values_list("pk", flat=True):
        if str(hold_id) in done:
            continue
        with transaction.atomic():
            hold = LegalHold.objects.select_related("customer").get(pk=hold_id)
            customer = Organisation.objects.select_for_update().get(pk=hold.customer_id)
            still = holds_for(customer)
            if still.whole or hold.object_id in still.records.get(hold.model_label, ()):
                continue  # another hold keeps the record; its own release catches up
            entry = entries.get(hold.model_label) if hold.model_label in entries else None
            if entry is None or not entry.holdable:
                continue  # an old hold on a store that cannot be held alone: it held it all
            rows = entry.rows_of_customer(customer).filter(pk=hold.object_id)
            if not rows.exists() or (hold.model_label, hold.object_id) in seen:
                continue  # gone already (e.g. with an earlier released hold on the same row)
            seen.add((hold.model_label, hold.object_id))
            with deletion_ledger() as ledger:
                outcome = entry.purge(entry, rows, subject=customer, actor=actor)
            files_delete_after_commit(list(outcome.files))
            audit_event_record(actor=actor, action="purge.held_records_purged", target=hold,
                               organisation=customer,
                               details={"model": hold.model_label, **outcome.as_dict(),
                                        "deleted_ids_sha256": ledger.sha256})
            if customer_reference(customer) not in purged:
                purged.append(customer_reference(customer))
    return purged


def purge_due(*, today: date | None = None, dry_run: bool = False, actor=None) -> PurgeReport:
    """Purge every due customer (the daily job and ``manage.py purge_due``). ``dry_run``
    lists them with the rows per registry entry and changes nothing."""
    today = today or timezone.localdate()
    report = PurgeReport()
    for customer in list(due_customers(today, ending_too=dry_run)):
        reference = customer_reference(customer)
        if dry_run:
            if holds_for(customer).whole:
                report.held.append(reference)
            else:
                counts = counts_before(lambda entry, c=customer: entry.rows_of_customer(c))
                report.planned.append((reference, {k: v for k, v in counts.items() if v}))
            continue
        try:
            result = customer_purge(customer_id=customer.pk, actor=actor, today=today)
        except Exception as exc:  # noqa: BLE001 - one customer's failure must not stop the run
            log.exception("purge of customer %s failed", reference)
            report.failed.append((reference, f"{type(exc).__name__}: {exc}"))
            continue
        if result == "held":
            report.held.append(reference)
        elif result is not None:
            report.purged.append(reference)
    if not dry_run:
        report.released = released_holds_purge(actor=actor)
    return report
