"""Serials are unique per customer only (docs/adr/0007): no message tells one customer what
another one has, and staff find a serial active at several customers with an admin filter that
only compares devices the viewer may see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices.models import Device
from tests.factories import DeviceFactory, OrganisationFactory

CHANGELIST = reverse("admin:devices_device_changelist")
SHARED = f"{CHANGELIST}?serial_shared=yes"


@pytest.fixture
def second_customer_of_partner_a(world):
    return OrganisationFactory(name="Kunde A2", partner=world["orgs"]["partner_a"])


@pytest.fixture
def twins(world, second_customer_of_partner_a):
    """SN-AB: active at Kunde A and Kunde B (other partner); SN-AA: at Kunde A and Kunde A2
    (both partner A); SN-OLD: active at Kunde A, retired at Kunde Direkt; SN-ONE: only once."""
    orgs = world["orgs"]
    DeviceFactory(customer=orgs["customer_a"], serial_number="SN-AB", hostname="a-ab")
    DeviceFactory(customer=orgs["customer_b"], serial_number="SN-AB", hostname="b-ab")
    DeviceFactory(customer=orgs["customer_a"], serial_number="SN-AA", hostname="a-aa")
    DeviceFactory(customer=second_customer_of_partner_a, serial_number="SN-AA",
                  hostname="a2-aa")
    DeviceFactory(customer=orgs["customer_a"], serial_number="SN-OLD", hostname="a-old")
    DeviceFactory(customer=orgs["customer_direct"], serial_number="SN-OLD", hostname="d-old",
                  retired_at=timezone.now())
    DeviceFactory(customer=orgs["customer_a"], serial_number="SN-ONE", hostname="a-one")


def shown(response) -> set[tuple[str, str]]:
    assert response.status_code == 200
    return {(device.serial_number, device.hostname)
            for device in response.context["cl"].result_list}


def test_provider_staff_find_every_serial_active_at_several_customers(world, twins,
                                                                      verified_client):
    client = verified_client(world["people"]["provider_staff"])
    assert shown(client.get(SHARED)) == {("SN-AB", "a-ab"), ("SN-AB", "b-ab"),
                                         ("SN-AA", "a-aa"), ("SN-AA", "a2-aa")}
    assert "Seriennummer bei mehreren Kunden aktiv" in client.get(CHANGELIST).content.decode()


def test_partner_support_finds_only_pairs_among_its_own_customers(world, twins,
                                                                  verified_client):
    """SN-AB's twin belongs to a customer of partner B: partner A's support must not learn
    that it exists, neither from the list nor from the filter's count."""
    client = verified_client(world["people"]["partner_support"])
    assert shown(client.get(SHARED)) == {("SN-AA", "a-aa"), ("SN-AA", "a2-aa")}
    with_facets = client.get(f"{CHANGELIST}?_facets=True").content.decode()
    assert "ja (2)" in with_facets and "ja (3)" not in with_facets
    other = verified_client(world["people"]["partner_support_b"])
    assert shown(other.get(SHARED)) == set()


def test_customers_have_no_admin_to_ask(world, twins, verified_client):
    response = verified_client(world["people"]["customer_admin"]).get(SHARED)
    assert response.status_code == 302 and "cl" not in (response.context or {})


def test_filter_needs_one_query_whatever_the_number_of_pairs(world, verified_client):
    client = verified_client(world["people"]["provider_admin"])

    def add_pairs(count: int) -> None:
        for _ in range(count):
            serial = DeviceFactory(customer=world["orgs"]["customer_a"]).serial_number
            DeviceFactory(customer=world["orgs"]["customer_b"], serial_number=serial)

    def queries() -> tuple[int, int]:
        client.get(SHARED)  # warm caches like a running server
        with CaptureQueriesContext(connection) as captured:
            response = client.get(SHARED)
        return len(captured.captured_queries), response.context["cl"].result_count

    add_pairs(2)
    small, rows_small = queries()
    add_pairs(20)
    large, rows_large = queries()
    assert (rows_small, rows_large) == (4, 44)
    assert small == large


def test_admin_accepts_a_serial_active_at_another_customer(world, verified_client):
    DeviceFactory(customer=world["orgs"]["customer_b"], serial_number="SN-TWIN")
    client = verified_client(world["people"]["provider_staff"])
    response = client.post(reverse("admin:devices_device_add"), {
        "customer": world["orgs"]["customer_a"].pk, "hostname": "pc-twin",
        "serial_number": "sn-twin", "kind": "workstation", "operating_system": "",
        "location": "", "agent_id": "", "last_seen_0": "", "last_seen_1": "",
        "av_signature_date": "", "pending_critical_updates": "0", "notes": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Device.objects.filter(serial_number="SN-TWIN").count() == 2
