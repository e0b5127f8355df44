""""Vertragsende & Daten": a customer admin whose contract ends sees the end, the day its data
is kept through and the day it is deleted, starts the full customer export, follows its
progress and downloads it, and orders the provider-assisted data provision while it may
(003 § 24). The rules are the services' (gdpr/services/contract_end.py); the page shows what
they say."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gdpr.forms import ProvisionOrderForm
from gdpr.models import CustomerExport, DataProvisionOrder
from gdpr.services.contract_end import (
    contract_end_of,
    customer_export_download_record,
    customer_export_downloadable,
    customer_export_start,
    provision_order_create,
    provision_order_refusal,
)
from gdpr.services.export_jobs import EXPORT_VALID_DAYS
from gdpr.views.exports import export_download_response, export_requested, exports_shown
from portal.admin.base import service_refusal_on_form
from portal.http import client_ip
from portal.roles import Role
from portal.tenancy import membership_of

#: How many provision orders the page lists (and exports, ``exports.SHOWN``).
SHOWN = 5


def _customer(request):
    """The page is the customer admin's: their own organisation, else 404 alike."""
    membership = membership_of(request.user)
    if membership is None or membership.role != Role.CUSTOMER_ADMIN:
        raise Http404(_("Diese Seite gibt es nur für Administratoren eines Kunden."))
    return membership.organisation


def _messages(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _page(request, customer, form: ProvisionOrderForm, *, status: int = 200):
    user = request.user
    exports, refresh = exports_shown(
        CustomerExport.objects.visible_to(user).filter(customer=customer), user,
        customer_export_downloadable)
    orders = list(DataProvisionOrder.objects.visible_to(user).filter(customer=customer)
                  .order_by("-ordered_on", "-pk")[:SHOWN])
    return render(request, "gdpr/portal/contract_end.html", {
        "customer": customer, "schedule": contract_end_of(customer), "exports": exports,
        "refresh": refresh, "valid_days": EXPORT_VALID_DAYS, "orders": orders, "form": form,
        "order_refusal": provision_order_refusal(customer, today=timezone.localdate()),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contract_end(request):
    """GET: the page; POST: the provision order form (errors shown on the page, 400)."""
    customer = _customer(request)
    if request.method == "GET":
        return _page(request, customer, ProvisionOrderForm())
    form = ProvisionOrderForm(request.POST)
    if form.is_valid():
        try:
            provision_order_create(actor=request.user, customer=customer,
                                   ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            service_refusal_on_form(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, _messages(exc))
        else:
            messages.success(request, _("Ihr Auftrag zur Bereitstellung der Daten ist "
                                        "eingegangen; wir melden uns bei Ihnen."))
            return redirect(reverse("gdpr:contract_end"))
    return _page(request, customer, form, status=400)


@login_required
@require_POST
def contract_end_export(request):
    customer = _customer(request)
    return export_requested(
        request, lambda: customer_export_start(actor=request.user, customer=customer,
                                               ip=client_ip(request)),
        page="gdpr:contract_end")


@login_required
@require_GET
def customer_export_download(request, pk: int):
    """For the customer's admins and the provider (``customer_export_downloadable``)."""
    return export_download_response(request, CustomerExport.objects.all(), pk,
                                    downloadable=customer_export_downloadable,
                                    record=customer_export_download_record)
