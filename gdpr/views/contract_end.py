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
from django.shortcuts import get_object_or_404, redirect, render
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
from gdpr.services.export_jobs import EXPORT_VALID_DAYS, PENDING_STATES
from gdpr.views.exports import zip_response
from portal.admin.base import service_refusal_on_form
from portal.http import client_ip
from portal.roles import Role
from portal.tenancy import membership_of

#: How many exports and orders the page lists.
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
    exports = list(CustomerExport.objects.visible_to(user).filter(customer=customer)
                   .order_by("-created_at", "-pk")[:SHOWN])
    for export in exports:
        export.downloadable = customer_export_downloadable(user, export)
    orders = list(DataProvisionOrder.objects.visible_to(user).filter(customer=customer)
                  .order_by("-ordered_on", "-pk")[:SHOWN])
    return render(request, "gdpr/portal/contract_end.html", {
        "customer": customer, "schedule": contract_end_of(customer), "exports": exports,
        "refresh": any(e.state in PENDING_STATES for e in exports),
        "valid_days": EXPORT_VALID_DAYS, "orders": orders, "form": form,
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
    try:
        customer_export_start(actor=request.user, customer=customer, ip=client_ip(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("Ihre Daten werden zusammengestellt. Sobald die Datei "
                                    "fertig ist, können Sie sie hier herunterladen."))
    return redirect(reverse("gdpr:contract_end"))


@login_required
@require_GET
def customer_export_download(request, pk: int):
    """404 alike for another tenant's export, a role that may not, unfinished or expired."""
    export = get_object_or_404(CustomerExport.objects.visible_to(request.user)
                               .select_related("customer"), pk=pk)
    if not customer_export_downloadable(request.user, export):
        raise Http404(_("Dieser Datenexport ist nicht (mehr) abrufbar."))
    customer_export_download_record(actor=request.user, export=export, ip=client_ip(request))
    return zip_response(export)



