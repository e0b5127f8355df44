"""Writes of contracts and bookings: book, change tier, remove (= cancel), withdraw, end.

Every date comes from ``portal.periods``; every write is audited in its transaction, and
confirmation e-mails leave on commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.bookability import refusals
from contracts.models import (
    Booking,
    BookingChange,
    BookingState,
    Contract,
    ContractStatus,
    Plan,
)
from contracts.terminations import (
    Termination,
    TerminationWay,
    last_booking_end,
    termination_registered,
)
from devices.models import Device
from portal.models import Organisation, User
from portal.money import money
from portal.notifications.service import notify
from portal.periods import CancellationNotAllowed, billed_months, notice_end, purge_schedule
from portal.roles import PROVIDER_ROLES, OrganisationKind, Role
from portal.services.audit import audit_event_record, audit_events_record
from portal.tenancy import role_of

BOOKING_ROLES = frozenset({Role.CUSTOMER_ADMIN, Role.PARTNER_SUPPORT, Role.PROVIDER_ADMIN,
                           Role.PROVIDER_STAFF})


def require_booking_role(actor: User, customer: Organisation) -> bool:
    """Refuse unless ``actor`` may book for ``customer``; returns whether it is on behalf."""
    role = role_of(actor)
    if role not in BOOKING_ROLES:
        raise PermissionDenied(_("Sie dürfen keine Leistungen buchen oder kündigen."))
    if customer.kind != OrganisationKind.CUSTOMER or not (
            Organisation.objects.visible_to(actor).filter(pk=customer.pk).exists()):
        raise PermissionDenied(_("Sie dürfen für diesen Kunden nicht buchen."))
    return role != Role.CUSTOMER_ADMIN


# --- Dates shown before anyone confirms -------------------------------------------------------

@dataclass(frozen=True)
class RemovalPreview:
    received: date
    effective_end: date
    last_billed_month: tuple[int, int]


def removal_preview(booking: Booking, *, received: date | None = None) -> RemovalPreview:
    """The exact end and the last billed month if ``booking`` is removed on ``received``."""
    received = received or timezone.localdate()
    try:
        end = notice_end(booking.notice_rule(), received=received, start=booking.term_start)
    except CancellationNotAllowed as exc:
        raise ValidationError(str(exc)) from exc
    end = max(end, booking.active_from - timedelta(days=1))
    months = billed_months(active_from=booking.active_from, active_until=end, through=end) \
        if end >= booking.active_from else []
    last = months[-1] if months else (end.year, end.month)
    return RemovalPreview(received=received, effective_end=end, last_billed_month=last)


@dataclass(frozen=True)
class BookingQuote:
    plan: Plan
    devices: list[Device]
    active_from: date
    monthly_total: Decimal
    min_term_end: date | None
    earliest_end: date


def booking_quote(*, plan: Plan, devices: list[Device], today: date | None = None
                  ) -> BookingQuote:
    """What the confirmation page shows: price per month, minimum term, earliest end."""
    today = today or timezone.localdate()
    active_from = today + timedelta(days=1)
    rule = plan.notice_rule()
    min_term_end = None
    if rule.min_term is not None:
        from portal.periods import term_end

        min_term_end = term_end(active_from, rule.min_term)
    try:
        earliest = notice_end(rule, received=today, start=active_from)
    except CancellationNotAllowed:
        earliest = min_term_end or active_from
    return BookingQuote(plan=plan, devices=devices, active_from=active_from,
                        monthly_total=money(plan.monthly_price * len(devices)),
                        min_term_end=min_term_end, earliest_end=max(earliest, active_from))


# --- Checks -------------------------------------------------------------------------------------

def contract_booking_problem(contract: Contract | None, plan: Plan) -> str | None:
    """What stops booking ``plan`` under ``contract`` (None: no contract yet), as a message;
    the booking page shows it before confirmation and ``booking_create`` refuses with it."""
    if contract is not None and contract.status != ContractStatus.ACTIVE and plan.is_active:
        return _("Der Rahmenvertrag ist gekündigt; neue Buchungen sind nicht mehr möglich.")
    return plan_offer_problem(contract, plan)


def plan_offer_problem(contract: Contract | None, plan: Plan) -> str | None:
    """What stops ``plan`` from being taken under ``contract`` at all, for a new booking and
    a change of tier alike: no longer offered, or an ISA it needs is not recorded."""
    if not plan.is_active:
        return _("Die Leistung %(plan)s ist nicht mehr buchbar.") % {"plan": plan.name}
    if plan.requires_isa and (contract is None or contract.isa_completed_on is None):
        return _("%(plan)s setzt eine Infrastrukturanalyse (ISA) voraus, die noch nicht erfasst "
                 "ist. Bitte sprechen Sie uns an.") % {"plan": plan.name}
    return None


def _check_bookable(plan: Plan, contract: Contract, devices: Iterable[Device],
                    customer: Organisation) -> None:
    """Refuse unless every device can take ``plan`` (``contracts.bookability``) under
    ``contract``; a device of another customer is not the caller's to book at all."""
    problem = contract_booking_problem(contract, plan)
    if problem:
        raise ValidationError(problem)
    devices = list(devices)
    if any(device.customer_id != customer.pk for device in devices):
        raise PermissionDenied(_("Dieses Gerät gehört nicht zu diesem Kunden."))
    refused = refusals(plan, devices)
    if refused:
        raise ValidationError([refusal.message for refusal in refused])


