"""Records of processing activities (Art. 30 DSGVO): generation from bookings, AVV and
sub-processors, retention from the privacy registry, the DPO's yearly review, the overdue
list, visibility, the exports and the admin."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from contracts.models import Booking, BookingState, Contract, Plan, PlanFamily, PlanUnit
from gdpr.models import (
    ProcessingRecord,
    ProcessingReview,
    RecordKind,
    ReviewOutcome,
    Safeguard,
    SubProcessor,
)
from gdpr.records import CONTROLLER_DEFAULTS, retention_line
from gdpr.register_export import register_export
from gdpr.selectors.records import records_review_overdue, records_visible
from gdpr.services.records import (
    processing_record_generate,
    processing_records_generate_all,
    processing_review_record,
)
from portal.models import AuditEvent, Organisation
from portal.privacy import entries
from tests.factories import DeviceFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 10)


def _plan(family=PlanFamily.MANAGED_CLIENT, name="Managed Client Standard"):
    plan, _ = Plan.objects.get_or_create(
        code=name.lower().replace(" ", "-"),
        defaults={"name": name, "family": family, "tier": name.split()[-1],
                  "unit": PlanUnit.WORKSTATION, "monthly_price": Decimal("8.00")})
    return plan


def _book(customer, plan, *, state=BookingState.ACTIVE):
    contract, _ = Contract.objects.get_or_create(customer=customer,
                                                 defaults={"start": date(2026, 1, 1)})
    return Booking.objects.create(
        customer=customer, contract=contract, device=DeviceFactory(customer=customer),
        plan=plan, plan_name=plan.name, family=plan.family, monthly_price=plan.monthly_price,
        billing_mode=plan.billing_mode, activated_at=timezone.now(),
        active_from=date(2026, 1, 2), term_start=date(2026, 1, 2), state=state)


def _subprocessors():
    SubProcessor.objects.create(name="Rechenzentrum Nord GmbH", service="Hosting",
                                location="Frankfurt am Main", country="DE",
                                data_categories="alle", valid_from=date(2026, 1, 1))
    SubProcessor.objects.create(name="Mail Cloud Inc.", service="E-Mail-Versand",
                                location="Dublin / USA", country="US",
                                safeguard=Safeguard.SCC, data_categories="E-Mail",
                                valid_from=date(2026, 1, 1))
    SubProcessor.objects.create(name="Alt GmbH", service="Backup", location="Berlin",
                                country="DE", data_categories="alle",
                                valid_from=date(2025, 1, 1), valid_to=date(2026, 6, 30))


def _generate(world, customer):
    with transaction.atomic():
        return processing_record_generate(actor=world["people"]["provider_admin"],
                                          customer=customer)


@pytest.fixture
def booked(world, published):
    """Kunde A books two Managed Client PCs and anti-virus; sub-processors are in force."""
    _subprocessors()
    customer = world["orgs"]["customer_a"]
    _book(customer, _plan())
    _book(customer, _plan())
    _book(customer, _plan(PlanFamily.ANTIVIRUS, "Anti-Virus Management"))
    return customer


# --- generation -------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_a_customer_record_is_generated_from_its_running_bookings(world, booked, published):
    record = _generate(world, booked)
    assert (record.kind, record.customer, record.is_active) == (
        RecordKind.PROCESSOR, booked, True)
    assert record.services == [
        {"family": "antivirus", "plan": "Anti-Virus Management", "devices": 1},
        {"family": "managed_client", "plan": "Managed Client Standard", "devices": 2}]
    assert "Managed Client: Fernwartung" in record.purposes
    assert "Anti-Virus Management: Betrieb" in record.purposes
    assert "Server Management" not in record.purposes
    # AVV in force: categories quoted from its binding text, TOMs referenced.
    assert "Kommunikationsdaten (Telefon, E-Mail, IP-Daten)" in record.data_categories
    assert "Auftraggeber sowie dessen Personal und Dienstleister" in record.subject_categories
    assert record.tom_version == published and published.label in record.legal_basis
    # Sub-processors in force: recipients; the one outside the EU/EEA is a transfer.
    assert "Rechenzentrum Nord GmbH" in record.recipients
    assert "Mail Cloud Inc." in record.recipients and "Alt GmbH" not in record.recipients
    assert record.third_country_transfers == (
        "Mail Cloud Inc.: US – Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)")
    assert record.next_review_due == TODAY  # a new record is reviewed first
    assert AuditEvent.objects.filter(action="processing_record.generated",
                                     organisation=booked).count() == 1


@time_machine.travel(TODAY, tick=False)
def test_generating_again_changes_nothing_and_updates_in_place(world, booked):
    first = _generate(world, booked)
    events = AuditEvent.objects.count()
    again = _generate(world, booked)
    assert again.pk == first.pk and AuditEvent.objects.count() == events
    _book(booked, _plan(PlanFamily.SERVER_MANAGEMENT, "Server Management Basis"))
    updated = _generate(world, booked)
    assert updated.pk == first.pk and "Server Management:" in updated.purposes
    assert ProcessingRecord.objects.filter(customer=booked).count() == 1
    assert AuditEvent.objects.filter(action="processing_record.updated").count() == 1


@time_machine.travel(TODAY, tick=False)
def test_a_customer_without_running_bookings_gets_its_record_deactivated(world, booked):
    record = _generate(world, booked)
    Booking.objects.filter(customer=booked).update(state=BookingState.ENDED)
    assert _generate(world, booked).is_active is False
    assert ProcessingRecord.objects.get(pk=record.pk).is_active is False
    assert _generate(world, world["orgs"]["customer_b"]) is None  # never booked: no record


@time_machine.travel(TODAY, tick=False)
def test_generate_all_writes_the_provider_records_and_is_safe_twice(world, booked):
    with transaction.atomic():
        counts = processing_records_generate_all(actor=None)
    names = {r.name for r in ProcessingRecord.objects.filter(kind=RecordKind.CONTROLLER)}
    expected = {d.name for d in CONTROLLER_DEFAULTS
                if any(label in entries for label in d.retention_entries)}
    assert names == expected and "Kundenverwaltung und Portalkonten" in names
    assert counts == {"controller": len(expected), "processor": 1}
    rows, events = ProcessingRecord.objects.count(), AuditEvent.objects.count()
    with transaction.atomic():
        processing_records_generate_all(actor=None)
    assert (ProcessingRecord.objects.count(), AuditEvent.objects.count()) == (rows, events)


def test_only_the_provider_admin_generates(world, booked):
    for who in ("dpo", "provider_staff", "customer_admin"):
        with pytest.raises(PermissionDenied):
            processing_record_generate(actor=world["people"][who], customer=booked)


def test_without_a_published_avv_no_customer_record(world):
    with pytest.raises(ValidationError):
        processing_record_generate(actor=None, customer=world["orgs"]["customer_a"])


@time_machine.travel(TODAY, tick=False)
def test_retention_text_comes_from_the_privacy_registry(world, booked):
    record = _generate(world, booked)
    assert record.retention_entries and all(label in entries for label in
                                            record.retention_entries)
    for label in record.retention_entries:
        assert retention_line(label) in record.retention
    booking_rule = entries.get("contracts.Booking").retention
    assert booking_rule.basis in record.retention and "8 Jahre" in record.retention


# --- reviews ----------------------------------------------------------------------------------


def _record(world, **extra):
    return ProcessingRecord.objects.create(
        kind=RecordKind.CONTROLLER, name=extra.pop("name", "Eigene Verarbeitung"),
        purposes="p", legal_basis="l", data_categories="d", subject_categories="s",
        retention="r", next_review_due=extra.pop("next_review_due", date(2028, 1, 1)), **extra)


def _review(world, record, reviewed_on, who="dpo"):
    return processing_review_record(actor=world["people"][who], record=record,
                                    reviewed_on=reviewed_on, outcome=ReviewOutcome.UNCHANGED,
                                    notes="geprüft")


@time_machine.travel(date(2028, 3, 1), tick=False)
def test_a_review_sets_the_next_due_exactly_one_year_later_also_from_29_february(world):
    record = _record(world)
    review = _review(world, record, date(2028, 2, 29))
    record.refresh_from_db()
    assert record.next_review_due == date(2029, 2, 28)
    assert review.reviewer == world["people"]["dpo"]
    assert AuditEvent.objects.get(action="processing_review.recorded").details[
        "next_review_due"] == "2029-02-28"
    _review(world, record, date(2027, 6, 1), who="provider_admin")  # a late entry, earlier
    record.refresh_from_db()
    assert record.next_review_due == date(2029, 2, 28)  # the latest review counts


@time_machine.travel(date(2028, 3, 1), tick=False)
def test_a_review_in_the_future_or_by_others_is_refused_and_nothing_changes(world):
    record = _record(world)
    with pytest.raises(ValidationError) as refused:
        _review(world, record, date(2028, 3, 2))
    assert "Zukunft" in str(refused.value)
    for who in ("provider_staff", "partner_support", "customer_admin"):
        with pytest.raises(PermissionDenied):
            _review(world, record, date(2028, 3, 1), who=who)
    assert not ProcessingReview.objects.exists()
    record.refresh_from_db()
    assert record.next_review_due == date(2028, 1, 1)


def test_the_overdue_selector_lists_active_records_due_before_today(world):
    overdue = _record(world, name="A überfällig", next_review_due=date(2027, 3, 9))
    _record(world, name="B heute fällig", next_review_due=date(2027, 3, 10))
    _record(world, name="C inaktiv", next_review_due=date(2020, 1, 1), is_active=False)
    dpo = world["people"]["dpo"]
    assert list(records_review_overdue(dpo, TODAY)) == [overdue]
    with_review = records_visible(dpo, TODAY).get(pk=overdue.pk)
    assert with_review.last_reviewed_on is None and with_review.review_overdue is True


def test_partner_and_customer_never_see_the_provider_records(world, booked):
    own = _record(world)
    theirs = ProcessingRecord.objects.create(
        kind=RecordKind.PROCESSOR, customer=booked, name="Im Auftrag", purposes="p",
        legal_basis="l", data_categories="d", subject_categories="s", retention="r",
        next_review_due=TODAY)
    people = world["people"]
    for who in ("partner_support", "customer_admin", "customer_member"):
        assert list(records_visible(people[who], TODAY)) == [theirs], who
    for who in ("partner_support_b", "customer_admin_b"):
        assert not records_visible(people[who], TODAY).exists(), who
    assert set(records_visible(people["dpo"], TODAY)) == {own, theirs}


# --- exports ----------------------------------------------------------------------------------


@pytest.fixture
def register(world, booked):
    with transaction.atomic():
        processing_records_generate_all(actor=None)
    return list(ProcessingRecord.objects.filter(is_active=True))


def test_the_pdf_holds_every_record_name(world, register):
    exported = register_export(world["people"]["dpo"], "pdf")
    reader = PdfReader(io.BytesIO(exported.content))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for record in register:
        assert record.name in text
    assert "Verzeichnis der Verarbeitungstätigkeiten" in text and "1 / " in text
    assert exported.content_type == "application/pdf" and exported.count == len(register)


def test_the_xlsx_opens_and_has_all_rows(world, register):
    exported = register_export(world["people"]["dpo"], "xlsx")
    sheet = load_workbook(io.BytesIO(exported.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Art", "Bezeichnung", "Verantwortlicher (Kunde)")
    assert sorted(row[1] for row in rows[1:]) == sorted(r.name for r in register)


def test_the_csv_is_utf8_with_bom_and_semicolons(world, register):
    exported = register_export(world["people"]["dpo"], "csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Art", "Bezeichnung", "Verantwortlicher (Kunde)", "Kundennummer",
                       "Zwecke", "Rechtsgrundlage", "Kategorien personenbezogener Daten",
                       "Kategorien betroffener Personen", "Empfänger",
                       "Übermittlungen in Drittländer", "Löschfristen", "TOMs (AVV-Version)",
                       "Letzte Prüfung", "Nächste Prüfung fällig"]
    assert len(rows) == len(register) + 1


# --- admin ------------------------------------------------------------------------------------


def _url(name, *args):
    return reverse(f"admin:gdpr_processingrecord_{name}", args=args)


@pytest.mark.parametrize("file_format", ["pdf", "xlsx", "csv"])
def test_downloads_only_for_the_dpo_and_the_provider_admin(world, verified_client, register,
                                                            file_format):
    response = verified_client(world["people"]["dpo"]).get(_url("export", file_format))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="processing_register.exported").count() == 1
    staff = verified_client(world["people"]["provider_staff"])
    assert staff.get(_url("export", file_format)).status_code == 403


def test_the_dpo_records_a_review_in_the_admin_but_cannot_change_the_record(
        world, verified_client):
    record = _record(world)
    client = verified_client(world["people"]["dpo"])
    page = client.get(_url("change", record.pk))
    assert page.status_code == 200 and _url("review", record.pk) in page.content.decode()
    response = client.post(_url("review", record.pk), {
        "reviewed_on": timezone.localdate().isoformat(), "outcome": "unchanged", "notes": "ok"})
    assert response.status_code == 302
    assert record.reviews.count() == 1
    refused = client.post(_url("review", record.pk), {
        "reviewed_on": "2999-01-01", "outcome": "unchanged"})
    assert refused.status_code == 200 and "Zukunft" in refused.content.decode()
    client.post(_url("change", record.pk), {"name": "geändert"})
    record.refresh_from_db()
    assert record.name == "Eigene Verarbeitung"
    assert client.post(_url("generate")).status_code == 403
    assert client.get(_url("delete", record.pk)).status_code == 403


def test_the_provider_admin_generates_from_the_changelist(world, verified_client, booked):
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(_url("generate"))
    assert response.status_code == 302
    assert ProcessingRecord.objects.filter(customer=booked, is_active=True).exists()
    page = client.get(_url("changelist"))
    assert "Verzeichnisse erzeugen" in page.content.decode()


def _bulk_records(n, offset):
    customers = Organisation.objects.bulk_create(OrganisationFactory.build_batch(n))
    ProcessingRecord.objects.bulk_create(
        ProcessingRecord(kind=RecordKind.PROCESSOR, customer=customer,
                         name=f"Auftrag {offset + i}", purposes="p", legal_basis="l",
                         data_categories="d", subject_categories="s", retention="r",
                         next_review_due=date(2020, 1, 1))
        for i, customer in enumerate(customers))


def test_the_changelist_runs_the_same_queries_at_10_and_1000_rows(world, verified_client):
    client = verified_client(world["people"]["dpo"])
    url = _url("changelist") + "?review=overdue"
    counts = []
    for n, offset in ((10, 0), (990, 10)):
        _bulk_records(n, offset)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append((len(queries.captured_queries), response.context["cl"].result_count))
    assert counts[0][0] == counts[1][0] and counts[1][1] == 1000
