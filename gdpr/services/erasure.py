"""Erasure for a person (Art. 17 DSGVO, issue 11 item 3): an erasure request in progress is
carried out over the privacy registry (``portal.privacy.erase_for_person``: per entry delete,
pseudonymise or retain with its legal basis) and closed with the result per entry.

Refused while the person is the last active administrator of a customer whose contract still
runs: someone must hold the contract (the customer names another administrator first). Refused
too while a customer of the person is under a legal hold of all its data (Art. 17 Abs. 3 lit. e
DSGVO, kept for legal claims by the DPO's decision, gdpr/services/holds.py): erasing the person
would change the held rows (references to them, their events in the audit trail). The erased
account is pseudonymised and can no longer log in; the request itself is kept as the evidence
(gdpr/privacy.py) and names the person only as the requester did. Each erasure writes a
deletion certificate (gdpr/services/deletion_evidence.py) with the counts per data store and no
personal data.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.selectors import customers_with_running_contract
from gdpr.models import CertificateKind, DataSubjectRequest, RequestKind, RequestState
from gdpr.selectors.holds import customers_held
from gdpr.services.deletion_evidence import (
    certificate_build,
    counts_before,
    evidence_from,
    performed_by_text,
)
from gdpr.services.pending_files import files_delete_after_commit
from gdpr.services.requests import dsr_require_handler
from portal.models import Membership
from portal.privacy import deletion_ledger, entries, erase_for_person, person_identifiers, redact
from portal.privacy_strategies import strategy_label
from portal.roles import Role
from portal.services.audit import audit_event_record


def erasure_refusal(person, *, customer=None) -> str | None:
    """Why ``person`` cannot be erased now, or ``None``: a customer of theirs (or the request's
    ``customer``, which a former member no longer belongs to) is under a legal hold of all its
    data, or they are its last administrator while its contract runs."""
    held = (Membership.objects.filter(user=person, organisation_id__in=customers_held())
            .select_related("organisation").order_by("organisation__name").first())
    held_customer = held.organisation if held is not None else None
    if held_customer is None and customer is not None and customers_held().filter(
            customer_id=customer.pk).exists():
        held_customer = customer
    if held_customer is not None:
        return _("Für %(customer)s besteht eine Aufbewahrungssperre (Legal Hold); die Löschung "
                 "ist bis zu ihrer Aufhebung ausgesetzt (Art. 17 Abs. 3 lit. e DSGVO).") % {
            "customer": held_customer.name}
    memberships = Membership.objects.filter(user=person, role=Role.CUSTOMER_ADMIN,
                                            organisation__in=customers_with_running_contract())
    for membership in memberships.select_related("organisation"):
        others = (Membership.objects.filter(organisation=membership.organisation,
                                            role=Role.CUSTOMER_ADMIN, user__is_active=True)
                  .exclude(user=person))
        if not others.exists():
            return _("%(person)s ist der letzte Administrator von %(customer)s, dessen Vertrag "
                     "läuft; der Kunde muss zuerst einen anderen Administrator benennen.") % {
                "person": person.get_full_name() or person.email,
                "customer": membership.organisation.name}
    return None


def _method(strategy) -> str:
    """How a strategy treats the person's rows, in words for the confirmation page (the
    registry's labels name the code)."""
    label = strategy_label(strategy)
    if label == "DELETE":
        return _("löschen")
    if label == "RETAIN":
        return _("aufbewahren (gesetzliche Pflicht)")
    if label.startswith("erase_mentions") or label.startswith("delete_unless_protected"):
        return _("Verweise auf die Person entfernen, Freitext schwärzen")
    return _("pseudonymisieren")


def erasure_preview(person) -> list[dict]:
    """What erasing ``person`` would touch: per registry entry with rows, how many and how
    (the strategy), for the confirmation page."""
    rows = []
    for entry in entries:
        count = entry.rows_of_person(person).count()
        if count:
            rows.append({"model": entry.model_class._meta.verbose_name_plural,
                         "label": entry.model, "count": count,
                         "strategy": _method(entry.erase),
                         "retention": str(entry.retention) if entry.retention else ""})
    return rows


def _result_text(outcomes) -> str:
    """The result per entry in German (the request's outcome): counts only, and for retained
    rows the legal basis and period."""
    lines = [_("Löschung ausgeführt am %(day)s:")
             % {"day": timezone.localdate().strftime("%d.%m.%Y")}]
    for outcome in outcomes:
        parts = []
        if outcome.deleted:
            parts.append(_("%(n)d gelöscht") % {"n": outcome.deleted})
        if outcome.pseudonymised:
            parts.append(_("%(n)d pseudonymisiert") % {"n": outcome.pseudonymised})
        if outcome.retained:
            parts.append(_("%(n)d aufbewahrt (%(rule)s)") % {
                "n": outcome.retained, "rule": outcome.retention or "–"})
        if parts:
            lines.append(f"- {outcome.model}: {', '.join(parts)}")
    return "\n".join(lines)


def dsr_erase(*, actor, request: DataSubjectRequest) -> DataSubjectRequest:
    """Carry out an erasure request in progress and close it with the result per entry."""
    dsr_require_handler(actor)
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.kind != RequestKind.ERASURE:
            raise ValidationError(_("Nur eine Anfrage auf Löschung wird so ausgeführt."))
        if request.state != RequestState.IN_PROGRESS:
            raise ValidationError(_("Eine Löschung wird erst ausgeführt, wenn die Anfrage in "
                                    "Bearbeitung ist (Stand: %(state)s).")
                                  % {"state": request.get_state_display()})
        person = request.subject
        if person is None:
            raise ValidationError(_("Zu dieser Anfrage gehört kein Konto; schließen Sie sie "
                                    "mit dem Ergebnis ab, dass keine Daten vorliegen."))
        refusal = erasure_refusal(person, customer=request.customer)
        if refusal:
            raise ValidationError(refusal)
        # The request's name holds the requester's; the event closing it must not repeat
        # what the erasure just took out of the audit trail (ADR 0016).
        named = person_identifiers(person)
        today = timezone.localdate()
        before = counts_before(lambda entry: entry.rows_of_person(person))
        with deletion_ledger() as ledger:
            outcomes = erase_for_person(person, actor=actor, files=files_delete_after_commit)
        with translation.override("de"):
            request.outcome = _result_text(outcomes)
            certificate_build(
                kind=CertificateKind.ERASURE,
                reference=_("Betroffenenanfrage Nr. %(pk)s") % {"pk": request.pk},
                customer=request.customer, request=request, contract_end=None,
                performed_at=timezone.now(), performed_by=performed_by_text(actor),
                method=_("Löschung auf Antrag (Art. 17 DSGVO) über das Register "
                         "personenbezogener Daten: gelöscht, pseudonymisiert oder wegen einer "
                         "gesetzlichen Pflicht aufbewahrt; Dateien nach dem Abschluss gelöscht"),
                evidence=evidence_from(outcomes, before, retention_start=today, today=today),
                ledger=ledger)
        request.state, request.closed_at = RequestState.DONE, timezone.now()
        request.full_clean()
        request.save(update_fields=["state", "outcome", "closed_at"])
        audit_event_record(actor=actor, action="dsr.erased", target=request,
                           target_repr=redact(str(request), named),
                           organisation=request.customer,
                           details={"entries": sum(1 for o in outcomes
                                                   if o.deleted or o.pseudonymised
                                                   or o.retained)})
    return request