def _contract_for(actor: User, customer: Organisation, today: date, ip: str | None
                  ) -> Contract:
    contract = Contract.objects.select_for_update().filter(customer=customer).first()
    if contract is None:
        contract = Contract.objects.create(customer=customer, start=today + timedelta(days=1))
        audit_event_record(actor=actor, action="contract.opened", target=contract,
                           organisation=customer, ip=ip, details={"start": str(contract.start)})
    return contract


def _snapshot(booking: Booking, plan: Plan) -> None:
    booking.plan = plan
    booking.plan_name = plan.name
    booking.family = plan.family
    booking.monthly_price = plan.monthly_price
    booking.billing_mode = plan.billing_mode
    for name in ("notice", "notice_anchor", "min_term", "renewal", "cap_at_term_length"):
        setattr(booking, name, getattr(plan, name))


def _removal_details(preview: RemovalPreview) -> dict:
    """What the audit event of a removal records."""
    return {"received": str(preview.received), "effective_end": str(preview.effective_end),
            "last_billed_month": "{:04d}-{:02d}".format(*preview.last_billed_month)}


# --- Services -----------------------------------------------------------------------------------

@transaction.atomic
def booking_create(*, actor: User, customer: Organisation, plan: Plan, devices: list[Device],
                   ip: str | None = None) -> list[Booking]:
    """Book ``plan`` for each device; active from the day after activation (000 § 2)."""
    on_behalf = require_booking_role(actor, customer)
    if not devices:
        raise ValidationError(_("Bitte wählen Sie mindestens ein Gerät."))
    now = timezone.now()
    today = timezone.localdate(now)
    contract = _contract_for(actor, customer, today, ip)
    devices = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]))
    _check_bookable(plan, contract, devices, customer)
    quote = booking_quote(plan=plan, devices=devices, today=today)
    bookings = []
    for device in sorted(devices, key=lambda d: d.hostname):
        booking = Booking(customer=customer, contract=contract, device=device, booked_by=actor,
                          on_behalf=on_behalf, activated_at=now, active_from=quote.active_from,
                          term_start=quote.active_from, min_term_end=quote.min_term_end)
        _snapshot(booking, plan)
        booking.full_clean(validate_constraints=False)
        bookings.append(booking)
    try:
        with transaction.atomic():
            Booking.objects.bulk_create(bookings)
    except IntegrityError as exc:  # the same device booked twice at the same moment
        raise ValidationError(_("Eines der Geräte wurde gerade schon gebucht. Bitte laden Sie "
                                "die Seite neu.")) from exc
    for booking in bookings:
        audit_event_record(actor=actor, action="booking.created", target=booking,
                           organisation=customer, ip=ip,
                           details={"plan": plan.code, "device": booking.device.serial_number,
                                    "price": str(booking.monthly_price),
                                    "active_from": str(booking.active_from),
                                    "on_behalf": on_behalf})
    notify(event="booking.created", actor=actor, customer=customer,
           context={"booking_ids": [b.pk for b in bookings], "on_behalf": on_behalf})
    return bookings


