""""Meine Daten": every portal person requests a copy of their data (Art. 15/20 DSGVO), sees
the job's progress and downloads the ZIP while it is valid; the download of an export (the
person's own, or the one a DPO or provider admin made for a request they handle)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.models import PersonExport
from gdpr.models.requests import ExportState
from gdpr.services.exports import (
    EXPORT_VALID_DAYS,
    export_downloadable,
    person_export_download_record,
    person_export_self_service,
)
from gdpr.views.common import customer_for, page_context
from portal.http import client_ip

#: How many of the person's exports the page lists.
SHOWN = 5


@login_required
@require_GET
def my_data(request):
    user = request.user
    exports = list(PersonExport.objects.visible_to(user)
                   .filter(subject=user, requested_by=user)
                   .order_by("-created_at", "-pk")[:SHOWN])
    for export in exports:
        export.downloadable = export_downloadable(user, export)
    context = page_context(request, customer_for(request), "gdpr:my_data")
    context.update({
        "show_customer": False,  # the page is about the person, not a customer
        "exports": exports,
        "refresh": any(e.state in (ExportState.QUEUED, ExportState.RUNNING) for e in exports),
        "valid_days": EXPORT_VALID_DAYS,
    })
    return render(request, "gdpr/portal/my_data.html", context)


@login_required
@require_POST
def my_data_request(request):
    try:
        person_export_self_service(actor=request.user, ip=client_ip(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
    else:
        messages.success(request, _("Ihre Daten werden zusammengestellt. Sobald die Datei "
                                    "fertig ist, können Sie sie hier herunterladen."))
    return redirect(reverse("gdpr:my_data"))


@login_required
@require_GET
def export_download(request, pk: int):
    """404 alike for an export of another tenant, of someone else, not finished or expired."""
    export = get_object_or_404(PersonExport.objects.visible_to(request.user)
                               .select_related("customer"), pk=pk)
    if not export_downloadable(request.user, export):
        raise Http404(_("Dieser Datenexport ist nicht (mehr) abrufbar."))
    person_export_download_record(actor=request.user, export=export, ip=client_ip(request))
    return zip_response(export)


def zip_response(export) -> FileResponse:
    """The stored ZIP of an export (a person's or a customer's) as a private download."""
    response = FileResponse(export.file.open("rb"), as_attachment=True,
                            filename=export.file.name.rsplit("/", 1)[-1],
                            content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response
