"""Whether a device can take a plan ("bookability"): the one home of that rule.

A device can take a plan when it is not retired, its kind fits the plan's unit (a server plan
needs a server) and it has no running booking of the plan's product family (one per device and
family; a second one is a change of tier). The booking page lists devices with ``bookable``,
the booking form and ``contracts.services.booking_create`` explain refusals with
``refusals``; both are built from the same three pieces below, so the list never offers what
the service refuses. What the contract itself allows (plan still offered, contract not
cancelled, ISA) is ``contracts.services.contract_booking_problem``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from contracts.models import Booking, BookingState, Plan, PlanUnit
from devices.models import Device, DeviceKind

#: The device kinds a plan's unit fits; a unit not named here (per user) fits every kind.
UNIT_KINDS: dict[str, frozenset[str]] = {
    PlanUnit.WORKSTATION: frozenset({DeviceKind.WORKSTATION}),
    PlanUnit.SERVER: frozenset({DeviceKind.SERVER}),
}

#: Why a device cannot take a plan (``Refusal.reason``).
RETIRED, WRONG_KIND, FAMILY_RUNNING = "retired", "wrong_kind", "family_running"


def fitting_kinds(plan: Plan) -> frozenset[str] | None:
    """The device kinds ``plan`` fits, or None when it fits every kind."""
    return UNIT_KINDS.get(plan.unit)


def plan_fits(plan: Plan, device: Device) -> bool:
    """Whether a device's kind fits the plan's unit (a server plan needs a server)."""
    kinds = fitting_kinds(plan)
    return kinds is None or device.kind in kinds


def _running_in_family(plan: Plan) -> QuerySet[Booking]:
    """Running bookings of the plan's product family (on any device)."""
    return Booking.objects.filter(family=plan.family, state__in=BookingState.RUNNING)


def bookable(plan: Plan, devices: QuerySet[Device]) -> QuerySet[Device]:
    """Those of ``devices`` (already scoped by the caller, e.g. ``visible_to``) that can take
    ``plan``, as one query."""
    devices = devices.filter(retired_at__isnull=True)
    kinds = fitting_kinds(plan)
    if kinds is not None:
        devices = devices.filter(kind__in=sorted(kinds))
    return devices.filter(~Exists(_running_in_family(plan).filter(device_id=OuterRef("pk"))))


@dataclass(frozen=True)
class Refusal:
    device: Device
    reason: str
    message: str


def refusals(plan: Plan, devices: Iterable[Device]) -> list[Refusal]:
    """Why each of ``devices`` that cannot take ``plan`` cannot, in the order given (one
    query, for the running bookings)."""
    devices = list(devices)
    running = set(_running_in_family(plan).filter(device__in=devices)
                  .values_list("device_id", flat=True))
    found = []
    for device in devices:
        if device.retired_at is not None:
            found.append(Refusal(device, RETIRED, _("%(device)s ist ausgemustert.")
                                 % {"device": device.hostname}))
        elif not plan_fits(plan, device):
            found.append(Refusal(device, WRONG_KIND, _("%(plan)s passt nicht zu %(device)s "
                                                       "(%(kind)s).")
                                 % {"plan": plan.name, "device": device.hostname,
                                    "kind": device.get_kind_display()}))
        elif device.pk in running:
            found.append(Refusal(device, FAMILY_RUNNING, _(
                "%(device)s hat bereits eine Leistung aus %(family)s; wechseln Sie "
                "stattdessen die Stufe.") % {"device": device.hostname,
                                            "family": plan.get_family_display()}))
    return found
