"""Reads of contracts and bookings for the portal; every query starts from ``visible_to``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from contracts.bookability import bookable
from contracts.catalogue import AV_MANAGEMENT
from contracts.models import (
    Booking,
    BookingPrice,
    BookingState,
    Contract,
    ContractStatus,
    PlanFamily,
    SpecialTerminationOffer,
)
from contracts.price_changes import special_termination_bookings, special_termination_end
from contracts.services import booking_is_withdrawable, booking_removal_refusal
from devices.models import Device
from portal.models import Organisation
from portal.money import money
from portal.periods import add_months, billed_months, month_end
from portal.roles import OrganisationKind

Month = tuple[int, int]


def running_bookings(user) -> QuerySet[Booking]:
    """The user's visible bookings that are running (active, or cancelled but not yet ended)."""
    return Booking.objects.visible_to(user).filter(state__in=BookingState.RUNNING)


def monthly_cost_projection(user, *, today: date | None = None,
                            months: int = 12) -> list[tuple[Month, Decimal]]:
    """Net monthly recurring cost of the user's running bookings, for the current month and
    the next ``months`` months (``months + 1`` entries, oldest first).

    Full-month billing (``portal.periods.billed_months``, 000 § 7): a booking costs its
    snapshot price in every month with at least one active day. One query, which adds up the
    prices of bookings that run over the same days; the rest is O(distinct start and end days
    × months) in Python.
    """
    if months < 0:
        raise ValueError("months cannot be negative.")
    today = today or timezone.localdate()
    window_start = today.replace(day=1)
    window_end = month_end(add_months(window_start, months))
    totals: dict[Month, Decimal] = {}
    for offset in range(months + 1):
        first = add_months(window_start, offset)
        totals[(first.year, first.month)] = Decimal("0.00")
    rows = (running_bookings(user)
            .filter(Q(effective_end__isnull=True) | Q(effective_end__gte=window_start),
                    active_from__lte=window_end)
            .order_by()
            .values("active_from", "effective_end")
            .annotate(price=Sum("monthly_price"))
            .values_list("price", "active_from", "effective_end"))
    for group_price, active_from, effective_end in rows:
        price = money(group_price)  # the database's sum, to the cent (SQLite adds floats)
        # Months before the window do not matter: start there to keep the work per row
        # bounded by the window, however old the bookings are.
        start = max(active_from, window_start)
        if effective_end is not None and effective_end < start:
            continue  # ended before the window, or cancelled before it began (never active)
        for month in billed_months(active_from=start, active_until=effective_end,
                                   through=window_end):
            totals[month] += price
    return list(totals.items())


def _has_running_booking(user) -> Exists:
    """Whether the device of the outer query has a running booking the user sees."""
    return Exists(Booking.objects.visible_to(user).filter(device_id=OuterRef("pk"),
                                                          state__in=BookingState.RUNNING))


def av_managed() -> Exists:
    """Whether the device of the outer query is under anti-virus management: it has a
    running booking of the anti-virus family or of a plan that includes it (Server Plus and
    Premium). Registered as ``devices.coverage`` (contracts/plugins.py); correlated to a
    device row the outer query already scoped with ``visible_to``."""
    includes_av = Q(family=PlanFamily.ANTIVIRUS) | Q(
        plan__features__icontains=json.dumps(AV_MANAGEMENT))  # the list's element, quoted
    return Exists(Booking.objects.filter(includes_av, device_id=OuterRef("pk"),
                                         state__in=BookingState.RUNNING))


def devices_without_service(user) -> QuerySet[Device]:
    """Active devices the user sees that have no running booking (of any product family)."""
    return (Device.objects.visible_to(user)
            .filter(retired_at__isnull=True)
            .filter(~_has_running_booking(user))
            .order_by("hostname", "pk"))


def bookings_ending_soon(user, days: int = 60, *, today: date | None = None
                         ) -> QuerySet[Booking]:
    """Cancelled bookings that end within the next ``days`` days (today included), soonest
    first, with their device."""
    today = today or timezone.localdate()
    return (Booking.objects.visible_to(user)
            .filter(state=BookingState.ENDING, effective_end__gte=today,
                    effective_end__lte=today + timedelta(days=days))
            .select_related("device")
            .order_by("effective_end", "device__hostname", "pk"))


def contract_of(user, customer) -> Contract | None:
    """The framework contract of ``customer`` if the user may see it."""
    return Contract.objects.visible_to(user).filter(customer=customer).first()