@transaction.atomic
def booking_change_tier(*, actor: User, booking: Booking, plan: Plan,
                        ip: str | None = None) -> Booking:
    """Upgrade or downgrade at once (002 § 19.7); the term continues from the first booking."""
    booking = (Booking.objects.select_for_update(of=("self",))
               .select_related("device", "contract").get(pk=booking.pk))
    on_behalf = require_booking_role(actor, booking.customer)
    if booking.state != BookingState.ACTIVE:
        raise ValidationError(_("Nur aktive Buchungen können die Stufe wechseln."))
    if plan.family != booking.family or plan.pk == booking.plan_id:
        raise ValidationError(_("Bitte wählen Sie eine andere Stufe derselben Produktfamilie."))
    problem = plan_offer_problem(booking.contract, plan)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    today = timezone.localdate(now)
    change = (BookingChange.UPGRADE if plan.monthly_price > booking.monthly_price
              else BookingChange.DOWNGRADE)
    booking.state = BookingState.ENDED
    booking.effective_end = today - timedelta(days=1)
    booking.save(update_fields=["state", "effective_end", "updated_at"])
    successor = Booking(customer=booking.customer, contract=booking.contract,
                        device=booking.device, booked_by=actor, on_behalf=on_behalf,
                        activated_at=now,
                        active_from=max(today, booking.active_from), term_start=booking.term_start,
                        min_term_end=booking.min_term_end, change=change, replaces=booking)
    _snapshot(successor, plan)
    successor.full_clean(validate_constraints=False)
    successor.save()
    audit_event_record(actor=actor, action=f"booking.{change}", target=successor,
                       organisation=booking.customer, ip=ip,
                       details={"from": booking.plan_name, "to": plan.name,
                                "device": booking.device.serial_number})
    notify(event="booking.tier_changed", actor=actor, customer=booking.customer,
           context={"booking_ids": [successor.pk], "previous_plan": booking.plan_name,
                    "on_behalf": on_behalf})
    return successor


@transaction.atomic
def booking_remove(*, actor: User, booking: Booking, ip: str | None = None) -> Booking:
    """Removing a service is its cancellation (000 § 12.1): it ends under its notice rule."""
    booking = (Booking.objects.select_for_update(of=("self",))
               .select_related("device", "contract").get(pk=booking.pk))
    on_behalf = require_booking_role(actor, booking.customer)
    today = timezone.localdate()
    refusal = booking_removal_refusal(booking, today=today)
    if refusal is not None:
        raise ValidationError(refusal)
    preview = removal_preview(booking, received=today)
    booking.state = BookingState.ENDING
    booking.removal_received = preview.received
    booking.removed_by = actor
    booking.effective_end = preview.effective_end
    booking.save(update_fields=["state", "removal_received", "removed_by", "effective_end",
                                "updated_at"])
    audit_event_record(actor=actor, action="booking.removed", target=booking,
                       organisation=booking.customer, ip=ip, details=_removal_details(preview))
    notify(event="booking.removed", actor=actor, customer=booking.customer,
           context={"booking_ids": [booking.pk], "on_behalf": on_behalf})
    last_bookings_removed(booking.contract, actor=actor)
    return booking


