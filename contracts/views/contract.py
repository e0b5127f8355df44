"""The framework contract: its bookings and rules, and its cancellation."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from contracts.models import Booking, BookingState, Contract, ContractStatus
from contracts.services import contract_cancel, contract_cancellation_preview, money
from contracts.templatetags.contract_terms import notice_words
from contracts.views.common import (
    CUSTOMER_PARAM,
    can_act,
    contract_url,
    customer_for,
    picks_customer,
    require_actor,
    visible_customers,
    with_customer,
)
from portal.http import client_ip

RUNNING = (BookingState.ACTIVE, BookingState.ENDING)


def _pick(request, action: str):
    return render(request, "contracts/pick_customer.html", {
        "customers": visible_customers(request.user), "action": action, "extra": {},
        "param": CUSTOMER_PARAM,
    })


@login_required
@require_GET
def contract_detail(request):
    user = request.user
    customer = customer_for(request)
    if customer is None:
        return _pick(request, reverse("contracts:contract"))
    contract = Contract.objects.visible_to(user).filter(customer=customer).first()
    bookings = []
    if contract is not None:
        bookings = list(Booking.objects.visible_to(user).filter(contract=contract)
                        .select_related("device").order_by("state", "device__hostname", "pk"))
    rules: dict[str, str] = {}
    for booking in bookings:
        if booking.state in RUNNING:
            rules.setdefault(booking.plan_name, notice_words(booking))
    return render(request, "contracts/contract.html", {
        "customer": customer,
        "show_customer": picks_customer(user),
        "contract": contract,
        "bookings": bookings,
        "rules": sorted(rules.items()),
        "monthly_total": money(sum((b.monthly_price for b in bookings if b.state in RUNNING),
                                   start=Decimal("0"))),
        "running": sum(1 for b in bookings if b.state in RUNNING),
        "can_act": can_act(user),
        "book_url": with_customer(reverse("contracts:book"), user, customer),
        "catalogue_url": with_customer(reverse("contracts:catalogue"), user, customer),
        "cancel_url": with_customer(reverse("contracts:cancel"), user, customer),
        "here": contract_url(user, customer),
    })


@login_required
@require_http_methods(["GET", "POST"])
def contract_cancel_view(request):
    """Show the day the whole contract ends (GET); cancel it (POST)."""
    user = request.user
    require_actor(user)
    customer = customer_for(request)
    if customer is None:
        return _pick(request, reverse("contracts:cancel"))
    contract = Contract.objects.visible_to(user).filter(customer=customer).first()
    if contract is None:
        raise Http404(_("Es gibt noch keinen Rahmenvertrag."))
    back = contract_url(user, customer)
    if contract.status != ContractStatus.ACTIVE:
        messages.info(request, _("Der Rahmenvertrag ist bereits gekündigt."))
        return redirect(back)
    if request.method == "POST":
        try:
            contract = contract_cancel(actor=user, contract=contract, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Der Rahmenvertrag ist gekündigt und endet am %(end)s.")
                             % {"end": date_format(contract.effective_end, "SHORT_DATE_FORMAT")})
        return redirect(back)
    return render(request, "contracts/cancel.html", {
        "contract": contract, "customer": customer, "show_customer": picks_customer(user),
        "effective_end": contract_cancellation_preview(contract),
        "running": contract.bookings.filter(state__in=RUNNING).count(),
        "back": back, "param": CUSTOMER_PARAM,
    })