#: The order of the contract page's booking list: by state, then by device.
CONTRACT_BOOKING_ORDER = ("state", "device__hostname", "pk")
#: The snapshot fields a booking's notice rule is made of (``NoticeTerms``).
NOTICE_TERM_FIELDS = ("notice", "notice_anchor", "min_term", "renewal", "cap_at_term_length")


@dataclass(frozen=True)
class ContractSummary:
    """What the contract page says about all the bookings of a contract, whatever page of the
    list it shows."""

    running: int
    monthly_total: Decimal
    #: One running booking per plan name (the first in the list's order), with the snapshot of
    #: its notice rule.
    rule_bookings: list[Booking]


def contract_bookings(user, contract) -> QuerySet[Booking]:
    """Every booking of ``contract`` the user sees, in the contract page's order."""
    return (Booking.objects.visible_to(user).filter(contract=contract)
            .order_by(*CONTRACT_BOOKING_ORDER))


#: What a row of the contract page's list shows (``booking_rows`` adds its links).
#: ``term_start`` and the notice terms: whether a row may be removed (``booking_rows``).
CONTRACT_LIST_FIELDS = ("plan_name", "monthly_price", "active_from", "min_term_end", "state",
                        "effective_end", "term_start", *NOTICE_TERM_FIELDS, "contract__status",
                        "contract__extraordinary", "device__hostname")


def contract_booking_list(user, contract) -> QuerySet[Booking]:
    """``contract_bookings`` with their devices, only with the columns the list shows."""
    return (contract_bookings(user, contract).select_related("device", "contract")
            .only(*CONTRACT_LIST_FIELDS))


def contract_summary(user, contract) -> ContractSummary:
    """Running bookings of ``contract``: how many, their net sum per month, and the notice rule
    of every plan among them, over all bookings (two queries, whatever their number)."""
    running = contract_bookings(user, contract).filter(state__in=BookingState.RUNNING)
    totals = running.aggregate(count=Count("pk"),
                               monthly=Sum("monthly_price", default=Decimal("0")))
    firsts = (running
              .annotate(place=Window(RowNumber(), partition_by="plan_name",
                                     order_by=CONTRACT_BOOKING_ORDER))
              .filter(place=1)
              .only("plan_name", *NOTICE_TERM_FIELDS))
    return ContractSummary(running=totals["count"], monthly_total=totals["monthly"],
                           rule_bookings=list(firsts))


#: The badge of a booking's or a contract's state on every page (running: ok, cancelled:
#: warning, ended: plain).
STATE_BADGES = {BookingState.ACTIVE: "badge--ok", BookingState.ENDING: "badge--warn"}
CONTRACT_BADGES = {ContractStatus.ACTIVE: "badge--ok", ContractStatus.ENDING: "badge--warn"}


def booking_rows(bookings: Iterable[Booking], *, may_act: bool, back: str) -> list[Booking]:
    """The bookings of a list with what their rows show, worked out once per list so that
    templates decide nothing: the state's label and badge (``state_label``,
    ``state_badge``), the device's page (``device_url``) and, for a person who may book and
    cancel (``may_act``), what the services allow on the booking as it stands:
    ``may_change_tier`` while it is active, ``may_remove`` where ``booking_remove`` would
    cancel it (``booking_removal_refusal``: not for a plan that rules out cancelling),
    ``may_withdraw`` where ``booking_withdraw_removal`` would take the removal back
    (``booking_is_withdrawable``), each with its link (``change_tier_url``, ``remove_url``,
    ``withdraw_url``; empty otherwise). The links come back to ``back``
    (``contracts/_booking_actions.html``).
    The bookings come with their contract (``select_related``): withdrawing needs its state.
    """
    labels = {state: str(label) for state, label in BookingState.choices}
    come_back = f"?next={quote(back, safe='/')}"
    rows = list(bookings)
    today = timezone.localdate()
    for booking in rows:
        booking.state_label = labels.get(booking.state, booking.state)
        booking.state_badge = STATE_BADGES.get(booking.state, "")
        booking.device_url = reverse("devices:detail", args=[booking.device_id])
        active = may_act and booking.state == BookingState.ACTIVE
        booking.may_change_tier = active
        booking.may_remove = active and booking_removal_refusal(booking, today=today) is None
        booking.may_withdraw = may_act and booking_is_withdrawable(booking, today=today)
        booking.change_tier_url = (reverse("contracts:change_tier", args=[booking.pk])
                                   + come_back if active else "")
        booking.remove_url = (reverse("contracts:remove", args=[booking.pk]) + come_back
                              if booking.may_remove else "")
        booking.withdraw_url = (reverse("contracts:withdraw", args=[booking.pk])
                                if booking.may_withdraw else "")
    return rows


