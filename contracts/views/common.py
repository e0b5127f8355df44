"""What the contract pages share: who may act, which customer a page is about, redirects."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from contracts.models import Booking
from contracts.services import BOOKING_ROLES
from portal.models import Organisation, User
from portal.roles import CUSTOMER_ROLES, OrganisationKind
from portal.tenancy import membership_of, role_of

#: The query parameter (and hidden field) naming the customer staff roles act for.
CUSTOMER_PARAM = "kunde"


def can_act(user: User) -> bool:
    """Customer admins book and cancel; partner support and provider staff on behalf."""
    return role_of(user) in BOOKING_ROLES


def require_actor(user: User) -> None:
    if not can_act(user):
        raise PermissionDenied(_("Sie dürfen keine Leistungen buchen oder kündigen."))


def picks_customer(user: User) -> bool:
    return role_of(user) not in CUSTOMER_ROLES


def visible_customers(user: User):
    return (Organisation.objects.visible_to(user).filter(kind=OrganisationKind.CUSTOMER)
            .order_by("name"))


def customer_for(request) -> Organisation | None:
    """The customer the page is about: a customer role's own organisation; for staff roles the
    one named by ``?kunde=`` (or the hidden field), or ``None`` until they pick one."""
    user = request.user
    if not picks_customer(user):
        membership = membership_of(user)
        return membership.organisation if membership else None
    value = request.POST.get(CUSTOMER_PARAM) or request.GET.get(CUSTOMER_PARAM)
    if not value:
        return None
    if not str(value).isdigit():
        raise PermissionDenied(_("Unbekannter Kunde."))
    return get_object_or_404(visible_customers(user), pk=int(value))


def with_customer(url: str, user: User, customer: Organisation | None, **params) -> str:
    """``url`` with the customer parameter for staff roles (customers never need it)."""
    if customer is not None and picks_customer(user):
        params = {CUSTOMER_PARAM: customer.pk, **params}
    params = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def contract_url(user: User, customer: Organisation | None) -> str:
    return with_customer(reverse("contracts:contract"), user, customer)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def booking_or_404(request, pk: int) -> Booking:
    bookings = Booking.objects.visible_to(request.user).select_related(
        "device", "plan", "contract", "customer")
    return get_object_or_404(bookings, pk=pk)


def pick_customer(request, *, action: str, extra: dict | None = None):
    """Staff and partner support first pick the customer whose contract they want to see or
    book for; ``extra``: query parameters kept through the choice."""
    return render(request, "portal/pick_customer.html", {
        "customers": visible_customers(request.user), "action": action, "extra": extra or {},
        "param": CUSTOMER_PARAM,
        "question": _("Für welchen Kunden möchten Sie den Vertrag ansehen oder bearbeiten?"),
    })
