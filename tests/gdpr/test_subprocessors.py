"""The sub-processor register through the real services (002 AVV §7, DOMAIN §4): notices to
the customers with a running contract, the 30-day window counted by hand (BGB §193), the
e-mail to the customer's admin, objections with a reason opening one DPO case, resolving it,
and the published AVV rendering the register in force."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import Contract, ContractStatus
from gdpr.models import CaseResolution, ObjectionCase, Safeguard, SubProcessor
from gdpr.selectors.subprocessors import (
    objection_cases_open,
    subprocessor_change_preview,
    subprocessors_for_avv,
    subprocessors_in_force,
    subprocessors_pending,
)
from gdpr.services.subprocessors import (
    objection_case_resolve,
    subprocessor_add,
    subprocessor_change,
    subprocessor_end,
    subprocessor_replace,
)
from portal.change_notices.services import change_notice_object
from portal.models import AuditEvent, ChangeNotice
from portal.periods import BERLIN
from tests.gdpr.conftest import draft_version
from tests.outbox import deliver_queued

FRIDAY = date(2027, 3, 26)


def _at(day: date, hour: int = 12):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN),
                               tick=False)


def _contracts(world, *, ended=("customer_b",)):
    """Kunde A and Kunde Direkt run a contract, Kunde B's has ended."""
    for key in ("customer_a", "customer_b", "customer_direct"):
        Contract.objects.create(
            customer=world["orgs"][key], start=date(2026, 1, 1),
            status=ContractStatus.ENDED if key in ended else ContractStatus.ACTIVE)


def _hosting(valid_from: date, *, actor=None) -> SubProcessor:
    return subprocessor_add(actor=actor, name="Hetzner Online GmbH",
                            service="Rechenzentrum (Hosting)", location="Falkenstein",
                            country="DE", safeguard=Safeguard.EU_EEA,
                            data_categories="alle Daten des Portals", valid_from=valid_from)


@pytest.fixture
def register(world):
    _contracts(world)
    with _at(date(2027, 1, 4)):
        return _hosting(date(2027, 1, 4))


def _change_on_friday(world, row, **extra):
    with _at(FRIDAY):
        return subprocessor_change(actor=world["people"]["provider_admin"], subprocessor=row,
                                   valid_from=date(2027, 5, 1), location="Nürnberg", **extra)


# --- Notices and their deadline ------------------------------------------------------------

def test_change_on_friday_gives_customers_with_running_contract_until_monday(world, register):
    new = _change_on_friday(world, register)
    notices = ChangeNotice.objects.filter(subject_id=str(new.pk)).order_by("customer__name")
    assert [n.customer.name for n in notices] == ["Kunde A", "Kunde Direkt"]  # not Kunde B
    for notice in notices:
        # 2027-03-26 (Fri) + 30 days = 2027-04-25, a Sunday -> Monday 2027-04-26 (BGB §193).
        assert notice.kind == "subprocessor_change"
        assert notice.received_on == FRIDAY
        assert notice.deadline == date(2027, 4, 26)
        assert notice.effective_on == date(2027, 5, 1)
        assert "Ort der Verarbeitung: Falkenstein → Nürnberg" in notice.text
        assert "nicht verpflichtet" in notice.text
        assert "26.04.2027" in notice.text and "als genehmigt" in notice.text


def test_change_ends_the_old_row_the_day_before_and_names_it(world, register):
    new = _change_on_friday(world, register)
    register.refresh_from_db()
    assert register.valid_to == date(2027, 4, 30)
    assert new.predecessor == register and new.name == register.name
    assert list(subprocessors_in_force(date(2027, 4, 30))) == [register]
    assert list(subprocessors_in_force(date(2027, 5, 1))) == [new]
    event = AuditEvent.objects.get(action="subprocessor.changed")
    assert event.details["fields"] == ["location"] and event.details["notices"] == 2


def test_the_customer_admin_gets_an_email(world, register):
    deliver_queued()  # the notices of the first entry
    mail.outbox.clear()
    _change_on_friday(world, register)
    assert deliver_queued() == 2
    to_a = [m for m in mail.outbox if world["people"]["customer_admin"].email in m.to]
    assert len(to_a) == 1
    assert "Hetzner" in to_a[0].subject
    assert "26.04.2027" in to_a[0].body


