"""The sub-processor register's writes and the DPO's objection cases (002 AVV §7, DOMAIN §4, §6).

Adding, changing or replacing a sub-processor writes a new register row and sends ONE change
notice of the kind ``subprocessor_change`` to every affected customer (a customer whose
contract has not ended), naming the new row as its subject and effective on its
``valid_from``. The objection window (30 calendar days after receipt, BGB §193) is counted
by ``change_notice_issue``.

Decisions:

* **valid_from within the objection window is allowed.** 002 AVV §7 lets the customer object
  "innerhalb von 30 Kalendertagen nach der Änderung" and says what an objection leads to: the
  provider need not continue the service that uses the sub-processor. So the change may take
  effect while the window still runs; it must only not lie before the day the notice is
  sent (the customer is informed of the intended change first, Art. 28(2) DSGVO). Waiting for
  the deadline is the provider's choice (a later ``valid_from``), not a rule.
* **Ending a sub-processor sends no notice.** §7 names adding, replacing and changing; an
  ending only shrinks the circle of recipients, so the customer has nothing to object to. It
  is audited and shows in the register (and in the next AVV version) like every change.
* **Who writes.** Only provider admins (``actor=None``: the system, e.g. the demo seed); the
  DPO and provider staff read the register. Cases are resolved by the DPO or a provider admin.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.selectors import customers_with_running_contract
from gdpr.models import SUBPROCESSOR_KIND, CaseResolution, ObjectionCase, Safeguard, SubProcessor
from portal.change_notices.services import change_notice_issue
from portal.models import ChangeNotice
from portal.roles import Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of

#: The fields a change may alter; a new name is a replacement (another company).
CHANGEABLE_FIELDS = ("service", "location", "country", "safeguard", "data_categories")
#: Every field that describes a sub-processor, in the order the notice texts list them.
DESCRIBING_FIELDS = ("name", *CHANGEABLE_FIELDS)
#: Who resolves an objection case.
CASE_RESOLVER_ROLES = frozenset({Role.DPO, Role.PROVIDER_ADMIN})


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def subprocessor_may_write(actor) -> bool:
    """Only a provider admin writes the register (``None``: the system)."""
    if actor is None:
        return True
    membership = membership_of(actor)
    return membership is not None and membership.role == Role.PROVIDER_ADMIN


def _require_writer(actor) -> None:
    if not subprocessor_may_write(actor):
        raise PermissionDenied(_("Das Verzeichnis der Unterauftragsverarbeiter pflegt nur ein "
                                 "Administrator des Anbieters."))


def affected_customers():
    """The customers a register change concerns: every customer whose contract has not ended
    (contracts' rule, ``customers_with_running_contract``)."""
    return customers_with_running_contract()


def _require_not_past(valid_from: date, today: date) -> None:
    if valid_from < today:
        raise ValidationError({"valid_from": _(
            "Eine Änderung kann nicht rückwirkend gelten; frühestens ab %(today)s.")
            % {"today": _day(today)}})


def _require_open(row: SubProcessor) -> None:
    """Only a row without an end and without a successor can be changed, replaced or ended."""
    if row.valid_to is not None or row.successors.exists():
        raise ValidationError(_("%(name)s ist im Verzeichnis bereits beendet oder ersetzt; "
                                "ändern Sie den aktuellen Eintrag.") % {"name": row.name})


def _describe(values: dict) -> str:
    """One line describing a sub-processor, in German."""
    safeguard = str(Safeguard(values["safeguard"]).label)
    return (f"{values['name']} – {values['service']}, {values['location']} "
            f"({values['country']}); {_('Garantie')}: {safeguard}; "
            f"{_('Datenkategorien')}: {values['data_categories']}")


def _values(row: SubProcessor) -> dict:
    return {field: getattr(row, field) for field in DESCRIBING_FIELDS}


def _field_label(field: str) -> str:
    return str(SubProcessor._meta.get_field(field).verbose_name)


def _shown(field: str, value: str) -> str:
    return str(Safeguard(value).label) if field == "safeguard" else value


def _create_row(*, actor, values: dict, valid_from: date,
                predecessor: SubProcessor | None) -> SubProcessor:
    row = SubProcessor(**values, valid_from=valid_from, predecessor=predecessor,
                       created_by=actor)
    row.full_clean()
    row.save()
    return row


def _end_row(row: SubProcessor, valid_to: date) -> None:
    row.valid_to = valid_to
    row.full_clean()
    row.save(update_fields=["valid_to"])


def _notify(*, actor, row: SubProcessor, title: str, text: str, today: date) -> int:
    notices = change_notice_issue(actor=actor, kind=SUBPROCESSOR_KIND,
                                  customers=affected_customers(), title=title, text=text,
                                  subject=row, effective_on=row.valid_from, sent_on=today)
    return len(notices)


def _succeed(*, actor, current: SubProcessor, values: dict, valid_from: date) -> SubProcessor:
    """End ``current`` the day before ``valid_from`` and start its successor with ``values``."""
    _require_open(current)
    if valid_from <= current.valid_from:
        raise ValidationError({"valid_from": _(
            "Die Änderung muss nach dem Beginn des bisherigen Eintrags (%(start)s) gelten.")
            % {"start": _day(current.valid_from)}})
    _end_row(current, valid_from - timedelta(days=1))
    return _create_row(actor=actor, values=values, valid_from=valid_from, predecessor=current)


def subprocessor_add(*, actor, name: str, service: str, location: str, country: str,
                     safeguard: str, data_categories: str, valid_from: date) -> SubProcessor:
    """A new sub-processor from ``valid_from``; every affected customer gets a notice."""
    _require_writer(actor)
    today = timezone.localdate()
    _require_not_past(valid_from, today)
    values = {"name": name.strip(), "service": service.strip(), "location": location.strip(),
              "country": country.strip().upper(), "safeguard": safeguard,
              "data_categories": data_categories.strip()}
    with transaction.atomic():
        row = _create_row(actor=actor, values=values, valid_from=valid_from, predecessor=None)
        with translation.override("de"):
            title = _("Neuer Unterauftragsverarbeiter: %(name)s") % {"name": row.name}
            text = _("Ab %(day)s setzen wir einen weiteren Unterauftragsverarbeiter ein:\n"
                     "%(line)s") % {"day": _day(valid_from), "line": _describe(values)}
        count = _notify(actor=actor, row=row, title=title, text=text, today=today)
        audit_event_record(actor=actor, action="subprocessor.added", target=row, details={
            "valid_from": valid_from.isoformat(), "notices": count})
    return row


def subprocessor_change(*, actor, subprocessor: SubProcessor, valid_from: date,
                        **changes) -> SubProcessor:
    """The same company with changed ``changes`` (any of CHANGEABLE_FIELDS) from
    ``valid_from``: the current row ends the day before, a new row follows it; every affected
    customer gets a notice listing old → new."""
    _require_writer(actor)
    unknown = set(changes) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    today = timezone.localdate()
    _require_not_past(valid_from, today)
    with transaction.atomic():
        current = SubProcessor.objects.select_for_update().get(pk=subprocessor.pk)
        old = _values(current)
        new = {**old, **{field: str(value).strip() for field, value in changes.items()}}
        new["country"] = new["country"].upper()
        changed = [field for field in CHANGEABLE_FIELDS if new[field] != old[field]]
        if not changed:
            raise ValidationError(_("Keine Angabe geändert."))
        row = _succeed(actor=actor, current=current, values=new, valid_from=valid_from)
        with translation.override("de"):
            lines = "\n".join(f"{_field_label(field)}: {_shown(field, old[field])} → "
                              f"{_shown(field, new[field])}" for field in changed)
            title = _("Änderung beim Unterauftragsverarbeiter %(name)s") % {"name": row.name}
            text = _("Ab %(day)s ändert sich beim Unterauftragsverarbeiter %(name)s:\n"
                     "%(lines)s") % {"day": _day(valid_from), "name": row.name, "lines": lines}
        count = _notify(actor=actor, row=row, title=title, text=text, today=today)
        audit_event_record(actor=actor, action="subprocessor.changed", target=row, details={
            "valid_from": valid_from.isoformat(), "predecessor": current.pk,
            "fields": changed, "notices": count})
    return row


def subprocessor_replace(*, actor, subprocessor: SubProcessor, name: str, service: str,
                         location: str, country: str, safeguard: str, data_categories: str,
                         valid_from: date) -> SubProcessor:
    """Another company takes over from ``valid_from``; the old row ends the day before."""
    _require_writer(actor)
    today = timezone.localdate()
    _require_not_past(valid_from, today)
    values = {"name": name.strip(), "service": service.strip(), "location": location.strip(),
              "country": country.strip().upper(), "safeguard": safeguard,
              "data_categories": data_categories.strip()}
    with transaction.atomic():
        current = SubProcessor.objects.select_for_update().get(pk=subprocessor.pk)
        if values["name"].casefold() == current.name.casefold():
            raise ValidationError({"name": _(
                "Ein Ersatz ist ein anderes Unternehmen; für dasselbe Unternehmen wählen Sie "
                "„ändern“.")})
        row = _succeed(actor=actor, current=current, values=values, valid_from=valid_from)
        with translation.override("de"):
            title = _("%(new)s ersetzt %(old)s") % {"new": row.name, "old": current.name}
            text = _("Ab %(day)s ersetzt %(new)s den Unterauftragsverarbeiter %(old)s.\n"
                     "Bisher: %(before)s\nKünftig: %(after)s") % {
                "day": _day(valid_from), "new": row.name, "old": current.name,
                "before": _describe(_values(current)), "after": _describe(values)}
        count = _notify(actor=actor, row=row, title=title, text=text, today=today)
        audit_event_record(actor=actor, action="subprocessor.replaced", target=row, details={
            "valid_from": valid_from.isoformat(), "predecessor": current.pk, "notices": count})
    return row


def subprocessor_end(*, actor, subprocessor: SubProcessor, valid_to: date) -> SubProcessor:
    """The sub-processor is no longer used after ``valid_to`` (no notice: see the module)."""
    _require_writer(actor)
    today = timezone.localdate()
    if valid_to < today:
        raise ValidationError({"valid_to": _(
            "Ein Eintrag kann nicht rückwirkend enden; frühestens am %(today)s.")
            % {"today": _day(today)}})
    with transaction.atomic():
        row = SubProcessor.objects.select_for_update().get(pk=subprocessor.pk)
        _require_open(row)
        if valid_to < row.valid_from:
            raise ValidationError({"valid_to": _(
                "Das Ende darf nicht vor dem Beginn (%(start)s) liegen.")
                % {"start": _day(row.valid_from)}})
        _end_row(row, valid_to)
        audit_event_record(actor=actor, action="subprocessor.ended", target=row,
                           details={"valid_to": valid_to.isoformat()})
    return row


# --- Objection cases --------------------------------------------------------------------------

def objection_case_open(*, notice: ChangeNotice, actor) -> ObjectionCase:
    """The ``on_objected`` hook of the sub-processor kind: the objection opens one DPO case
    (inside the objection's transaction; a second call for the same notice returns it)."""
    case, created = ObjectionCase.objects.get_or_create(
        notice=notice, defaults={"customer_id": notice.customer_id,
                                 "opened_at": timezone.now()})
    if created:
        audit_event_record(actor=actor, action="objection_case.opened", target=case,
                           organisation=notice.customer,
                           details={"notice": notice.pk,
                                    "deadline": notice.deadline.isoformat()})
    return case


def objection_case_may_resolve(actor) -> bool:
    membership = membership_of(actor)
    return membership is not None and membership.role in CASE_RESOLVER_ROLES


def objection_case_resolve(*, actor, case: ObjectionCase, resolution: str,
                           note: str) -> ObjectionCase:
    """Close ``case`` as resolved or as "the provider ends the affected service" (002 AVV §7),
    with a required note; only the DPO or a provider admin, only once."""
    if not objection_case_may_resolve(actor):
        raise PermissionDenied(_("Widerspruchsfälle schließt nur der Datenschutzbeauftragte "
                                 "oder ein Administrator des Anbieters ab."))
    note = (note or "").strip()
    if resolution not in (CaseResolution.RESOLVED, CaseResolution.SERVICE_ENDED):
        raise ValidationError({"resolution": _("Bitte wählen Sie ein Ergebnis.")})
    if not note:
        raise ValidationError({"note": _("Bitte vermerken Sie, wie der Fall abgeschlossen "
                                         "wurde.")})
    with transaction.atomic():
        case = ObjectionCase.objects.select_for_update().get(pk=case.pk)
        if case.resolution != CaseResolution.OPEN:
            raise ValidationError(_("Dieser Widerspruchsfall ist bereits abgeschlossen."))
        case.resolution, case.resolution_note = resolution, note
        case.resolved_at, case.resolved_by = timezone.now(), actor
        case.full_clean()
        case.save(update_fields=["resolution", "resolution_note", "resolved_at",
                                 "resolved_by"])
        audit_event_record(actor=actor, action="objection_case.resolved", target=case,
                           organisation=case.customer,
                           details={"resolution": resolution, "notice": case.notice_id})
    return case
