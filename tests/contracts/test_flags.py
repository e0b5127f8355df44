"""Templates show flags the selectors computed (DESIGN "One home per rule"): a booking's
badge and its actions (``booking_rows``), the contract page's badge, booking and cancelling
(``contract_flags``). The flags follow the services' own predicates."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from contracts.catalogue import plans_seed
from contracts.models import (
    Booking,
    Contract,
    ContractStatus,
    Plan,
    PlanFamily,
    PlanUnit,
)
from contracts.selectors import booking_rows, contract_flags
from contracts.services import (
    booking_create,
    booking_removal_refusal,
    booking_remove,
    contract_cancel,
)
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _flags(booking: Booking, *, may_act: bool = True) -> tuple:
    booking = Booking.objects.select_related("contract").get(pk=booking.pk)
    [row] = booking_rows([booking], may_act=may_act, back="/vertrag/")
    return (row.state_badge, row.may_change_tier, row.may_remove, row.may_withdraw,
            bool(row.change_tier_url), bool(row.remove_url), bool(row.withdraw_url))


@pytest.fixture
def booked(world):
    customer, admin = world["orgs"]["customer_a"], world["people"]["customer_admin"]
    plan = next(plan for plan in plans_seed() if plan.code == "mc-basis")
    devices = [DeviceFactory(customer=customer) for _ in range(2)]
    return admin, booking_create(actor=admin, customer=customer, plan=plan, devices=devices)


def test_booking_rows_flags_follow_the_state_and_the_services(booked):
    admin, (kept, removed) = booked
    booking_remove(actor=admin, booking=removed)
    assert _flags(kept) == ("badge--ok", True, True, False, True, True, False)
    assert _flags(removed) == ("badge--warn", False, False, True, False, False, True)
    # Someone who may not act gets the badge only.
    assert _flags(kept, may_act=False) == ("badge--ok", False, False, False, False, False, False)
    assert _flags(removed, may_act=False)[3] is False
    contract_cancel(actor=admin, contract=kept.contract)
    assert _flags(removed) == ("badge--warn", False, False, False, False, False, False)
    Booking.objects.filter(pk=removed.pk).update(state="ended")
    assert _flags(removed)[0] == ""


def test_no_removal_offered_for_a_plan_that_rules_out_cancelling(world, booked,
                                                                 verified_client):
    admin, (cancellable, _) = booked
    plan = Plan.objects.create(code="miete-3j", name="Software-Miete 3 Jahre",
                               family=PlanFamily.ANTIVIRUS, tier="Miete",
                               unit=PlanUnit.WORKSTATION, monthly_price=Decimal("20.00"),
                               notice="3m", notice_anchor="none", min_term="36m", renewal="")
    [locked] = booking_create(actor=admin, customer=cancellable.customer, plan=plan,
                              devices=[DeviceFactory(customer=cancellable.customer)])
    # Tier changes stay open; removing is not offered.
    assert _flags(locked) == ("badge--ok", True, False, False, True, False, False)
    body = verified_client(admin).get(reverse("contracts:contract")).content.decode()
    assert reverse("contracts:remove", args=[cancellable.pk]) in body
    assert reverse("contracts:remove", args=[locked.pk]) not in body
    # The service refuses with the very message the predicate gives.
    refusal = booking_removal_refusal(locked, today=timezone.localdate())
    assert refusal.startswith("Eine ordentliche Kündigung ist für diese Leistung ausgeschlossen")
    with pytest.raises(ValidationError) as exc:
        booking_remove(actor=admin, booking=locked)
    assert exc.value.messages == [refusal]
    # ... and leaves the booking running as it was.
    assert _flags(locked) == ("badge--ok", True, False, False, True, False, False)


def test_contract_flags(booked):
    admin, (booking, _) = booked
    assert contract_flags(None, may_act=True).may_book
    assert not contract_flags(None, may_act=False).may_book
    contract = Contract.objects.get(pk=booking.contract_id)
    flags = contract_flags(contract, may_act=True)
    assert (flags.badge, flags.may_book, flags.may_cancel) == ("badge--ok", True, True)
    assert not contract_flags(contract, may_act=False).may_cancel
    contract.status = ContractStatus.ENDING
    flags = contract_flags(contract, may_act=True)
    assert (flags.badge, flags.may_book, flags.may_cancel) == ("badge--warn", False, False)
    contract.status = ContractStatus.ENDED
    assert contract_flags(contract, may_act=True).badge == ""


def test_contract_page_offers_booking_and_cancelling_only_while_active(world, booked,
                                                                      verified_client):
    admin, (booking, _) = booked
    client = verified_client(admin)
    page = reverse("contracts:contract")
    body = client.get(page).content.decode()
    assert reverse("contracts:cancel") in body and reverse("contracts:book") in body
    assert 'class="badge badge--ok">aktiv<' in body
    contract_cancel(actor=admin, contract=booking.contract)
    body = client.get(page).content.decode()
    assert reverse("contracts:cancel") not in body
    assert f'href="{reverse("contracts:book")}' not in body
    assert 'class="badge badge--warn">gekündigt<' in body


#: The page templates whose decisions come from selector flags (the PDF templates are the
#: documents' own), the admin's import page among them.
FLAGGED_TEMPLATES = ("contracts", "devices", "devices/import", "admin/devices/device")
STATE_TEST = re.compile(r"\.(state|status|phase)\s*==|==\s*[\"'](active|ending|ended|stuck|"
                        r"queued|previewed|done|cancelled)[\"']")


def test_page_templates_decide_nothing_by_state_strings():
    root = Path(__file__).resolve().parents[2] / "templates"
    found = [f"{path.relative_to(root)}: {match.group(0)}"
             for folder in FLAGGED_TEMPLATES for path in sorted((root / folder).glob("*.html"))
             for match in STATE_TEST.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
