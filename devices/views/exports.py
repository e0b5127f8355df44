"""Exporting the inventory as CSV (with BOM, ";" for German Excel) or XLSX, with the list's
filters; every export is recorded in the audit trail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from devices.exporting import FORMATS, export_devices
from devices.forms import DeviceFilterForm
from devices.selectors import devices_for
from devices.services import device_export_record
from devices.views.common import can_export
from portal.http import client_ip
from portal.roles import CUSTOMER_ROLES
from portal.tenancy import membership_of


@login_required
@require_GET
def export(request):
    user = request.user
    if not can_export(user):
        raise PermissionDenied(_("Sie dürfen die Geräteliste nicht exportieren."))
    file_format = request.GET.get("format", "")
    if file_format not in FORMATS:
        return HttpResponseBadRequest(
            _("Unbekanntes Exportformat. Bitte wählen Sie CSV oder XLSX."),
            content_type="text/plain; charset=utf-8")
    membership = membership_of(user)
    filters = DeviceFilterForm(request.GET).filters()
    export_file = export_devices(devices_for(user, **filters), file_format,
                                 name=slugify(membership.organisation.name) or "export")
    device_export_record(
        actor=user,
        customer=membership.organisation if membership.role in CUSTOMER_ROLES else None,
        count=export_file.count, file_format_name=file_format, ip=client_ip(request))
    response = HttpResponse(export_file.content, content_type=export_file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export_file.file_name)
    response["Cache-Control"] = "no-store"
    return response