@dataclass(frozen=True)
class ContractFlags:
    """What the contract page shows and offers for the contract as it stands."""

    badge: str
    may_book: bool
    may_cancel: bool


def contract_flags(contract: Contract | None, *, may_act: bool) -> ContractFlags:
    """Booking is open while there is no contract yet (the first booking makes it) or it is
    active; cancelling only an active one (``contract_cancel`` refuses the rest)."""
    active = contract is not None and contract.status == ContractStatus.ACTIVE
    return ContractFlags(badge=CONTRACT_BADGES.get(contract.status, "") if contract else "",
                         may_book=may_act and (contract is None or active),
                         may_cancel=may_act and active)


def bookable_devices(user, customer, plan) -> QuerySet[Device]:
    """The customer's devices the user sees that can take ``plan`` (``contracts.bookability``,
    the rule ``booking_create`` checks too): what the booking page offers."""
    devices = Device.objects.visible_to(user).filter(customer=customer)
    return bookable(plan, devices).order_by("hostname")


# --- Dated prices (billing reads these) ------------------------------------------------------

def booking_price_on(booking: Booking, day: date) -> Decimal:
    """The net monthly price of ``booking`` on ``day``: the latest dated price valid from
    that day or earlier (``BookingPrice``, once a price change took effect), else
    ``Booking.monthly_price`` (a booking never repriced). One query."""
    dated = (BookingPrice.objects.filter(booking=booking, valid_from__lte=day)
             .order_by("-valid_from").values_list("monthly_price", flat=True).first())
    return booking.monthly_price if dated is None else dated


def booking_prices_on(bookings: Iterable[Booking], day: date) -> dict[int, Decimal]:
    """``booking_price_on`` for many bookings at once, by booking pk: one query however many
    bookings (billing's monthly run)."""
    bookings = list(bookings)
    prices = {booking.pk: booking.monthly_price for booking in bookings}
    dated = (BookingPrice.objects.filter(booking_id__in=prices, valid_from__lte=day)
             .order_by("booking_id", "valid_from").values_list("booking_id", "monthly_price"))
    for booking_id, price in dated:  # ascending, so the latest valid row wins
        prices[booking_id] = price
    return prices


# --- The special termination after an objection to a price change -------------------------------

@dataclass(frozen=True)
class TerminationOffer:
    """An open special termination right, as the contract page and the e-mail show it."""

    offer: SpecialTerminationOffer
    bookings: list[Booking]
    end: date | None  # the latest end if declared today
    customer_may_terminate: bool


def _offer_view(offer: SpecialTerminationOffer, today: date) -> TerminationOffer:
    bookings = list(special_termination_bookings(offer).select_related("device", "plan")
                    .order_by("device__hostname", "pk"))
    ends = [special_termination_end(offer, booking, today=today) for booking in bookings]
    return TerminationOffer(offer=offer, bookings=bookings, end=max(ends, default=None),
                            customer_may_terminate=offer.customer_may_terminate)


def special_termination_offers(user, customer, *, today: date | None = None
                               ) -> list[TerminationOffer]:
    """The open special termination rights of ``customer`` that ``user`` may see (for the
    contract page: a non-empty list is the flag)."""
    today = today or timezone.localdate()
    offers = (SpecialTerminationOffer.objects.visible_to(user)
              .filter(customer=customer, exercised_at__isnull=True)
              .select_related("price_change__plan").order_by("-offered_on", "pk"))
    return [_offer_view(offer, today) for offer in offers]


def special_termination_offer_context(offer_id: int) -> dict:
    """What the e-mail offering the special termination shows."""
    offer = SpecialTerminationOffer.objects.select_related("price_change__plan").get(
        pk=offer_id)
    view = _offer_view(offer, timezone.localdate())
    return {"offer": offer, "change": offer.price_change, "bookings": view.bookings,
            "end": view.end, "customer_may_terminate": offer.customer_may_terminate}


def customers_with_running_contract() -> QuerySet[Organisation]:
    """The customers whose contract has not ended (active, or cancelled but still running):
    the recipients of a change notice to all customers (a terms change, a sub-processor
    change). The provider's view, not one person's: the notices go to every such customer."""
    return (Organisation.objects.filter(kind=OrganisationKind.CUSTOMER,
                                        contract__status__in=[ContractStatus.ACTIVE,
                                                              ContractStatus.ENDING])
            .order_by("name", "pk"))
