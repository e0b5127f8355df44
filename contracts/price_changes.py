"""Price changes of a plan (DOMAIN § 4; 002 § 5.5/§ 5.6, 003 § 4.7): announcing them, the
daily job that makes them effective, and the special termination after an objection.

Decisions (documented here and in the report):

* **Increase**: one change notice per customer with a booking of the plan that still runs on
  the effective date, of the kind the provider picks (``price_increase``: 4 weeks,
  ``price_change_2m``: 2 months). At most one increase per plan and calendar quarter, the
  quarter being that of the effective date (that is when the customer pays more).
* **Decrease**: no change notice. A notice is an offer to object, and nobody objects to paying
  less; the lower price simply applies to every running booking of the plan from the
  effective date (dated prices, visible on the contract page).
* **VAT only**: prices here are net, so a change of the VAT rate changes no price of ours. It
  is recorded (the date and a note, the net price unchanged) so billing can see that it was
  announced; the rate itself belongs to billing's effective-dated VAT table. No window, no
  notice, no dated booking price.
* **Effective date**: at the earliest the day after the objection deadline. A customer may
  object up to and including the deadline; a price that applied before then would bind a
  customer who can still reject it. (The kind's minimum lead, e.g. 2 months for
  ``price_change_2m``, is checked by the change-notice service as well.)
* **Booking.monthly_price** was the price at booking time; from a booking's first price
  change on it is the price in force, and ``BookingPrice`` holds the dated history (the booked
  price from the booking's start, then each change), so pages, totals and the contract PDF
  show the current price and billing reads the price of any day
  (``contracts.selectors.booking_price_on`` / ``booking_prices_on``).
* **Bookings made after the announcement**: the customers who received the notice get the
  new price on all their running bookings of the plan; customers who received none keep the
  price they booked at (they were told nothing). The catalogue price of the plan changes at
  the effective date, for new bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.models import (
    Booking,
    BookingPrice,
    BookingState,
    Plan,
    PlanPriceChange,
    PriceChangeKind,
    PriceChangeState,
    SpecialTerminationOffer,
)
from contracts.services import booking_end_early, last_bookings_removed, require_booking_role
from portal.change_notices.kinds import kind_get
from portal.change_notices.models import ChangeNotice, NoticeDecision
from portal.change_notices.services import change_notice_issue, change_notice_lead_refusal
from portal.models import Organisation, User
from portal.money import money
from portal.notifications.service import notify
from portal.periods import WorkCalendar, notice_end, objection_deadline
from portal.roles import PROVIDER_ROLES, Role
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

#: The notice kinds a provider may pick for an increase (contracts/plugins.py declares them).
PRICE_NOTICE_KINDS = ("price_increase", "price_change_2m")
#: 003 § 4.7: the special termination takes effect with 14 days' notice.
SPECIAL_TERMINATION_NOTICE = timedelta(days=14)
SUBJECT_TYPE = PlanPriceChange._meta.label_lower
ANNOUNCING_ROLES = PROVIDER_ROLES - {Role.DPO}


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def require_price_announcer(actor: User) -> None:
    if role_of(actor) not in ANNOUNCING_ROLES:
        raise PermissionDenied(_("Preisänderungen kündigt nur der Anbieter an."))


def price_change_bookings(plan: Plan, *, effective_on: date) -> QuerySet[Booking]:
    """The bookings of ``plan`` a change on ``effective_on`` concerns: running, and not ending
    before that day."""
    return Booking.objects.filter(plan=plan, state__in=BookingState.RUNNING).filter(
        Q(effective_end__isnull=True) | Q(effective_end__gte=effective_on))


def price_change_customers(plan: Plan, *, effective_on: date) -> QuerySet[Organisation]:
    ids = price_change_bookings(plan, effective_on=effective_on).values("customer_id")
    return Organisation.objects.filter(pk__in=ids).order_by("name", "pk")


@dataclass(frozen=True)
class PriceChangePreview:
    """What an announcement would do (the admin's confirmation page shows it)."""

    plan: Plan
    kind: str
    notice_kind: str
    old_price: Decimal
    new_price: Decimal
    effective_on: date
    announced_on: date
    deadline: date | None
    customers: int
    bookings: int


def _refusal(plan: Plan, *, kind: str, notice_kind: str, new_price: Decimal,
             effective_on: date, today: date, deadline: date | None) -> str | None:
    if new_price < 0:
        return _("Der Preis darf nicht negativ sein.")
    if kind == PriceChangeKind.VAT:
        if new_price != plan.monthly_price:
            return _("Bei einer reinen Umsatzsteueränderung bleibt der Nettopreis gleich "
                     "(%(price)s EUR). Ändert sich der Nettopreis, ist es eine Preiserhöhung "
                     "oder -senkung.") % {"price": plan.monthly_price}
    elif kind == PriceChangeKind.INCREASE and new_price <= plan.monthly_price:
        return _("Eine Preiserhöhung braucht einen höheren Preis als bisher (%(price)s EUR).") \
            % {"price": plan.monthly_price}
    elif kind == PriceChangeKind.DECREASE and new_price >= plan.monthly_price:
        return _("Eine Preissenkung braucht einen niedrigeren Preis als bisher "
                 "(%(price)s EUR).") % {"price": plan.monthly_price}
    if effective_on < today:
        return _("Eine Preisänderung kann nicht rückwirkend gelten.")
    if kind == PriceChangeKind.INCREASE:
        if notice_kind not in PRICE_NOTICE_KINDS:
            return _("Bitte wählen Sie die Art der Mitteilung.")
        earlier = (PlanPriceChange.objects.filter(plan=plan, kind=PriceChangeKind.INCREASE)
                   .order_by("-effective_on"))
        for change in earlier:
            if _quarter(change.effective_on) == _quarter(effective_on):
                year, quarter = _quarter(effective_on)
                return _("Für %(plan)s ist im Quartal %(quarter)d/%(year)d bereits eine "
                         "Preiserhöhung angekündigt (am %(announced)s, wirksam ab "
                         "%(effective)s, %(price)s EUR). Höchstens eine Erhöhung je Quartal ist "
                         "zulässig.") % {
                    "plan": plan.name, "quarter": quarter, "year": year,
                    "announced": _day(change.announced_on),
                    "effective": _day(change.effective_on), "price": change.new_price}
        lead = change_notice_lead_refusal(kind_get(notice_kind), received_on=today,
                                          effective_on=effective_on)
        if lead:
            return lead
        if effective_on <= deadline:
            return _("Die Preiserhöhung kann frühestens am Tag nach dem Ende der "
                     "Widerspruchsfrist (%(deadline)s) wirksam werden, also am %(earliest)s.") % {
                "deadline": _day(deadline), "earliest": _day(deadline + timedelta(days=1))}
    pending = PlanPriceChange.objects.filter(plan=plan, state=PriceChangeState.ANNOUNCED) \
        .exclude(kind=PriceChangeKind.VAT).first()
    if pending is not None and kind != PriceChangeKind.VAT:
        return _("Für %(plan)s ist bereits eine Preisänderung zum %(effective)s angekündigt; "
                 "eine weitere ist erst möglich, wenn sie wirksam geworden ist.") % {
            "plan": plan.name, "effective": _day(pending.effective_on)}
    return None


def plan_price_change_preview(*, plan: Plan, new_price: Decimal, effective_on: date, kind: str,
                              notice_kind: str = "", today: date | None = None
                              ) -> PriceChangePreview:
    """What announcing the change would do; refuses (``ValidationError``, German message) what
    ``plan_price_change_announce`` would refuse."""
    today = today or timezone.localdate()
    new_price = money(Decimal(new_price))
    notice_kind = notice_kind if kind == PriceChangeKind.INCREASE else ""
    deadline = None
    if notice_kind in PRICE_NOTICE_KINDS:
        deadline = objection_deadline(received=today,
                                      period=kind_get(notice_kind).current_window(),
                                      calendar=WorkCalendar.germany())
    refusal = _refusal(plan, kind=kind, notice_kind=notice_kind, new_price=new_price,
                       effective_on=effective_on, today=today, deadline=deadline)
    if refusal:
        raise ValidationError(refusal)
    bookings = price_change_bookings(plan, effective_on=effective_on)
    return PriceChangePreview(
        plan=plan, kind=kind, notice_kind=notice_kind, old_price=plan.monthly_price,
        new_price=new_price, effective_on=effective_on, announced_on=today, deadline=deadline,
        customers=bookings.values("customer_id").distinct().count(), bookings=bookings.count())


def _notice_text(change: PlanPriceChange) -> tuple[str, str]:
    with translation.override("de"):
        values = {"plan": change.plan.name, "day": _day(change.effective_on),
                  "old": change.old_price, "new": change.new_price}
        title = _("Preisänderung %(plan)s ab %(day)s") % values
        text = _("Der monatliche Nettopreis von %(plan)s steigt ab dem %(day)s von %(old)s EUR "
                 "auf %(new)s EUR (zuzüglich der jeweils geltenden Umsatzsteuer). Die Änderung "
                 "gilt für alle laufenden Buchungen dieser Leistung.") % values
        if change.note:
            text = f"{text}\n\n{change.note.strip()}"
    return title, text


@transaction.atomic
def plan_price_change_announce(*, actor: User, plan: Plan, new_price: Decimal,
                               effective_on: date, kind: str,
                               notice_kind: str = "price_increase", note: str = ""
                               ) -> PlanPriceChange:
    """Announce a new net price of ``plan`` from ``effective_on``.

    An increase sends a change notice of ``notice_kind`` to every customer with a booking of
    the plan that still runs then. ``effective_on`` must lie after the objection deadline:
    the customer may object until the end of the deadline, and a price must not bind anyone
    who may still reject it. The plan row is locked, so two announcements at once cannot both
    pass the once-per-quarter rule."""
    require_price_announcer(actor)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    preview = plan_price_change_preview(plan=plan, new_price=new_price,
                                        effective_on=effective_on, kind=kind,
                                        notice_kind=notice_kind)
    change = PlanPriceChange(
        plan=plan, kind=kind, notice_kind=preview.notice_kind, old_price=plan.monthly_price,
        new_price=preview.new_price, effective_on=effective_on,
        announced_on=preview.announced_on, announced_by=actor, deadline=preview.deadline,
        note=(note or "").strip())
    change.full_clean()
    change.save()
    notices = []
    if kind == PriceChangeKind.INCREASE:
        title, text = _notice_text(change)
        notices = change_notice_issue(
            actor=actor, kind=preview.notice_kind,
            customers=price_change_customers(plan, effective_on=effective_on), title=title,
            text=text, subject=change, effective_on=effective_on, sent_on=preview.announced_on)
    audit_event_record(actor=actor, action="plan.price_change_announced", target=change,
                       details={"plan": plan.code, "kind": kind,
                                "notice_kind": preview.notice_kind,
                                "old_price": str(change.old_price),
                                "new_price": str(change.new_price),
                                "effective_on": effective_on.isoformat(),
                                "deadline": preview.deadline.isoformat()
                                if preview.deadline else "",
                                "notices": len(notices)})
    return change


# --- At the effective date ----------------------------------------------------------------------

def _dated_prices(change: PlanPriceChange, bookings, notices: dict) -> list[Booking]:
    """Give ``bookings`` the new price from the effective date. A booking's first change also
    records the price it was booked at, from its start, so its dated prices cover every day;
    ``Booking.monthly_price`` then holds the price in force (what every page shows)."""
    bookings = list(bookings)
    dated_before = set(BookingPrice.objects.filter(booking__in=bookings)
                       .values_list("booking_id", flat=True))
    rows = [BookingPrice(booking=booking, customer_id=booking.customer_id,
                         valid_from=booking.active_from, monthly_price=booking.monthly_price,
                         price_change=change)
            for booking in bookings
            if booking.pk not in dated_before and booking.active_from < change.effective_on]
    rows += [BookingPrice(booking=booking, customer_id=booking.customer_id,
                          valid_from=change.effective_on, monthly_price=change.new_price,
                          price_change=change, notice=notices.get(booking.customer_id))
             for booking in bookings]
    BookingPrice.objects.bulk_create(rows)
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        monthly_price=change.new_price, updated_at=timezone.now())
    return bookings


