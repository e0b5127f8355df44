"""The change notices a customer received (every kind), one notice with its text, the
objection to it, and the sub-processor register with its pending changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gdpr.forms import ObjectionForm
from gdpr.selectors.notices import (
    notice_flags,
    notice_list,
    notice_rows,
    pending_subprocessor_changes,
)
from gdpr.selectors.subprocessors import subprocessors_in_force
from gdpr.views.common import customer_for, customer_url, page_context, pick, safe_next
from portal.change_notices.kinds import kind_label
from portal.change_notices.services import change_notice_object, change_notice_seen
from portal.models import ChangeNotice
from portal.pagination import PAGE_SIZE


def _notice_or_404(request, pk: int) -> ChangeNotice:
    notices = ChangeNotice.objects.visible_to(request.user).select_related(
        "customer", "decided_by")
    return get_object_or_404(notices, pk=pk)


@login_required
@require_GET
def notices(request):
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:notices")
    page = Paginator(notice_list(request.user, customer), PAGE_SIZE).get_page(
        request.GET.get("page"))
    context = page_context(request, customer, "gdpr:notices")
    context.update({"page": page, "rows": notice_rows(page.object_list)})
    return render(request, "gdpr/portal/notices.html", context)


def _render_notice(request, notice: ChangeNotice, form: ObjectionForm | None = None,
                   *, status: int = 200):
    flags = notice_flags(notice, request.user)
    context = page_context(request, notice.customer, "gdpr:notices")
    context.update({
        "notice": notice, "kind_label": kind_label(notice.kind), "flags": flags,
        "form": (form or ObjectionForm(reason_required=flags.reason_required))
        if flags.may_object else None,
        "back": customer_url(request, notice.customer, "gdpr:notices"),
    })
    return render(request, "gdpr/portal/notice.html", context, status=status)


@login_required
@require_GET
def notice_detail(request, pk: int):
    """One notice; the first time one of the customer's own people opens it is recorded."""
    notice = _notice_or_404(request, pk)
    change_notice_seen(actor=request.user, notice=notice)
    return _render_notice(request, notice)


@login_required
@require_http_methods(["POST"])
def notice_object(request, pk: int):
    """Object to a notice (customer admins, until the deadline); a missing reason shows the
    form again with its error, a refusal (deadline passed, decided already) as a message."""
    notice = _notice_or_404(request, pk)
    flags = notice_flags(notice, request.user)
    if not (flags.may_object or flags.refusal):
        raise PermissionDenied(
            _("Nur ein Administrator des Kunden kann einer Änderung widersprechen."))
    back = safe_next(request, customer_url(request, notice.customer, "gdpr:notice", notice.pk))
    form = ObjectionForm(request.POST, reason_required=flags.reason_required)
    if flags.may_object and not form.is_valid():
        return _render_notice(request, notice, form, status=400)
    try:
        change_notice_object(actor=request.user, notice=notice,
                             reason=form.cleaned_data.get("reason", "")
                             if form.is_valid() else "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Ihr Widerspruch gegen „%(title)s“ ist eingegangen.")
                         % {"title": notice.title})
    return redirect(back)


@login_required
@require_GET
def subprocessors(request):
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:subprocessors")
    page = Paginator(subprocessors_in_force(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = page_context(request, customer, "gdpr:subprocessors")
    here = customer_url(request, customer, "gdpr:subprocessors")
    context.update({
        "page": page,
        "changes": [{**change, "form": ObjectionForm(
            reason_required=change["flags"].reason_required,
            auto_id=f"id_notice{change['notice'].pk}_%s")
            if change["flags"].may_object else None}
            for change in pending_subprocessor_changes(request.user, customer)],
        "here": here,
    })
    return render(request, "gdpr/portal/subprocessors.html", context)