def last_bookings_removed(contract: Contract, *, actor: User | None) -> None:
    """After bookings of an active contract were cancelled: when none is active any more,
    the customer's services end with the last of them (``contracts.terminations``)."""
    if contract.status != ContractStatus.ACTIVE:
        return
    end = last_booking_end(contract)
    if end is not None:
        termination_registered(Termination(contract=contract, end=end, actor=actor,
                                           way=TerminationWay.LAST_BOOKING_REMOVED))


def booking_removal_refusal(booking: Booking, *, today: date) -> str | None:
    """Why ``booking`` cannot be removed (cancelled) on ``today``, or ``None`` if it can:
    it is already cancelled or ended, or its notice rule allows no ordinary cancellation
    (``portal.periods.notice_end`` says so). ``booking_remove`` refuses with it; pages offer
    "Entfernen" only where it is ``None``."""
    if booking.state == BookingState.ENDING:
        return _("Diese Leistung ist bereits gekündigt; sie endet am %(end)s.") % {
            "end": booking.effective_end.strftime("%d.%m.%Y")}
    if booking.state == BookingState.ENDED:
        return _("Diese Leistung ist bereits beendet.")
    try:
        notice_end(booking.notice_rule(), received=today, start=booking.term_start)
    except CancellationNotAllowed as exc:
        return str(exc)
    return None


def booking_withdrawal_refusal(booking: Booking, *, today: date) -> str | None:
    """Why the removal of ``booking`` cannot be taken back, or ``None`` if it can: while the
    booking still runs and its framework contract is not cancelled (by the customer or, for
    good cause, by the provider: no page offers to take that back). Reads
    ``booking.contract`` (load it with the booking)."""
    if (booking.state != BookingState.ENDING or booking.effective_end is None
            or booking.effective_end < today):
        return _("Hier gibt es keine Kündigung, die sich zurücknehmen lässt.")
    if booking.contract.status != ContractStatus.ACTIVE:
        if booking.contract.extraordinary:
            return _("Der Anbieter hat den Rahmenvertrag außerordentlich gekündigt; die "
                     "Kündigung dieser Leistung lässt sich nicht zurücknehmen. Bei Fragen "
                     "wenden Sie sich bitte an uns.")
        return _("Der Rahmenvertrag ist gekündigt; die Kündigung einzelner Leistungen lässt "
                 "sich deshalb nicht zurücknehmen. Soll der Vertrag weiterlaufen, wenden Sie "
                 "sich bitte an uns.")
    return None


def booking_is_withdrawable(booking: Booking, *, today: date) -> bool:
    """Whether ``booking_withdraw_removal`` would take the removal back (what pages offer)."""
    return booking_withdrawal_refusal(booking, today=today) is None


@transaction.atomic
def booking_withdraw_removal(*, actor: User, booking: Booking, ip: str | None = None
                             ) -> Booking:
    """Take a removal back before the service has ended; the booking simply continues."""
    booking = (Booking.objects.select_for_update(of=("self",)).select_related("contract")
               .get(pk=booking.pk))
    on_behalf = require_booking_role(actor, booking.customer)
    refusal = booking_withdrawal_refusal(booking, today=timezone.localdate())
    if refusal is not None:
        raise ValidationError(refusal)
    previous_end = booking.effective_end
    booking.state = BookingState.ACTIVE
    booking.removal_received = None
    booking.removed_by = None
    booking.effective_end = None
    booking.save(update_fields=["state", "removal_received", "removed_by", "effective_end",
                                "updated_at"])
    audit_event_record(actor=actor, action="booking.removal_withdrawn", target=booking,
                       organisation=booking.customer, ip=ip,
                       details={"previous_end": str(previous_end)})
    notify(event="booking.removal_withdrawn", actor=actor, customer=booking.customer,
           context={"booking_ids": [booking.pk], "previous_end": str(previous_end),
                    "on_behalf": on_behalf})
    return booking


