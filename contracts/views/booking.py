"""Book a plan for devices, remove a booking (= cancel it), withdraw a removal, change tier.

Every write is a POST after a confirmation page that shows the dates the rules give; the
services decide and check the role again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from contracts.forms import UNKNOWN_PLAN, BookingForm, TierForm
from contracts.models import BookingState, Plan
from contracts.selectors import bookable_devices, contract_of
from contracts.services import (
    booking_change_tier,
    booking_create,
    booking_quote,
    booking_remove,
    booking_withdraw_removal,
    contract_booking_problem,
    removal_preview,
)
from contracts.views.common import (
    CUSTOMER_PARAM,
    booking_or_404,
    contract_url,
    customer_for,
    pick_customer,
    picks_customer,
    require_actor,
    safe_next,
)
from portal.http import client_ip


def _day(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _contract_problem(user, customer, plan: Plan) -> str | None:
    """What stops a booking before the customer confirms (the service checks it again)."""
    return contract_booking_problem(contract_of(user, customer), plan)


@login_required
@require_http_methods(["GET", "POST"])
def book(request):
    """Choose a plan and devices (GET ?plan=), see the quote (POST), confirm (POST confirm)."""
    user = request.user
    require_actor(user)
    customer = customer_for(request)
    if customer is None:
        return pick_customer(request, action=reverse("contracts:book"),
                             extra={"plan": request.GET.get("plan", "")})

    if request.method == "POST":
        form = BookingForm(request.POST, actor=user, customer=customer)
        if form.is_valid():
            plan = form.cleaned_data["plan"]
            devices = list(form.cleaned_data["devices"])
            problem = _contract_problem(user, customer, plan)
            if problem:
                form.add_error(None, problem)
            elif "confirm" in request.POST:
                try:
                    bookings = booking_create(actor=user, customer=customer, plan=plan,
                                              devices=devices, ip=client_ip(request))
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                else:
                    messages.success(request, ngettext(
                        "%(plan)s ist für %(count)d Gerät gebucht und ab %(start)s aktiv. "
                        "Die Bestätigung erhalten Sie auch per E-Mail.",
                        "%(plan)s ist für %(count)d Geräte gebucht und ab %(start)s aktiv. "
                        "Die Bestätigung erhalten Sie auch per E-Mail.", len(bookings))
                        % {"plan": plan.name, "count": len(bookings),
                           "start": _day(bookings[0].active_from)})
                    return redirect(contract_url(user, customer))
            else:
                return render(request, "contracts/book_confirm.html", {
                    "form": form, "customer": customer,
                    "show_customer": picks_customer(user), "param": CUSTOMER_PARAM,
                    "quote": booking_quote(plan=plan, devices=devices),
                })
        plan = form.cleaned_data.get("plan") if hasattr(form, "cleaned_data") else None
    else:
        code = request.GET.get("plan", "")
        plan = Plan.objects.filter(is_active=True, code=code).first()
        if code and plan is None:
            messages.error(request, UNKNOWN_PLAN)
        form = BookingForm(initial={"plan": plan}, actor=user, customer=customer)
    if plan is not None:
        # The choices: what can take the plan (the same rule the form and service check).
        form.fields["devices"].queryset = bookable_devices(user, customer, plan)
    return render(request, "contracts/book.html", {
        "form": form, "plan": plan, "customer": customer, "param": CUSTOMER_PARAM,
        "show_customer": picks_customer(user),
        "plans": Plan.objects.filter(is_active=True).order_by("family", "sort_order",
                                                             "monthly_price"),
        "contract_problem": _contract_problem(user, customer, plan) if plan else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def remove(request, pk: int):
    """Show the exact end and last billed month (GET); remove the booking (POST)."""
    user = request.user
    require_actor(user)
    booking = booking_or_404(request, pk)
    back = safe_next(request, contract_url(user, booking.customer))
    if booking.state != BookingState.ACTIVE:
        messages.info(request, _("Diese Leistung ist bereits gekündigt oder beendet."))
        return redirect(back)
    if request.method == "POST":
        try:
            booking = booking_remove(actor=user, booking=booking, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(plan)s für %(device)s ist gekündigt und endet am "
                                        "%(end)s.")
                             % {"plan": booking.plan_name, "device": booking.device.hostname,
                                "end": _day(booking.effective_end)})
        return redirect(back)
    try:
        preview = removal_preview(booking)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return render(request, "contracts/remove.html", {
        "booking": booking, "preview": preview, "back": back,
    })


@login_required
@require_POST
def withdraw(request, pk: int):
    """Take a removal back while the booking is still running."""
    user = request.user
    require_actor(user)
    booking = booking_or_404(request, pk)
    back = safe_next(request, contract_url(user, booking.customer))
    try:
        booking_withdraw_removal(actor=user, booking=booking, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Die Kündigung von %(plan)s für %(device)s ist "
                                    "zurückgenommen; die Leistung läuft weiter.")
                         % {"plan": booking.plan_name, "device": booking.device.hostname})
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def change_tier(request, pk: int):
    """Choose another tier (GET), see the change (POST), confirm it (POST confirm)."""
    user = request.user
    require_actor(user)
    booking = booking_or_404(request, pk)
    back = safe_next(request, contract_url(user, booking.customer))
    if booking.state != BookingState.ACTIVE:
        messages.info(request, _("Nur aktive Buchungen können die Stufe wechseln."))
        return redirect(back)
    form = TierForm(request.POST if request.method == "POST" else None, booking=booking)
    if request.method == "POST" and form.is_valid():
        plan = form.cleaned_data["plan"]
        if "confirm" in request.POST:
            try:
                successor = booking_change_tier(actor=user, booking=booking, plan=plan,
                                                ip=client_ip(request))
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("%(device)s hat ab %(start)s %(plan)s.")
                                 % {"device": booking.device.hostname, "plan": successor.plan_name,
                                    "start": _day(successor.active_from)})
                return redirect(back)
        else:
            return render(request, "contracts/tier_confirm.html", {
                "booking": booking, "plan": plan, "back": back,
                "difference": plan.monthly_price - booking.monthly_price,
            })
    return render(request, "contracts/tier.html", {
        "booking": booking, "form": form, "back": back,
    })
