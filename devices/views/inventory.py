"""The inventory: list with search, filters and pages; detail; add, edit and retire a device."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from devices.forms import DeviceFilterForm, DeviceForm
from devices.models import Device
from devices.selectors import devices_for, with_staleness
from devices.services import device_create, device_retire, device_update
from devices.views.common import (
    add_service_errors,
    can_edit,
    can_export,
    own_customer,
    picks_customer,
    require_editor,
    shows_customer,
)
from portal.http import client_ip
from portal.pagination import PAGE_SIZE
from portal.registries import PAGE_DEVICE_DETAIL, sections_for


def _device_or_404(request, pk: int, annotate=lambda devices: devices) -> Device:
    devices = Device.objects.visible_to(request.user).select_related(
        "customer", "created_by", "updated_by")
    return get_object_or_404(annotate(devices), pk=pk)


@login_required
@require_GET
def device_list(request):
    user = request.user
    filter_form = DeviceFilterForm(request.GET)
    paginator = Paginator(devices_for(user, **filter_form.filters()), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "devices/list.html", {
        "filter_form": filter_form,
        "is_filtered": filter_form.is_filtered(),
        "page": page,
        "show_customer": shows_customer(user),
        "can_edit": can_edit(user),
        "can_export": can_export(user),
    })


@login_required
@require_GET
def device_detail(request, pk: int):
    device = _device_or_404(request, pk, with_staleness)
    return render(request, "devices/detail.html", {
        "device": device,
        "can_edit": can_edit(request.user),
        # What other apps show about the device (the bookings of contracts, ...).
        "sections": sections_for(PAGE_DEVICE_DETAIL, request, device=device),
    })


def _form_data(request):
    return request.POST if request.method == "POST" else None


@login_required
@require_http_methods(["GET", "POST"])
def device_add(request):
    user = request.user
    require_editor(user)
    pick = picks_customer(user)
    form = DeviceForm(_form_data(request), actor=user, pick_customer=pick)
    if request.method == "POST" and form.is_valid():
        customer = form.cleaned_data["customer"] if pick else own_customer(user)
        try:
            device = device_create(actor=user, customer=customer, ip=client_ip(request),
                                   **form.device_values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Das Gerät %(hostname)s wurde hinzugefügt.")
                             % {"hostname": device.hostname})
            return redirect(device)
    return render(request, "devices/form.html", {
        "form": form, "device": None, "title": _("Gerät hinzufügen"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request, pk: int):
    user = request.user
    require_editor(user)
    device = _device_or_404(request, pk)
    initial = {name: getattr(device, name) for name in DeviceForm.DEVICE_FIELDS}
    form = DeviceForm(_form_data(request), initial=initial, actor=user, pick_customer=False)
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Sie haben nichts geändert."))
            return redirect(device)
        try:
            # Only what the person changed: values the form cannot show exactly (seconds
            # fractions of "last seen") stay as they are.
            device = device_update(actor=user, device=device, ip=client_ip(request),
                                   **form.device_values(only_changed=True))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Die Änderungen an %(hostname)s wurden gespeichert.")
                             % {"hostname": device.hostname})
            return redirect(device)
    return render(request, "devices/form.html", {
        "form": form, "device": device,
        "title": _("Gerät %(hostname)s bearbeiten") % {"hostname": device.hostname},
    })


@login_required
@require_http_methods(["GET", "POST"])
def device_retire_view(request, pk: int):
    """Confirmation page on GET; on POST the device is marked as retired (never deleted)."""
    user = request.user
    require_editor(user)
    device = _device_or_404(request, pk)
    if request.method == "POST":
        try:
            device_retire(actor=user, device=device, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Das Gerät %(hostname)s wurde ausgemustert.")
                             % {"hostname": device.hostname})
        return redirect(device)
    if device.is_retired:
        messages.info(request, _("Dieses Gerät ist bereits ausgemustert."))
        return redirect(device)
    return render(request, "devices/retire.html", {"device": device})