def contract_cancellation_preview(contract: Contract, *, received: date | None = None) -> date:
    """The day the whole contract ends if cancelled on ``received``: with its last booking."""
    received = received or timezone.localdate()
    ends = [received]
    for booking in contract.bookings.filter(state__in=BookingState.RUNNING):
        ends.append(booking.effective_end if booking.state == BookingState.ENDING
                    else removal_preview(booking, received=received).effective_end)
    return max(ends)


@transaction.atomic
def contract_cancel(*, actor: User, contract: Contract, ip: str | None = None) -> Contract:
    """The customer cancels the framework contract: every booking ends under its own rule,
    and the contract ends with the last of them.

    One locked pass over the bookings rather than ``booking_remove`` per booking: the same
    few queries for 1 or 100 bookings, one audit event per booking, one summary e-mail."""
    contract = Contract.objects.select_for_update().select_related("customer").get(
        pk=contract.pk)
    on_behalf = require_booking_role(actor, contract.customer)
    if contract.status != ContractStatus.ACTIVE:
        raise ValidationError(_("Der Rahmenvertrag ist bereits gekündigt."))
    now = timezone.now()
    today = timezone.localdate(now)
    running = list(contract.bookings.select_for_update(of=("self",)).select_related("device")
                   .filter(state__in=BookingState.RUNNING)
                   .order_by("device__hostname", "pk"))
    removed = [booking for booking in running if booking.state == BookingState.ACTIVE]
    previews = [removal_preview(booking, received=today) for booking in removed]
    for booking, preview in zip(removed, previews, strict=True):
        booking.state = BookingState.ENDING
        booking.removal_received = preview.received
        booking.removed_by = actor
        booking.effective_end = preview.effective_end
        booking.updated_at = now
    Booking.objects.bulk_update(removed, ["state", "removal_received", "removed_by",
                                          "effective_end", "updated_at"])
    audit_events_record(actor=actor, action="booking.removed", targets=removed,
                        organisation=contract.customer, ip=ip,
                        details=[{**_removal_details(p), "contract_cancelled": True}
                                 for p in previews])
    contract.status = ContractStatus.ENDING
    contract.cancellation_received = today
    contract.cancelled_by = actor
    contract.effective_end = max([today, *(booking.effective_end for booking in running)])
    contract.purge_on = purge_schedule(contract_end=contract.effective_end).purge_on
    contract.save(update_fields=["status", "cancellation_received", "cancelled_by",
                                 "effective_end", "purge_on", "updated_at"])
    audit_event_record(actor=actor, action="contract.cancelled", target=contract,
                       organisation=contract.customer, ip=ip,
                       details={"effective_end": str(contract.effective_end),
                                "bookings_removed": len(removed)})
    notify(event="contract.cancelled", actor=actor, customer=contract.customer,
           context={"contract_id": contract.pk, "booking_ids": [b.pk for b in running],
                    "on_behalf": on_behalf})
    termination_registered(Termination(contract=contract, end=contract.effective_end,
                                       actor=actor, way=TerminationWay.CANCELLED))
    return contract


def booking_end_early(booking: Booking, *, end: date, actor: User, today: date) -> Booking:
    """End a locked, running ``booking`` on ``end`` outside its notice rule (extraordinary or
    special termination); a booking not yet active ends before it starts. The caller checks
    who may do it, audits and tells the customer."""
    booking.state = BookingState.ENDING
    booking.effective_end = max(end, booking.active_from - timedelta(days=1))
    booking.removal_received = booking.removal_received or today
    booking.removed_by = booking.removed_by or actor
    booking.save(update_fields=["state", "effective_end", "removal_received", "removed_by",
                                "updated_at"])
    return booking


