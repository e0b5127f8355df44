"""Writes around the end of a customer's contract (DOMAIN § 5, 003 § 24): the e-mails to its
admins when the termination is registered and again 28 days before the end, the full customer
export (002 AVV § 3.11) and the provider-assisted data provision it orders at least 30 days
before the end; each audited.

The end is the one ``contracts.terminations.registered_end_for`` names (a cancelled or terminated
contract, or the last booking removed); every date around it comes from
``portal.periods.purge_schedule``. Each e-mail is recorded once per customer, kind and end
(``ContractEndMail``'s unique constraint, claimed in a savepoint): a termination registered
twice, the daily job run twice or by two workers at once mails once, and a withdrawal followed
by a cancellation with another end mails again.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from contracts.models import Contract
from contracts.terminations import (
    Termination,
    TerminationWay,
    registered_end_for,
    registered_ends,
)
from gdpr.customer_export import PARTS, customer_archive
from gdpr.models import CustomerExport, DataProvisionOrder
from gdpr.models.contract_end import ContractEndMail, ContractEndMailKind, ProvisionState
from gdpr.services.export_jobs import (
    ExportKind,
    export_build,
    export_download_record,
    export_pending,
    export_queue,
    export_valid,
    exports_expire,
)
from portal.models import Organisation, User
from portal.notifications.service import notify
from portal.periods import EXPORT_REMINDER_DAYS, PROVISION_ORDER_DAYS, PurgeSchedule, purge_schedule
from portal.roles import PROVIDER_ROLES, OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of, role_of

#: Who starts a customer's full export and downloads it: its admins and the provider.
CUSTOMER_EXPORT_ROLES = PROVIDER_ROLES | {Role.CUSTOMER_ADMIN}
#: Who marks a data provision order done.
PROVISION_HANDLER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF})
CUSTOMER_EXPORT_TASK = "gdpr.tasks.customer_export_run"
CUSTOMER_EXPORT = ExportKind(model=CustomerExport, task=CUSTOMER_EXPORT_TASK,
                             audit_prefix="customer_export", done_field="parts_done",
                             total_field="parts_total", count_detail="parts")


def _day(day: date) -> str:
    """A date in a message, in the reader's language (``SHORT_DATE_FORMAT``)."""
    return date_format(day, "SHORT_DATE_FORMAT")


def contract_end_of(customer: Organisation | None) -> PurgeSchedule | None:
    """The dates around the customer's registered end, or ``None`` while nothing ends."""
    if customer is None or customer.kind != OrganisationKind.CUSTOMER:
        return None
    end = registered_end_for(customer)
    return purge_schedule(contract_end=end) if end is not None else None


# --- the e-mails ----------------------------------------------------------------------------

def _mail_once(*, customer: Organisation, kind: str, end: date, actor: User | None = None,
               way: TerminationWay | None = None) -> ContractEndMail | None:
    """Record and queue one e-mail to the customer's admins; ``None`` when it was sent
    before (or another worker sends it right now). ``way`` is how the termination was
    registered: the mail words a removed last booking otherwise than a cancelled contract."""
    try:
        with transaction.atomic():
            mail = ContractEndMail.objects.create(customer=customer, kind=kind, contract_end=end)
    except IntegrityError:
        return None
    context = {"contract_end": end.isoformat()}
    if way is not None:
        context["way"] = str(way)
    rows = notify(event=f"contract_end.{kind}", actor=actor, customer=customer,
                  context=context)
    mail.recipients = len(rows)
    mail.save(update_fields=["recipients"])
    audit_event_record(actor=actor, action="contract_end.mailed", target=mail,
                       organisation=customer,
                       details={"kind": kind, "contract_end": end.isoformat(),
                                "recipients": mail.recipients})
    return mail


