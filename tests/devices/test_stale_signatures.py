"""Which devices have a stale anti-virus signature (issue 9: switches, access points and
printers were flagged): only a device that reports a signature, or that is under anti-virus
management (a running booking of the AV plan or of a plan including it), can be stale. One
rule, ``devices.selectors.stale_signature``, behind the list filter and badge, the detail
badge, the dashboard card and the admin filter."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.models import Contract
from contracts.services import booking_create, booking_remove
from devices.models import Device
from devices.selectors import device_summary_for, devices_for
from portal.periods import BERLIN
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

#: DOMAIN.md § 7: at Mon 2026-11-23 10:00 a signature of Wed 2026-11-18 is stale, 19th not.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)
OLD, CURRENT = date(2026, 11, 18), date(2026, 11, 19)
STALE = {"old_switch", "av_no_signature", "server_plus_no_signature", "av_old", "av_removed"}


@pytest.fixture
def fleet(world):
    """Devices of customer A, by what makes them stale or not."""
    customer = world["orgs"]["customer_a"]
    admin = world["people"]["customer_admin"]
    plans = {plan.code: plan for plan in plans_seed()}

    def device(name, kind="workstation", signature=None):
        return DeviceFactory(customer=customer, hostname=name.replace("_", "-"), kind=kind,
                             av_signature_date=signature)

    with time_machine.travel(NOW, tick=False):
        fleet = {
            "switch": device("switch", "network"),
            "printer": device("printer", "network"),
            "old_switch": device("old_switch", "network", OLD),  # it reports one: stale
            "pc_no_av": device("pc_no_av"),
            "av_no_signature": device("av_no_signature"),
            "av_old": device("av_old", signature=OLD),
            "av_current": device("av_current", signature=CURRENT),
            "av_removed": device("av_removed"),  # cancelled but running: still covered
            "server_basis": device("server_basis", "server"),
            "server_plus_no_signature": device("server_plus_no_signature", "server"),
        }
        av = [fleet[key] for key in ("av_no_signature", "av_old", "av_current", "av_removed")]
        bookings = booking_create(actor=admin, customer=customer, plan=plans["av"], devices=av)
        booking_remove(actor=admin, booking=bookings[-1])
        Contract.objects.filter(customer=customer).update(isa_completed_on=date(2026, 11, 1))
        booking_create(actor=admin, customer=customer, plan=plans["srv-basis"],
                       devices=[fleet["server_basis"]])
        booking_create(actor=admin, customer=customer, plan=plans["srv-plus"],
                       devices=[fleet["server_plus_no_signature"]])
    return {"devices": fleet, "stale": STALE}


def _names(devices) -> set[str]:
    return {device.hostname.replace("-", "_") for device in devices}


@time_machine.travel(NOW, tick=False)
def test_selectors_flag_only_devices_that_report_a_signature_or_are_av_managed(world, fleet):
    user = world["people"]["customer_admin"]
    assert _names(devices_for(user, signature="stale")) == fleet["stale"]
    flagged = {device.hostname.replace("-", "_") for device in devices_for(user)
               if device.is_stale}
    assert flagged == fleet["stale"]
    assert device_summary_for(user) == {"active": len(fleet["devices"]),
                                        "stale": len(fleet["stale"])}


@time_machine.travel(NOW, tick=False)
def test_an_ended_av_booking_no_longer_covers_the_device(world, fleet):
    user = world["people"]["customer_admin"]
    device = fleet["devices"]["av_removed"]
    device.bookings.update(state="ended")
    assert "av_removed" not in _names(devices_for(user, signature="stale"))


@time_machine.travel(NOW, tick=False)
def test_pages_show_the_same_devices_as_stale(world, fleet, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    listed = client.get(reverse("devices:list"), {"signature": "stale"})
    assert _names(listed.context["page"].object_list) == fleet["stale"]
    body = client.get(reverse("devices:list")).content.decode()
    for row in body.split("<tr")[2:]:
        name = next(key for key in fleet["devices"] if f">{key.replace('_', '-')}<" in row)
        assert ("veraltet" in row) is (name in fleet["stale"]), name
    for name, device in fleet["devices"].items():
        detail = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
        assert ('badge--warn">veraltet' in detail) is (name in fleet["stale"]), name
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert f"{len(fleet['stale'])} Geräte mit veralteter Virensignatur" in dashboard


@time_machine.travel(NOW, tick=False)
def test_admin_filter_uses_the_same_rule(world, fleet, verified_client):
    client = verified_client(world["people"]["provider_staff"])
    response = client.get(reverse("admin:devices_device_changelist"), {"signature": "stale"})
    found = {device.pk for device in response.context["cl"].result_list}
    assert found == {device.pk for name, device in fleet["devices"].items()
                     if name in fleet["stale"]}
    assert Device.objects.count() == len(fleet["devices"])
