"""The sample inventories in docs/samples import cleanly and describe the same devices."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from devices.importing import CHANGED, INVALID, NEW, UNCHANGED, apply_plan, plan_import
from devices.models import Device, DeviceKind
from devices.spreadsheets import read_sheet

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SAMPLE_DEVICES = 41


def sample(name: str):
    return read_sheet((SAMPLES / name).read_bytes(), name)


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_direct"]


def test_the_csv_is_what_german_excel_writes():
    data = (SAMPLES / "devices.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].split(b"\r\n", 1)[0].decode()
    assert header == ("hostname;serial;kind;os;location;agent_id;last_seen;av_signature_date;"
                      "notes")


@pytest.mark.parametrize("name", ["devices.csv", "devices.xlsx"])
def test_a_sample_previews_without_invalid_rows(customer, name):
    result = plan_import(customer, sample(name))

    assert result.is_valid, [(r.line, r.errors) for r in result.rows if r.errors]
    assert result.counts == {NEW: SAMPLE_DEVICES, CHANGED: 0, UNCHANGED: 0, INVALID: 0}
    kinds = {row.values["kind"] for row in result.rows}
    assert kinds == {DeviceKind.WORKSTATION, DeviceKind.SERVER, DeviceKind.NETWORK}


def test_the_xlsx_has_the_same_devices_as_the_imported_csv(customer, world):
    actor = world["people"]["customer_admin_direct"]
    with transaction.atomic():
        apply_plan(customer, plan_import(customer, sample("devices.csv")), actor=actor)
    assert Device.objects.filter(customer=customer).count() == SAMPLE_DEVICES

    result = plan_import(customer, sample("devices.xlsx"))

    assert result.counts == {NEW: 0, CHANGED: 0, UNCHANGED: SAMPLE_DEVICES, INVALID: 0}, [
        (r.line, r.changes, r.errors) for r in result.rows if r.status != UNCHANGED]