@transaction.atomic
def contract_terminate_extraordinary(*, actor: User, contract: Contract, end: date,
                                     reason: str, ip: str | None = None) -> Contract:
    """Provider staff end a contract for good cause (e.g. 004 § 2.5) on a date they set."""
    if role_of(actor) not in PROVIDER_ROLES - {Role.DPO}:
        raise PermissionDenied(_("Nur Mitarbeiter des Anbieters dürfen außerordentlich "
                                 "kündigen."))
    if not reason.strip():
        raise ValidationError({"reason": _("Bitte geben Sie den Grund an.")})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status == ContractStatus.ENDED:
        raise ValidationError(_("Der Rahmenvertrag ist bereits beendet."))
    if end < timezone.localdate():
        raise ValidationError({"end": _("Das Vertragsende darf nicht in der Vergangenheit "
                                        "liegen.")})
    running = list(contract.bookings.select_for_update().filter(
        state__in=BookingState.RUNNING))
    for booking in running:
        if booking.effective_end is None or booking.effective_end > end:
            booking_end_early(booking, end=end, actor=actor, today=timezone.localdate())
    contract.status = ContractStatus.ENDING
    contract.extraordinary = True
    contract.cancellation_received = timezone.localdate()
    contract.cancelled_by = actor
    contract.cancellation_reason = reason.strip()
    contract.effective_end = end
    contract.purge_on = purge_schedule(contract_end=end).purge_on
    contract.save(update_fields=["status", "extraordinary", "cancellation_received",
                                 "cancelled_by", "cancellation_reason", "effective_end",
                                 "purge_on", "updated_at"])
    audit_event_record(actor=actor, action="contract.terminated", target=contract,
                       organisation=contract.customer, ip=ip,
                       details={"effective_end": str(end), "reason": reason.strip()})
    notify(event="contract.terminated", actor=actor, customer=contract.customer,
           context={"contract_id": contract.pk, "booking_ids": [b.pk for b in running]})
    termination_registered(Termination(contract=contract, end=end, actor=actor,
                                       way=TerminationWay.TERMINATED))
    return contract


@transaction.atomic
def contract_record_isa(*, actor: User, contract: Contract, isa_completed_on: date | None,
                        terms_version: str | None = None, ip: str | None = None) -> Contract:
    """Provider staff record the infrastructure analysis (ISA) and the terms version; nothing
    else of a contract is edited by hand."""
    if role_of(actor) not in PROVIDER_ROLES - {Role.DPO}:
        raise PermissionDenied(_("Nur Mitarbeiter des Anbieters dürfen Rahmenverträge "
                                 "ändern."))
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if isa_completed_on is not None and isa_completed_on > timezone.localdate():
        raise ValidationError({"isa_completed_on": _("Das Datum der Infrastrukturanalyse darf "
                                                     "nicht in der Zukunft liegen.")})
    changes = {}
    if contract.isa_completed_on != isa_completed_on:
        changes["isa_completed_on"] = [str(contract.isa_completed_on or ""),
                                       str(isa_completed_on or "")]
        contract.isa_completed_on = isa_completed_on
    if terms_version is not None:
        terms_version = terms_version.strip()
        if not terms_version:
            raise ValidationError({"terms_version": _("Bitte geben Sie die AGB-Version an.")})
        if contract.terms_version != terms_version:
            changes["terms_version"] = [contract.terms_version, terms_version]
            contract.terms_version = terms_version
    if changes:
        contract.save(update_fields=[*changes, "updated_at"])
        audit_event_record(actor=actor, action="contract.updated", target=contract,
                           organisation=contract.customer, ip=ip, details=changes)
    return contract


