""""Meine Daten": every portal person requests a copy of their data (Art. 15/20 DSGVO), sees
the job's progress and downloads the ZIP while it is valid; the download of an export (the
person's own, or the one a DPO or provider admin made for a request they handle).

What both export pages share (this one and "Vertragsende & Daten", gdpr/views/contract_end.py)
is here too: the list of the newest exports, the request that queues one and the download."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.models import PersonExport
from gdpr.services.export_jobs import PENDING_STATES
from gdpr.services.exports import (
    EXPORT_VALID_DAYS,
    export_downloadable,
    person_export_download_record,
    person_export_self_service,
)
from gdpr.views.common import customer_for, page_context
from portal.http import client_ip

#: How many exports a page lists.
SHOWN = 5


def exports_shown(exports: QuerySet, user, downloadable: Callable[[object, object], bool]
                  ) -> tuple[list, bool]:
    """The newest of ``exports`` (already ``visible_to`` the user), each marked whether the
    user may download it, and whether the page refreshes itself (one is waiting or running)."""
    shown = list(exports.order_by("-created_at", "-pk")[:SHOWN])
    for export in shown:
        export.downloadable = downloadable(user, export)
    return shown, any(export.state in PENDING_STATES for export in shown)


def export_requested(request, start: Callable[[], object], *, page: str):
    """Queue an export (``start()``, a service) and go back to ``page``, with the refusal or
    the note that the file is being put together."""
    try:
        start()
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
    else:
        messages.success(request, _("Ihre Daten werden zusammengestellt. Sobald die Datei "
                                    "fertig ist, können Sie sie hier herunterladen."))
    return redirect(reverse(page))


def export_download_response(request, exports: QuerySet, pk: int, *,
                             downloadable: Callable[[object, object], bool],
                             record: Callable[..., None]) -> FileResponse:
    """404 alike for an export of another tenant, one the user may not download, not
    finished or expired; else the download is recorded and the ZIP sent."""
    export = get_object_or_404(exports.visible_to(request.user).select_related("customer"),
                               pk=pk)
    if not downloadable(request.user, export):
        raise Http404(_("Dieser Datenexport ist nicht (mehr) abrufbar."))
    record(actor=request.user, export=export, ip=client_ip(request))
    return zip_response(export)


@login_required
@require_GET
def my_data(request):
    user = request.user
    exports, refresh = exports_shown(
        PersonExport.objects.visible_to(user).filter(subject=user, requested_by=user), user,
        export_downloadable)
    context = page_context(request, customer_for(request), "gdpr:my_data")
    context.update({
        "show_customer": False,  # the page is about the person, not a customer
        "exports": exports,
        "refresh": refresh,
        "valid_days": EXPORT_VALID_DAYS,
    })
    return render(request, "gdpr/portal/my_data.html", context)


@login_required
@require_POST
def my_data_request(request):
    return export_requested(
        request, lambda: person_export_self_service(actor=request.user, ip=client_ip(request)),
        page="gdpr:my_data")


@login_required
@require_GET
def export_download(request, pk: int):
    """The person's own export, or one made for a request the user handles."""
    return export_download_response(request, PersonExport.objects.all(), pk,
                                    downloadable=export_downloadable,
                                    record=person_export_download_record)


def zip_response(export) -> FileResponse:
    """The stored ZIP of an export (a person's or a customer's) as a private download."""
    response = FileResponse(export.file.open("rb"), as_attachment=True,
                            filename=export.file.name.rsplit("/", 1)[-1],
                            content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response