def test_replace_names_old_and_new_and_add_notices_everyone_running(world, register):
    with _at(FRIDAY):
        new = subprocessor_replace(
            actor=None, subprocessor=register, name="IONOS SE", service="Hosting",
            location="Karlsruhe", country="de", safeguard=Safeguard.EU_EEA,
            data_categories="alle Daten des Portals", valid_from=date(2027, 4, 1))
    assert new.predecessor == register and new.country == "DE"
    notice = ChangeNotice.objects.get(subject_id=str(new.pk),
                                      customer=world["orgs"]["customer_a"])
    assert notice.title == "IONOS SE ersetzt Hetzner Online GmbH"
    assert "Bisher: Hetzner" in notice.text and "Künftig: IONOS SE" in notice.text


def test_the_first_add_notices_running_customers(world, register):
    assert ChangeNotice.objects.filter(subject_id=str(register.pk)).count() == 2


def test_ending_sends_no_notice_and_closes_the_row(world, register):
    before = ChangeNotice.objects.count()
    with _at(FRIDAY):
        subprocessor_end(actor=None, subprocessor=register, valid_to=date(2027, 6, 30))
    register.refresh_from_db()
    assert register.valid_to == date(2027, 6, 30)
    assert ChangeNotice.objects.count() == before
    assert AuditEvent.objects.filter(action="subprocessor.ended").count() == 1
    with _at(FRIDAY), pytest.raises(ValidationError):
        _change_on_friday(world, register)  # an ended row is not changed any more


@pytest.mark.parametrize("who", ["provider_staff", "dpo", "partner_support", "customer_admin"])
def test_only_provider_admins_write_the_register(world, register, who):
    before = SubProcessor.objects.count()
    with _at(FRIDAY), pytest.raises(PermissionDenied):
        subprocessor_change(actor=world["people"][who], subprocessor=register,
                            valid_from=date(2027, 5, 1), location="Nürnberg")
    assert SubProcessor.objects.count() == before


@pytest.mark.parametrize("changes, field", [
    ({"valid_from": date(2027, 3, 25), "location": "Nürnberg"}, "valid_from"),  # the past
    ({"valid_from": date(2027, 5, 1), "location": "Falkenstein"}, None),  # nothing changed
    ({"valid_from": date(2027, 5, 1), "country": "Deutschland"}, "country"),
])
def test_bad_changes_are_refused_and_nothing_changes(world, register, changes, field):
    rows, notices = SubProcessor.objects.count(), ChangeNotice.objects.count()
    with _at(FRIDAY), pytest.raises(ValidationError) as refused:
        subprocessor_change(actor=None, subprocessor=register, **changes)
    if field:
        assert field in refused.value.message_dict
    register.refresh_from_db()
    assert register.valid_to is None
    assert (SubProcessor.objects.count(), ChangeNotice.objects.count()) == (rows, notices)


def test_a_valid_from_inside_the_window_is_allowed(world, register):
    # 002 AVV §7: the customer objects within 30 days *after* the change.
    with _at(FRIDAY):
        new = subprocessor_change(actor=None, subprocessor=register, valid_from=FRIDAY.replace(
            day=29), service="Rechenzentrum und Backup")
    assert new.valid_from < ChangeNotice.objects.filter(subject_id=str(new.pk)).first().deadline


# --- Selectors ------------------------------------------------------------------------------

def test_pending_rows_with_their_notices_and_the_preview(world, register):
    new = _change_on_friday(world, register)
    with _at(FRIDAY):
        [pending] = subprocessors_pending(world["people"]["dpo"])
        preview = subprocessor_change_preview()
    assert pending["subprocessor"] == new and pending["predecessor"] == register
    assert [n.customer.name for n in pending["notices"]] == ["Kunde A", "Kunde Direkt"]
    assert preview == {"customers": 2, "deadline": date(2027, 4, 26)}
    with _at(FRIDAY):
        [seen] = subprocessors_pending(world["people"]["partner_support"])
    assert [n.customer.name for n in seen["notices"]] == ["Kunde A"]