def contracts_end_due(*, today: date | None = None) -> dict[str, int]:
    """Daily job: bookings and contracts whose end has passed become "ended". Idempotent and
    safe when two workers run it at once (each row moves with a conditional update)."""
    today = today or timezone.localdate()
    ended = {"bookings": 0, "contracts": 0}
    due_bookings = Booking.objects.filter(state=BookingState.ENDING, effective_end__lt=today)
    for booking_id in list(due_bookings.values_list("pk", flat=True)):
        with transaction.atomic():
            moved = Booking.objects.filter(pk=booking_id, state=BookingState.ENDING,
                                           effective_end__lt=today).update(
                state=BookingState.ENDED, updated_at=timezone.now())
            if moved:
                booking = Booking.objects.select_related("customer").get(pk=booking_id)
                audit_event_record(actor=None, action="booking.ended", target=booking,
                                   organisation=booking.customer,
                                   details={"effective_end": str(booking.effective_end)})
                ended["bookings"] += 1
    ended["contracts"] += _contracts_without_bookings_end(today)
    due_contracts = Contract.objects.filter(status=ContractStatus.ENDING, effective_end__lt=today)
    for contract_id in list(due_contracts.values_list("pk", flat=True)):
        with transaction.atomic():
            moved = Contract.objects.filter(pk=contract_id, status=ContractStatus.ENDING,
                                            effective_end__lt=today).update(
                status=ContractStatus.ENDED, updated_at=timezone.now())
            if moved:
                contract = Contract.objects.select_related("customer").get(pk=contract_id)
                sessions = _end_customer_sessions(contract.customer)
                audit_event_record(actor=None, action="contract.ended", target=contract,
                                   organisation=contract.customer,
                                   details={"effective_end": str(contract.effective_end),
                                            "purge_on": str(contract.purge_on),
                                            "sessions_ended": sessions})
                ended["contracts"] += 1
    return ended


def _contracts_without_bookings_end(today: date) -> int:
    """Removing a service is its cancellation (000 § 12.1): when the last running booking of
    a contract has ended and nothing was booked again, the framework contract ends with it —
    on the last booking's end, with the purge date counted from there (the customer was told
    both when the removal was registered, contracts/terminations.py). Until then the removal
    can be withdrawn and the contract stays active."""
    bookings = Booking.objects.filter(contract=OuterRef("pk"))
    last_end = bookings.order_by("-effective_end").values("effective_end")[:1]
    due = (Contract.objects.filter(status=ContractStatus.ACTIVE)
           .filter(Exists(bookings), ~Exists(bookings.filter(state__in=BookingState.RUNNING)))
           .annotate(last_end=Subquery(last_end)).filter(last_end__lt=today))
    count = 0
    for contract_id, end in list(due.values_list("pk", "last_end")):
        with transaction.atomic():
            # The eight weeks to take the data out count from the day the end is recognised at
            # the latest: a contract whose last booking ended long ago (before this rule) is not
            # purged the next night.
            purge_on = max(purge_schedule(contract_end=end).purge_on,
                           purge_schedule(contract_end=today - timedelta(days=1)).purge_on)
            moved = Contract.objects.filter(pk=contract_id, status=ContractStatus.ACTIVE).update(
                status=ContractStatus.ENDED, effective_end=end, purge_on=purge_on,
                updated_at=timezone.now())
            if moved:
                contract = Contract.objects.select_related("customer").get(pk=contract_id)
                sessions = _end_customer_sessions(contract.customer)
                audit_event_record(actor=None, action="contract.ended", target=contract,
                                   organisation=contract.customer,
                                   details={"effective_end": str(end),
                                            "purge_on": str(contract.purge_on),
                                            "sessions_ended": sessions})
                count += 1
    return count


def _end_customer_sessions(customer: Organisation) -> int:
    """At the end of the contract every access of the customer's people ends (003 § 24.1):
    logins are refused from now on, and running sessions are ended here."""
    from portal.models import PersonSession

    people = User.objects.filter(memberships__organisation=customer).values("pk")
    return PersonSession.objects.filter(user_id__in=people).delete()[0]


def customer_access_ended(organisation: Organisation | None, *, today: date | None = None
                          ) -> bool:
    """Whether a customer's people may no longer log in: its contract has ended (003 § 24.1)."""
    if organisation is None or organisation.kind != OrganisationKind.CUSTOMER:
        return False
    return Contract.objects.filter(customer=organisation, status=ContractStatus.ENDED).exists()