def _apply(change: PlanPriceChange, today: date) -> dict[str, int]:
    bookings = price_change_bookings(change.plan, effective_on=change.effective_on) \
        .order_by("pk")
    offers = []
    if change.kind == PriceChangeKind.INCREASE:
        notices = list(ChangeNotice.objects.filter(subject_type=SUBJECT_TYPE,
                                                   subject_id=str(change.pk)))
        # The deadline lies before the effective date: an open notice counts as accepted.
        agreed = {n.customer_id: n for n in notices if n.decision != NoticeDecision.OBJECTED}
        priced = _dated_prices(change, bookings.filter(customer_id__in=agreed), agreed)
        offers = SpecialTerminationOffer.objects.bulk_create(
            SpecialTerminationOffer(price_change=change, notice=notice,
                                    customer_id=notice.customer_id, offered_on=today,
                                    customer_may_terminate=change.notice_kind
                                    == "price_change_2m")
            for notice in notices if notice.decision == NoticeDecision.OBJECTED)
    elif change.kind == PriceChangeKind.DECREASE:
        priced = _dated_prices(change, bookings, {})
    else:
        priced = []
    if change.kind != PriceChangeKind.VAT:
        Plan.objects.filter(pk=change.plan_id).update(monthly_price=change.new_price,
                                                      updated_at=timezone.now())
    for offer in offers:
        audit_event_record(actor=None, action="price_change.termination_offered", target=offer,
                           organisation=offer.customer,
                           details={"plan": change.plan.code,
                                    "effective_on": change.effective_on.isoformat(),
                                    "customer_may_terminate": offer.customer_may_terminate})
        notify(event="price_change.termination_offered", customer=offer.customer,
               context={"offer_id": offer.pk})
    change.state = PriceChangeState.APPLIED
    change.applied_at = timezone.now()
    change.save(update_fields=["state", "applied_at"])
    audit_event_record(actor=None, action="plan.price_change_applied", target=change,
                       details={"plan": change.plan.code, "bookings_repriced": len(priced),
                                "objections": len(offers)})
    return {"bookings": len(priced), "offers": len(offers)}