def contract_end_registered(termination: Termination) -> ContractEndMail | None:
    """The termination listener (``contracts.terminations``), inside the contract service's
    transaction: tell the customer's admins the end, the purge, the export and the deadline
    for a provision order."""
    return _mail_once(customer=termination.contract.customer,
                      kind=ContractEndMailKind.REGISTERED, end=termination.end,
                      actor=termination.actor, way=termination.way)


def contract_end_reminders_send(*, today: date | None = None) -> int:
    """Daily: remind the admins of every customer whose end is at most 28 days away (from
    ``export_reminder_on``, catching up a missed day, never after the end), once per end.
    Not when the registration e-mail itself came within those 28 days: it said the same a
    short while ago. Returns how many reminders were queued."""
    today = today or timezone.localdate()
    sent = 0
    for contract, end in registered_ends(first=today,
                                         last=today + timedelta(days=EXPORT_REMINDER_DAYS)):
        reminder_on = purge_schedule(contract_end=end).export_reminder_on
        with transaction.atomic():
            registered = ContractEndMail.objects.filter(
                customer=contract.customer, kind=ContractEndMailKind.REGISTERED,
                contract_end=end).first()
            if registered is not None and timezone.localdate(registered.sent_at) >= reminder_on:
                continue
            if _mail_once(customer=contract.customer, kind=ContractEndMailKind.REMINDER,
                          end=end):
                sent += 1
    return sent


# --- the full customer export ---------------------------------------------------------------

def _require_export_role(actor: User, customer: Organisation) -> None:
    if role_of(actor) not in CUSTOMER_EXPORT_ROLES or not (
            Organisation.objects.visible_to(actor)
            .filter(pk=customer.pk, kind=OrganisationKind.CUSTOMER).exists()):
        raise PermissionDenied(_("Den vollständigen Datenexport eines Kunden erstellen nur "
                                 "seine Administratoren und der Anbieter."))


def customer_exports_downloadable_by(user: User) -> bool:
    """Whether ``user``'s role downloads customer exports: the customer's admins and the
    provider (which exports, ``visible_to`` decides)."""
    return role_of(user) in CUSTOMER_EXPORT_ROLES


def customer_export_downloadable(user: User, export: CustomerExport, *, now=None) -> bool:
    """The customer's admins and the provider, while the file is valid (the caller's query
    went through ``visible_to``: another tenant's export is never found)."""
    return export_valid(export, now=now) and customer_exports_downloadable_by(user)


@transaction.atomic
def customer_export_start(*, actor: User, customer: Organisation,
                          ip: str | None = None) -> CustomerExport:
    """Queue the full export of ``customer``; the job is sent after the commit. An export of
    the customer still waiting or running is returned instead of a second one."""
    _require_export_role(actor, customer)
    running = export_pending(
        CUSTOMER_EXPORT, CustomerExport.objects.filter(customer=customer),
        lost_message=_("Der Export wurde nicht fertig (die Hintergrundverarbeitung wurde "
                       "unterbrochen); er wurde neu angefordert."))
    if running is not None:
        return running
    export = CustomerExport(customer=customer, requested_by=actor, parts_total=len(PARTS))
    export.full_clean()
    export.save()
    audit_event_record(actor=actor, action="customer_export.requested", target=export,
                       organisation=customer, ip=ip, details={"parts": len(PARTS)})
    transaction.on_commit(lambda: export_queue(CUSTOMER_EXPORT, export.pk))
    return export


def customer_export_build(*, export_id: int) -> CustomerExport | None:
    """The job: build, store and finish the export (``export_jobs.export_build``)."""
    def write(export: CustomerExport, out, progress) -> str:
        now = timezone.now()
        customer_archive(export.customer, out, issued=now, on_part=progress)
        number = export.customer.customer_number or str(export.customer_id)
        return f"kundendaten-{number}-{now:%Y%m%d}.zip"

    return export_build(CUSTOMER_EXPORT, export_id, total=len(PARTS), write=write)


def customer_export_download_record(*, actor: User, export: CustomerExport,
                                    ip: str | None = None) -> None:
    export_download_record(CUSTOMER_EXPORT, actor=actor, export=export, ip=ip)


