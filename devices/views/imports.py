"""Importing an inventory file: upload, the preview (a dry run), confirm or cancel, the result.

Small files are checked and applied within the request; larger ones by django-q2 jobs, while
the import page reloads itself every two seconds (a meta refresh: the CSP allows no scripts).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from devices.forms import ImportUploadForm
from devices.importing import CHANGED, INVALID, NEW, UNCHANGED
from devices.models import Device, DeviceImport, ImportStatus
from devices.selectors import import_badge, imports_for, job_progress
from devices.services import (
    IMPORT_FLOW,
    MESSAGES_KEPT,
    device_import_cancel,
    device_import_confirm,
    device_import_upload,
    import_cancellable,
)
from devices.spreadsheets import COLUMNS, REQUIRED_COLUMNS
from devices.views.common import (
    add_service_errors,
    can_edit,
    own_customer,
    picks_customer,
    require_editor,
    shows_customer,
)
from portal.http import client_ip
from portal.jobs import job_activity

RECENT_IMPORTS = 10
#: What each row status of a preview is called, and the badge it gets.
ROW_STATUS = {
    NEW: (gettext_lazy("neu"), "badge--ok"),
    CHANGED: (gettext_lazy("geändert"), "badge--warn"),
    UNCHANGED: (gettext_lazy("unverändert"), ""),
    INVALID: (gettext_lazy("fehlerhaft"), "badge--bad"),
}


def _import_or_404(request, public_id) -> DeviceImport:
    return get_object_or_404(imports_for(request.user), public_id=public_id)


def _field_label(name: str) -> str:
    try:
        return str(Device._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _rows(device_import: DeviceImport, *, only_invalid: bool) -> list[dict]:
    """The stored row messages, ready for the template (labels instead of field names)."""
    rows = []
    for message in device_import.messages:
        status = message.get("status", "")
        if only_invalid and status != INVALID:
            continue
        label, badge = ROW_STATUS.get(status, (status, ""))
        rows.append({
            "line": message.get("line"), "serial": message.get("serial", ""),
            "hostname": message.get("hostname", ""), "status": label, "badge": badge,
            "errors": message.get("errors", []),
            "changes": [(_field_label(name), old, new)
                        for name, (old, new) in message.get("changes", {}).items()],
        })
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    user = request.user
    require_editor(user)
    pick = picks_customer(user)
    form = ImportUploadForm(request.POST if request.method == "POST" else None,
                            request.FILES if request.method == "POST" else None,
                            actor=user, pick_customer=pick)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        customer = form.cleaned_data["customer"] if pick else own_customer(user)
        try:
            device_import = device_import_upload(
                actor=user, customer=customer, file_name=uploaded.name, data=uploaded.read(),
                ip=client_ip(request))
        except ValidationError as exc:
            add_service_errors(form, exc, default_field="file")
        else:
            return redirect("devices:import_detail", public_id=device_import.public_id)
    recent = imports_for(user).order_by("-created_at")[:RECENT_IMPORTS]
    return render(request, "devices/import/upload.html", {
        "form": form,
        "recent": [(item, progress["stuck"], import_badge(item, progress["activity"]))
                   for item, progress in ((item, job_progress(item, job_activity(
                       IMPORT_FLOW, item))) for item in recent)],
        "show_customer": shows_customer(user),
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
    })


@login_required
@require_GET
def import_detail(request, public_id):
    device_import = _import_or_404(request, public_id)
    failed = device_import.status in {ImportStatus.INVALID, ImportStatus.FAILED}
    rows = _rows(device_import, only_invalid=failed)
    activity = job_activity(IMPORT_FLOW, device_import)
    return render(request, "devices/import/detail.html", {
        "device_import": device_import,
        "status_badge": import_badge(device_import, activity),
        "failed": failed,
        "rows": rows,
        "show_rows": failed or device_import.status == ImportStatus.PREVIEWED,
        # Which outcome the page shows: flags, so that the template compares no states.
        "previewed": device_import.status == ImportStatus.PREVIEWED,
        "done": device_import.status == ImportStatus.DONE,
        "cancelled": device_import.status == ImportStatus.CANCELLED,
        "rows_cut": len(device_import.messages) >= MESSAGES_KEPT,
        "messages_kept": MESSAGES_KEPT,
        **job_progress(device_import, activity),
        "can_edit": can_edit(request.user),
        "can_cancel": can_edit(request.user) and import_cancellable(device_import),
        "show_customer": shows_customer(request.user),
    })


@login_required
@require_POST
def import_confirm(request, public_id):
    require_editor(request.user)
    device_import = _import_or_404(request, public_id)
    try:
        device_import_confirm(actor=request.user, device_import=device_import,
                              ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        device_import.refresh_from_db(fields=["status"])
        if device_import.status == ImportStatus.DONE:
            messages.success(request, _("Der Import wurde übernommen."))
        elif device_import.status == ImportStatus.FAILED:
            messages.error(request, _("Der Import ist fehlgeschlagen; es wurde nichts "
                                      "übernommen."))
        else:
            messages.success(request, _("Der Import ist bestätigt und wird jetzt übernommen."))
    return redirect("devices:import_detail", public_id=device_import.public_id)


@login_required
@require_POST
def import_cancel(request, public_id):
    require_editor(request.user)
    device_import = _import_or_404(request, public_id)
    try:
        device_import_cancel(actor=request.user, device_import=device_import,
                             ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("devices:import_detail", public_id=device_import.public_id)
    messages.success(request, _("Der Import wurde abgebrochen; es wurde nichts übernommen."))
    return redirect("devices:import")