def plan_price_changes_apply(*, today: date | None = None) -> dict[str, int]:
    """Daily job: every announced change whose effective date has come takes effect.
    Idempotent; with two workers each change is applied once (its row is locked and its
    state checked again inside the transaction; one dated price per booking and day)."""
    today = today or timezone.localdate()
    done = {"changes": 0, "bookings": 0, "offers": 0}
    due = PlanPriceChange.objects.filter(state=PriceChangeState.ANNOUNCED,
                                         effective_on__lte=today)
    for pk in list(due.order_by("effective_on", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            change = (PlanPriceChange.objects.select_for_update().select_related("plan")
                      .filter(pk=pk, state=PriceChangeState.ANNOUNCED).first())
            if change is None:
                continue
            counts = _apply(change, today)
            done["changes"] += 1
            done["bookings"] += counts["bookings"]
            done["offers"] += counts["offers"]
    return done


# --- The special termination after an objection -------------------------------------------------

def special_termination_bookings(offer: SpecialTerminationOffer) -> QuerySet[Booking]:
    """The customer's bookings that kept the old price: those of the plan still running."""
    return Booking.objects.filter(customer_id=offer.customer_id, plan_id=offer.price_change
                                  .plan_id, state__in=BookingState.RUNNING)


def special_termination_end(offer: SpecialTerminationOffer, booking: Booking, *,
                            today: date) -> date:
    """The last day of ``booking`` if the special termination is declared on ``today``.

    ``price_change_2m`` (003 § 4.7): 14 days' notice to the change date, so the services end
    the day before the change took effect, or 14 days after the declaration when that is
    later. ``price_increase`` (002 § 5.6): the old prices continue and the provider may end
    the services with its own notice period and anchor (the plan's provider rule,
    ``portal.periods``); being a special right, it is not bound to the minimum term, except
    where the anchor is the term end itself.
    """
    if offer.customer_may_terminate:
        return max(offer.price_change.effective_on - timedelta(days=1),
                   today + SPECIAL_TERMINATION_NOTICE)
    rule = booking.plan.provider_rule()
    if rule.anchor != "term_end":
        rule = replace(rule, min_term=None)
    return notice_end(rule, received=today, start=booking.term_start)


def special_termination_refusal(offer: SpecialTerminationOffer, actor: User) -> str | None:
    if offer.exercised_at is not None:
        return _("Das Sonderkündigungsrecht wurde bereits am %(day)s ausgeübt.") % {
            "day": _day(timezone.localdate(offer.exercised_at))}
    return None


@transaction.atomic
def special_termination_exercise(*, actor: User, offer: SpecialTerminationOffer,
                                 ip: str | None = None) -> list[Booking]:
    """Carry out the special termination of ``offer``: every booking of the plan that kept the
    old price ends on its special-termination end (``special_termination_end``), through the
    same early end as the extraordinary contract termination. For ``price_change_2m`` the
    customer (or who books for it) and the provider may declare it, for ``price_increase``
    only the provider."""
    offer = (SpecialTerminationOffer.objects.select_for_update()
             .select_related("price_change__plan", "customer").get(pk=offer.pk))
    if role_of(actor) not in ANNOUNCING_ROLES:
        if not offer.customer_may_terminate:
            raise PermissionDenied(_("Dieses Sonderkündigungsrecht hat nur der Anbieter."))
        require_booking_role(actor, offer.customer)
    refusal = special_termination_refusal(offer, actor)
    if refusal:
        raise ValidationError(refusal)
    today = timezone.localdate()
    bookings = list(special_termination_bookings(offer).select_for_update(of=("self",))
                    .select_related("plan").order_by("pk"))
    ended = []
    for booking in bookings:
        end = special_termination_end(offer, booking, today=today)
        if booking.effective_end is None or booking.effective_end > end:
            booking_end_early(booking, end=end, actor=actor, today=today)
            ended.append(booking)
    offer.exercised_at = timezone.now()
    offer.exercised_by = actor
    offer.end = max((b.effective_end for b in ended), default=None)
    offer.save(update_fields=["exercised_at", "exercised_by", "end"])
    audit_event_record(actor=actor, action="price_change.special_termination", target=offer,
                       organisation=offer.customer, ip=ip,
                       details={"plan": offer.price_change.plan.code,
                                "effective_end": str(offer.end or ""),
                                "bookings": [b.pk for b in ended]})
    if ended:
        notify(event="price_change.special_termination", actor=actor, customer=offer.customer,
               context={"booking_ids": [b.pk for b in ended],
                        "on_behalf": role_of(actor) != Role.CUSTOMER_ADMIN})
        last_bookings_removed(ended[0].contract, actor=actor)
    return ended
