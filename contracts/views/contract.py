"""The framework contract: its bookings and rules, and its cancellation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from contracts.models import ContractStatus, SpecialTerminationOffer
from contracts.price_changes import special_termination_exercise
from contracts.selectors import (
    booking_rows,
    contract_booking_list,
    contract_flags,
    contract_of,
    contract_summary,
    running_bookings,
    special_termination_offers,
)
from contracts.services import contract_cancel, contract_cancellation_preview
from contracts.terms import notice_words
from contracts.views.common import (
    CUSTOMER_PARAM,
    can_act,
    contract_url,
    customer_for,
    pick_customer,
    picks_customer,
    require_actor,
    with_customer,
)
from portal.http import client_ip
from portal.money import money
from portal.pagination import PAGE_SIZE


def _pick(request, action: str):
    return pick_customer(request, action=action)


@login_required
@require_GET
def contract_detail(request):
    user = request.user
    customer = customer_for(request)
    if customer is None:
        return _pick(request, reverse("contracts:contract"))
    contract = contract_of(user, customer)
    context = {
        "customer": customer,
        "show_customer": picks_customer(user),
        "contract": contract,
        "can_act": can_act(user),
        "flags": contract_flags(contract, may_act=can_act(user)),
        "book_url": with_customer(reverse("contracts:book"), user, customer),
        "catalogue_url": with_customer(reverse("contracts:catalogue"), user, customer),
        "cancel_url": with_customer(reverse("contracts:cancel"), user, customer),
        "param": CUSTOMER_PARAM,
        "termination_offers": special_termination_offers(user, customer),
    }
    if contract is not None:
        summary = contract_summary(user, contract)
        paginator = Paginator(contract_booking_list(user, contract), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        # Actions on a row come back to the page they were started from.
        here = with_customer(reverse("contracts:contract"), user, customer,
                             page=page.number if page.number > 1 else None)
        context.update({
            "page": page,
            "rows": booking_rows(page.object_list, may_act=context["can_act"], back=here),
            "rules": sorted((booking.plan_name, notice_words(booking))
                            for booking in summary.rule_bookings),
            "monthly_total": money(summary.monthly_total),
            "running": summary.running,
            "here": here,
        })
    return render(request, "contracts/contract.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_cancel_view(request):
    """Show the day the whole contract ends (GET); cancel it (POST)."""
    user = request.user
    require_actor(user)
    customer = customer_for(request)
    if customer is None:
        return _pick(request, reverse("contracts:cancel"))
    contract = contract_of(user, customer)
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
        "running": running_bookings(user).filter(contract=contract).count(),
        "back": back, "param": CUSTOMER_PARAM,
    })


@login_required
@require_http_methods(["POST"])
def special_termination(request, pk: int):
    """Exercise the special termination right after an objection to a price change (the
    contract page shows it with the end date)."""
    user = request.user
    require_actor(user)
    offer = get_object_or_404(SpecialTerminationOffer.objects.visible_to(user)
                              .select_related("customer"), pk=pk)
    back = contract_url(user, offer.customer)
    try:
        ended = special_termination_exercise(actor=user, offer=offer, ip=client_ip(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError)
                       else str(exc))
    else:
        end = max((booking.effective_end for booking in ended), default=None)
        messages.success(request, _("Die betroffenen Leistungen sind gekündigt; sie enden am "
                                    "%(end)s.") % {
            "end": date_format(end, "SHORT_DATE_FORMAT") if end else "–"})
    return redirect(back)