def customer_exports_expire(*, now=None) -> int:
    return exports_expire(CUSTOMER_EXPORT, now=now)


# --- data provision orders (003 § 24.3) -------------------------------------------------------

def provision_order_refusal(customer: Organisation, *, today: date) -> str | None:
    """Why the customer cannot order a provision on ``today``, or ``None``: no termination
    registered, or later than 30 days before the end. The page shows it, the service
    refuses with it."""
    schedule = contract_end_of(customer)
    if schedule is None:
        return _("Für Ihren Vertrag ist keine Kündigung erfasst; eine Bereitstellung der Daten "
                 "zum Vertragsende kann erst danach beauftragt werden.")
    if today > schedule.provision_order_by:
        return _("Die Bereitstellung der Daten muss mindestens %(days)s Tage vor dem "
                 "Vertragsende beauftragt werden: bis zum %(day)s. Bitte nutzen Sie den "
                 "Datenexport.") % {"days": PROVISION_ORDER_DAYS,
                                    "day": _day(schedule.provision_order_by)}
    return None


@transaction.atomic
def provision_order_create(*, actor: User, customer: Organisation, wanted_by: date, scope: str,
                           delivery: str = "", ip: str | None = None) -> DataProvisionOrder:
    """A customer admin orders the provider to hand over the data; provider staff are told."""
    membership = membership_of(actor)
    if (membership is None or membership.role != Role.CUSTOMER_ADMIN
            or membership.organisation_id != customer.pk):
        raise PermissionDenied(_("Die Bereitstellung der Daten beauftragen nur die "
                                 "Administratoren des Kunden."))
    Contract.objects.select_for_update().filter(customer=customer).first()
    today = timezone.localdate()
    refusal = provision_order_refusal(customer, today=today)
    if refusal:
        raise ValidationError(refusal)
    schedule = contract_end_of(customer)
    if wanted_by < today:
        raise ValidationError({"wanted_by": _("Das Datum darf nicht in der Vergangenheit "
                                              "liegen.")})
    if wanted_by > schedule.contract_end:
        raise ValidationError({"wanted_by": _("Die Daten können spätestens zum Vertragsende "
                                              "(%(day)s) bereitgestellt werden.")
                               % {"day": _day(schedule.contract_end)}})
    order = DataProvisionOrder(customer=customer, ordered_by=actor, ordered_on=today,
                               contract_end=schedule.contract_end, wanted_by=wanted_by,
                               scope=scope.strip(), delivery=delivery.strip())
    order.full_clean()
    order.save()
    audit_event_record(actor=actor, action="provision_order.created", target=order,
                       organisation=customer, ip=ip,
                       details={"contract_end": schedule.contract_end.isoformat(),
                                "wanted_by": wanted_by.isoformat()})
    notify(event="provision_order.created", actor=actor, customer=customer,
           context={"order_id": order.pk})
    return order


@transaction.atomic
def provision_order_done(*, actor: User, order: DataProvisionOrder, note: str = "",
                         ip: str | None = None) -> DataProvisionOrder:
    """Provider staff record that the data was handed over."""
    if role_of(actor) not in PROVISION_HANDLER_ROLES:
        raise PermissionDenied(_("Eine Datenbereitstellung erledigen nur Mitarbeiter des "
                                 "Anbieters."))
    order = DataProvisionOrder.objects.select_for_update().get(pk=order.pk)
    if order.state != ProvisionState.ORDERED:
        raise ValidationError(_("Diese Datenbereitstellung ist bereits abgeschlossen."))
    order.state = ProvisionState.DONE
    order.handled_by = actor
    order.handled_at = timezone.now()
    order.note = note.strip()
    order.save(update_fields=["state", "handled_by", "handled_at", "note"])
    audit_event_record(actor=actor, action="provision_order.done", target=order,
                       organisation=order.customer, ip=ip, details={})
    return order
