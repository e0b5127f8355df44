"""Legal holds (issue 11 item 5): the DPO pauses the purge of a customer, or of single records,
with a reason (e.g. litigation, an authority's request) until the hold is released.

Decisions:

* **Only the DPO.** Holding data back from a deletion that the contract and Art. 17 DSGVO
  demand is a data-protection decision the DPO answers for; the provider admin sees the holds
  but neither places nor releases them (the admin's staff must not keep data on their own).
* **What a hold names.** Either the whole customer (``model_label`` and ``object_id`` empty) or
  one row: a model of the privacy registry (``portal.privacy.entries``) and the id of a row
  that registry entry counts among the customer's rows — the same rows the purge would touch,
  so a hold never names something the purge does not know or a row of another customer.
* **Not every entry can be held row by row.** Where an entry's strategies work on the person
  or the whole trail rather than on the rows given (the organisation's tombstone, accounts,
  memberships, sessions, second factors, the audit trail, the access log, the outbox), or
  where a core job deletes the rows on its own, a record hold would be ignored or half
  applied (a held organisation left the purge unfinished for good). Those entries say
  ``holdable=False`` and only a hold of the whole customer keeps them; the add form offers
  holdable entries only. A stored record hold on such an entry (from before) counts as a
  hold of the whole customer (gdpr/selectors/holds.py): when in doubt, keep.
* **Reasons, both ways.** Placing and releasing each need a reason (the model's constraints
  say so too); the reasons stay on the hold as evidence with the deletion certificate. The
  audit events carry the scope, not the reasons (free text may name people).
* **Several holds may cover the same data** (one per matter): releasing one leaves the others.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.models.purge import LegalHold
from portal.models import Organisation, User
from portal.privacy import entries
from portal.roles import OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

#: Who places and releases legal holds.
HOLD_ROLES = frozenset({Role.DPO})


def legal_hold_may_manage(actor) -> bool:
    return role_of(actor) in HOLD_ROLES


def _require_dpo(actor, message: str) -> None:
    if not legal_hold_may_manage(actor):
        raise PermissionDenied(message)


def legal_hold_require_record(customer: Organisation, model_label: str, object_id: str) -> None:
    """Refuse a record hold whose record is not a registry entry's row of ``customer``, or
    whose entry is not ``holdable`` (a whole-customer hold names neither model nor id)."""
    if not model_label and not object_id:
        return
    if not model_label:
        raise ValidationError({"model_label": _(
            "Für eine Sperre einzelner Datensätze den Datenbestand angeben.")})
    if not object_id:
        raise ValidationError({"object_id": _(
            "Für eine Sperre einzelner Datensätze die Datensatz-ID angeben.")})
    if model_label not in entries:
        raise ValidationError({"model_label": _(
            "„%(label)s“ ist kein Datenbestand des Datenschutz-Registers.") % {
            "label": model_label}})
    entry = entries.get(model_label)
    if not entry.holdable:
        raise ValidationError({"model_label": _(
            "Für diesen Datenbestand kann keine einzelne Sperre angeordnet werden; sperren Sie "
            "den ganzen Kunden.")})
    try:
        found = entry.rows_of_customer(customer).filter(pk=object_id).exists()
    except (ValueError, ValidationError):  # not an id of that model (e.g. text for a number)
        found = False
    if not found:
        raise ValidationError({"object_id": _(
            "Der Kunde hat im Datenbestand „%(label)s“ keinen Datensatz mit der ID "
            "%(id)s.") % {"label": model_label, "id": object_id}})


@transaction.atomic
def legal_hold_place(*, actor: User, customer: Organisation, reason: str,
                     model_label: str = "", object_id: str = "") -> LegalHold:
    """The DPO holds all data of ``customer`` (no ``model_label``) or one of its records back
    from the purge until the hold is released."""
    _require_dpo(actor, _("Aufbewahrungssperren ordnet nur der Datenschutzbeauftragte an."))
    reason, model_label, object_id = reason.strip(), model_label.strip(), str(object_id).strip()
    if not reason:
        raise ValidationError({"reason": _("Bitte den Grund der Sperre angeben.")})
    if customer.kind != OrganisationKind.CUSTOMER:
        raise ValidationError({"customer": _(
            "Eine Aufbewahrungssperre gilt für die Daten eines Kunden.")})
    legal_hold_require_record(customer, model_label, object_id)
    hold = LegalHold(customer=customer, model_label=model_label, object_id=object_id,
                     reason=reason, placed_by=actor)
    hold.full_clean()
    hold.save()
    audit_event_record(actor=actor, action="legal_hold.placed", target=hold,
                       organisation=customer,
                       details={"scope": "record" if model_label else "customer",
                                "model_label": model_label, "object_id": object_id})
    return hold


@transaction.atomic
def legal_hold_release(*, actor: User, hold: LegalHold, reason: str) -> LegalHold:
    """The DPO releases ``hold``; the purge then deletes what it held at its next run."""
    _require_dpo(actor, _("Aufbewahrungssperren hebt nur der Datenschutzbeauftragte auf."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Bitte den Grund der Aufhebung angeben.")})
    # Claimed by the row lock: of two releases at once, the second sees it released.
    hold = LegalHold.objects.select_for_update().select_related("customer").get(pk=hold.pk)
    if not hold.is_active:
        raise ValidationError(_("Diese Aufbewahrungssperre ist bereits aufgehoben."))
    hold.released_by = actor
    hold.released_at = timezone.now()
    hold.release_reason = reason
    hold.full_clean()
    hold.save(update_fields=["released_by", "released_at", "release_reason"])
    audit_event_record(actor=actor, action="legal_hold.released", target=hold,
                       organisation=hold.customer,
                       details={"scope": "record" if hold.model_label else "customer",
                                "model_label": hold.model_label, "object_id": hold.object_id})
    return hold
