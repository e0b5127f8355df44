"""The contract summary as PDF: made fresh on request (POST, it stores a document), then
downloaded through the one document download (portal/documents/views.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts.documents import contract_summary_create
from contracts.selectors import contract_of
from contracts.views.common import customer_for


@login_required
@require_POST
def contract_summary_pdf(request):
    customer = customer_for(request)
    contract = contract_of(request.user, customer) if customer is not None else None
    if contract is None:
        raise Http404(_("Es gibt noch keinen Rahmenvertrag."))
    document = contract_summary_create(actor=request.user, contract=contract,
                                       lang=get_language() or "de")
    return redirect(document.get_absolute_url())
