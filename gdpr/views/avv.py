"""The AVV pages: the overview with the current text and the acceptance state, accepting it,
the accepted AVV as PDF, the English reading version, the TOMs and the DPO's contact."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.avv import avv_reading_html, avv_text_of, dpo_contact_lines
from gdpr.documents import avv_pdf_create
from gdpr.forms import AvvAcceptForm
from gdpr.models import AvvAcceptance
from gdpr.selectors.avv import avv_page, avv_state_label, tom_categories
from gdpr.services.avv import avv_accept, avv_may_accept, current_avv
from gdpr.views.common import customer_for, customer_url, page_context, pick
from portal.http import client_ip


@login_required
@require_GET
def avv_overview(request):
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:avv")
    page = avv_page(request.user, customer)
    context = page_context(request, customer, "gdpr:avv")
    context.update({
        "page": page,
        "state_label": avv_state_label(page.customer_state),
        # Our own rendered template, frozen at publishing: shown exactly as accepted.
        "text": mark_safe(avv_text_of(page.current)) if page.current else "",  # noqa: S308
        "form": AvvAcceptForm(initial={"version": page.current.pk,
                                       "sha256": page.current.sha256})
        if page.may_accept else None,
        "english_url": customer_url(request, customer, "gdpr:avv_english"),
    })
    return render(request, "gdpr/portal/avv.html", context)


@login_required
@require_POST
def avv_accept_view(request):
    """Accept the version the page showed; refusals (not current any more, another text,
    accepted already) come back as a message on the overview, which shows the current one."""
    customer = customer_for(request)
    if customer is None or not avv_may_accept(request.user, customer):
        raise PermissionDenied(_("Die AVV nimmt nur ein Administrator des Kunden an."))
    back = customer_url(request, customer, "gdpr:avv")
    form = AvvAcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values()
                                         for error in errors))
        return redirect(back)
    try:
        acceptance = avv_accept(
            actor=request.user, customer=customer, version=form.cleaned_data["version"],
            sha256_seen=form.cleaned_data["sha256"], ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sie haben AVV %(label)s angenommen.")
                         % {"label": acceptance.version.label})
    return redirect(back)


@login_required
@require_POST
def avv_pdf(request, pk: int):
    """The accepted AVV of one acceptance as PDF (made once, then served from the store)."""
    acceptance = get_object_or_404(
        AvvAcceptance.objects.visible_to(request.user).select_related(
            "customer", "version", "person"), pk=pk)
    document = avv_pdf_create(actor=request.user, acceptance=acceptance)
    return redirect(document.get_absolute_url())


@login_required
@require_GET
def avv_english(request):
    """The English reading version of the current AVV; the German text is the binding one."""
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:avv_english")
    current = current_avv()
    if current is None:
        raise Http404(_("Es gibt noch keine AVV."))
    context = page_context(request, customer, "gdpr:avv")
    context.update({
        "version": current,
        # Our own reading template, rendered from the frozen data.
        "text": mark_safe(avv_reading_html(current, "en")),  # noqa: S308
        "binding_url": customer_url(request, customer, "gdpr:avv"),
    })
    return render(request, "gdpr/portal/avv_english.html", context)


@login_required
@require_GET
def toms(request):
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:toms")
    current = current_avv()
    context = page_context(request, customer, "gdpr:toms")
    context.update({"version": current,
                    "categories": tom_categories(current) if current else []})
    return render(request, "gdpr/portal/toms.html", context)


@login_required
@require_GET
def dpo(request):
    customer = customer_for(request)
    if customer is None:
        return pick(request, "gdpr:dpo")
    context = page_context(request, customer, "gdpr:dpo")
    context["dpo_lines"] = dpo_contact_lines()
    return render(request, "gdpr/portal/dpo.html", context)