def test_published_avv_renders_the_register_in_force(world, register):
    from gdpr.services import avv_version_publish

    with _at(FRIDAY):
        version = avv_version_publish(actor=None, version=draft_version())
        assert subprocessors_for_avv(FRIDAY) == [{
            "name": "Hetzner Online GmbH", "service": "Rechenzentrum (Hosting)",
            "location": "Falkenstein (DE)", "safeguard": "keine Übermittlung (EU/EWR)"}]
    assert "Hetzner Online GmbH" in version.text_de
    assert "Falkenstein (DE)" in version.text_de


# --- Objections and cases -------------------------------------------------------------------

def _notice_of_a(world, row) -> ChangeNotice:
    return ChangeNotice.objects.get(subject_id=str(row.pk), customer=world["orgs"]["customer_a"])


def test_objection_without_reason_is_refused_and_opens_no_case(world, register):
    notice = _notice_of_a(world, _change_on_friday(world, register))
    with _at(date(2027, 4, 1)), pytest.raises(ValidationError) as refused:
        change_notice_object(actor=world["people"]["customer_admin"], notice=notice,
                             reason="  ")
    assert "reason" in refused.value.message_dict
    assert not ObjectionCase.objects.exists()


def _objected(world, register) -> ObjectionCase:
    notice = _notice_of_a(world, _change_on_friday(world, register))
    with _at(date(2027, 4, 26)):  # the deadline itself
        change_notice_object(actor=world["people"]["customer_admin"], notice=notice,
                             reason="Nürnberg liegt außerhalb unseres Notfallkonzepts.")
    return ObjectionCase.objects.get()


def test_objection_opens_one_audited_case(world, register):
    case = _objected(world, register)
    assert case.customer == world["orgs"]["customer_a"]
    assert case.resolution == CaseResolution.OPEN
    event = AuditEvent.objects.get(action="objection_case.opened")
    assert event.target_id == str(case.pk)
    assert event.details["deadline"] == "2027-04-26"
    assert list(objection_cases_open(world["people"]["dpo"])) == [case]
    assert list(objection_cases_open(world["people"]["partner_support_b"])) == []


def test_the_dpo_resolves_once_with_a_note(world, register):
    case = _objected(world, register)
    dpo = world["people"]["dpo"]
    with pytest.raises(ValidationError) as refused:
        objection_case_resolve(actor=dpo, case=case, resolution=CaseResolution.RESOLVED,
                               note=" ")
    assert "note" in refused.value.message_dict
    case = objection_case_resolve(actor=dpo, case=case,
                                  resolution=CaseResolution.SERVICE_ENDED,
                                  note="Server Management endet zum 30.04.2027.")
    case.refresh_from_db()
    assert case.resolution == CaseResolution.SERVICE_ENDED
    assert case.resolved_by == dpo and case.resolved_at is not None
    assert AuditEvent.objects.filter(action="objection_case.resolved").count() == 1
    with pytest.raises(ValidationError):
        objection_case_resolve(actor=dpo, case=case, resolution=CaseResolution.RESOLVED,
                               note="noch einmal")
    assert list(objection_cases_open(dpo)) == []


def test_the_provider_admin_may_resolve_too(world, register):
    case = _objected(world, register)
    objection_case_resolve(actor=world["people"]["provider_admin"], case=case,
                           resolution=CaseResolution.RESOLVED, note="Geklärt im Gespräch.")
    case.refresh_from_db()
    assert case.resolution == CaseResolution.RESOLVED


@pytest.mark.parametrize("who", ["partner_support", "customer_admin", "customer_member",
                                 "provider_staff"])
def test_others_cannot_resolve(world, register, who):
    case = _objected(world, register)
    with pytest.raises(PermissionDenied):
        objection_case_resolve(actor=world["people"][who], case=case,
                               resolution=CaseResolution.RESOLVED, note="Vermerk")
    case.refresh_from_db()
    assert case.resolution == CaseResolution.OPEN


def test_a_draft_renders_the_same_bytes_until_the_register_changes(world, register):
    from gdpr.avv import avv_sha256, avv_text_of

    version = draft_version()
    with _at(FRIDAY):
        first, second = avv_text_of(version), avv_text_of(version)
    assert first == second and avv_sha256(first) == avv_sha256(second)
    _change_on_friday(world, register)
    with _at(date(2027, 5, 1)):
        changed = avv_text_of(version)
    assert changed != first and "Nürnberg (DE)" in changed
