"""Deletion certificates: the PDF (reference, counts, stores by their German names, what was
retained, the digest) without any personal data; the database refuses changes; the read-only
admin for the DPO and the provider admin (not for a purged customer's certificate); the DPO's
start page lists the newest certificates and the active holds with flat queries."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from gdpr.certificates import CERTIFICATE_DOCUMENT, certificate_document_create
from gdpr.models import CertificateKind, DataSubjectRequest, DeletionCertificate
from gdpr.services.holds import legal_hold_place
from portal.models import AuditEvent, Organisation
from portal.roles import Role
from tests.factories import OrganisationFactory, make_person

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
PERFORMED = datetime(2027, 2, 26, 3, 15, 7, tzinfo=BERLIN)
SHA = "ab" * 32

STORES = [
    {"store": "devices.Device", "kind": "table", "before": 1234, "after": 0,
     "action": "deleted"},
    {"store": "portal.User", "kind": "table", "before": 7, "after": 7,
     "action": "pseudonymised"},
    {"store": "portal.AuditEvent", "kind": "log", "before": 88, "after": 88,
     "action": "pseudonymised+retained"},
    {"store": "Dateien (Dokumente)", "kind": "files", "before": 5, "after": 0,
     "action": "deleted"},
    {"store": "Sitzungen und Zähler im Cache", "kind": "cache", "before": 3, "after": 0,
     "action": "cleared"},
]
RETAINED = [
    {"store": "portal.AuditEvent", "count": 88, "basis": "§§ 195, 199 BGB",
     "until": "2030-12-31"},
    {"store": "gdpr.AvvAcceptance", "count": 2, "basis": "Art. 28 Abs. 9 DSGVO",
     "until": "2030-12-31"},
]


def _certificate(customer=None, *, kind=CertificateKind.PURGE, reference="K-10042",
                 request=None, performed_at=PERFORMED) -> DeletionCertificate:
    return DeletionCertificate(
        kind=kind, reference=reference, customer=customer, request=request,
        contract_end=date(2026, 12, 31) if kind == CertificateKind.PURGE else None,
        performed_at=performed_at, performed_by="Löschlauf (gdpr.purge_due)",
        method="Löschen und Pseudonymisieren über das Datenschutz-Register",
        stores=STORES, retained=RETAINED, deleted_rows=1239, deleted_ids_sha256=SHA,
        backup_expires_on=date(2027, 3, 28), rule_version="2026-12/0123456789ab")


def _saved(certificate: DeletionCertificate) -> DeletionCertificate:
    with transaction.atomic():
        certificate.document = certificate_document_create(certificate)
        certificate.save()
    return certificate


def _text(document) -> str:
    with document.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def purged_people(world):
    """Kunde A with people, their IPs in the audit trail: none of it may reach the PDF."""
    customer = world["orgs"]["customer_a"]
    customer.customer_number = "K-10042"
    customer.save(update_fields=["customer_number"])
    people = [world["people"]["customer_admin"], world["people"]["customer_member"],
              make_person(Role.CUSTOMER_MEMBER, customer, first_name="Renate",
                          last_name="Schwarzkopf", email="renate.schwarzkopf@kunde-a.example")]
    ips = ["203.0.113.77", "198.51.100.23", "2001:db8::4711"]
    for person, ip in zip(people, ips, strict=True):
        AuditEvent.objects.create(actor=person, actor_label=person.email, organisation=customer,
                                  action="test.marker", target_repr=person.get_full_name(),
                                  ip_address=ip)
    secrets = [customer.name, *ips]
    for person in people:
        secrets += [person.email, person.first_name, person.last_name, person.get_full_name()]
    return customer, secrets


# --- the PDF ----------------------------------------------------------------------------------


def test_the_pdf_shows_reference_counts_stores_and_the_digest(purged_people):
    customer, _secrets = purged_people
    certificate = _certificate(customer)
    document = certificate_document_create(certificate)
    assert (document.kind, document.customer) == (CERTIFICATE_DOCUMENT, customer)
    assert document.retain_until == date(2030, 12, 31)  # 3 years after the end of 2027
    text = _text(document)
    for expected in ("Löschprotokoll", "Löschung nach Vertragsende", "K-10042", "31.12.2026",
                     "26.02.2027 03:15:07", "Europe/Berlin", "Löschlauf (gdpr.purge_due)",
                     "Datenschutz-Register", "1239", "1234", "28.03.2027",
                     "2026-12/0123456789ab", "Geräte", "devices.Device", "Protokoll",
                     "Dateien (Dokumente)", "Zwischenspeicher (Cache)", "geleert",
                     "pseudonymisiert, aufbewahrt", "Art. 28 Abs. 9 DSGVO", "31.12.2030",
                     "Reihenfolge der Löschung"):
        assert expected in text, expected
    assert SHA in text.replace(" ", "")


def test_the_pdf_holds_no_personal_data(purged_people):
    customer, secrets = purged_people
    text = _text(certificate_document_create(_certificate(customer)))
    found = [secret for secret in secrets if secret and secret in text]
    assert found == []


def test_the_pdf_is_reproducible_and_german_whatever_the_language(purged_people):
    from django.utils import translation

    customer, _secrets = purged_people
    first = certificate_document_create(_certificate(customer))
    with translation.override("en"):
        again = certificate_document_create(_certificate(customer))
    assert again.sha256 == first.sha256
    assert "Löschprotokoll" in _text(again)


def test_an_erasure_certificate_belongs_to_the_persons_organisation_or_the_provider(world):
    request = DataSubjectRequest.objects.create(
        kind="erasure", channel="letter", requester_name="Hilde Sommer",
        received_on=date(2027, 1, 4), deadline=date(2027, 2, 4),
        customer=world["orgs"]["customer_b"])
    document = certificate_document_create(_certificate(
        kind=CertificateKind.ERASURE, reference=f"Betroffenenanfrage Nr. {request.pk}",
        request=request))
    assert document.customer == world["orgs"]["customer_b"]
    text = _text(document)
    assert f"Betroffenenanfrage Nr. {request.pk}" in text and "Art. 17 DSGVO" in text
    assert "Hilde Sommer" not in text and "Kunde B" not in text

    without = DataSubjectRequest.objects.create(
        kind="erasure", channel="email", requester_name="Ohne Konto",
        received_on=date(2027, 1, 4), deadline=date(2027, 2, 4))
    document = certificate_document_create(_certificate(
        kind=CertificateKind.ERASURE, reference=f"Betroffenenanfrage Nr. {without.pk}",
        request=without))
    assert document.customer == world["orgs"]["provider"]


# --- insert-only ------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_a_certificate(world):
    certificate = _saved(_certificate(world["orgs"]["customer_a"]))
    with pytest.raises(IntegrityError), transaction.atomic():
        DeletionCertificate.objects.filter(pk=certificate.pk).update(deleted_rows=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeletionCertificate.objects.filter(pk=certificate.pk).delete()
    certificate.refresh_from_db()
    assert certificate.deleted_rows == 1239


# --- admin ------------------------------------------------------------------------------------


def _measure(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(queries.captured_queries)


def _certificates(n, *, purged=False):
    """Purge certificates of ``n`` distinct customers (without PDF: rendering is not the
    subject of the list)."""
    made = []
    for _i in range(n):
        customer = OrganisationFactory(purged_at=timezone.now() if purged else None)
        certificate = _certificate(customer, reference=f"K-{customer.pk:05}")
        certificate.save()
        made.append(certificate)
    return made


@pytest.mark.parametrize("who", ["dpo", "provider_admin"])
def test_the_certificate_list_is_read_only_and_flat(world, verified_client, who):
    client = verified_client(world["people"][who])
    url = reverse("admin:gdpr_deletioncertificate_changelist")
    _certificates(3)
    response, small = _measure(client, url)
    _certificates(12)
    response, large = _measure(client, url)
    assert response.context["cl"].result_count == 15
    print(f"\ndeletion certificates ({who}): {small} queries at 3 rows, {large} at 15")
    assert large == small
    assert reverse("admin:gdpr_deletioncertificate_add") not in response.text
    assert client.get(reverse("admin:gdpr_deletioncertificate_add")).status_code == 403


def test_the_certificate_page_shows_the_tables_and_the_pdf(world, verified_client):
    certificate = _saved(_certificate(world["orgs"]["customer_a"]))
    client = verified_client(world["people"]["dpo"])
    url = reverse("admin:gdpr_deletioncertificate_change", args=[certificate.pk])
    response, _count = _measure(client, url)
    text = response.text
    for expected in ("K-10042", "Geräte", "devices.Device", "1234", "Dateien (Dokumente)",
                     "pseudonymisiert, aufbewahrt", "Art. 28 Abs. 9 DSGVO", "31.12.2030", SHA,
                     "2026-12/0123456789ab", "PDF herunterladen"):
        assert expected in text, expected
    assert 'name="_save"' not in text
    download = client.get(reverse("portal:document_download", args=[certificate.document_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    delete = reverse("admin:gdpr_deletioncertificate_delete", args=[certificate.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DeletionCertificate.objects.filter(pk=certificate.pk).exists()


def test_a_purged_customers_certificate_is_the_dpos_only(world, verified_client):
    customer = world["orgs"]["customer_b"]
    certificate = _saved(_certificate(customer, reference="K-20001"))
    Organisation.objects.filter(pk=customer.pk).update(purged_at=timezone.now(), name="")
    erasure = _certificate(kind=CertificateKind.ERASURE, reference="Betroffenenanfrage Nr. 9")
    erasure.save()
    admin, dpo = world["people"]["provider_admin"], world["people"]["dpo"]
    assert set(DeletionCertificate.objects.visible_to(admin)) == {erasure}
    assert set(DeletionCertificate.objects.visible_to(dpo)) == {certificate, erasure}
    change = reverse("admin:gdpr_deletioncertificate_change", args=[certificate.pk])
    admin_client = verified_client(admin)
    assert "K-20001" not in admin_client.get(
        reverse("admin:gdpr_deletioncertificate_changelist")).text
    assert admin_client.get(change).status_code == 302  # "does not exist" → back to the list
    pdf = reverse("portal:document_download", args=[certificate.document_id])
    assert admin_client.get(pdf).status_code == 404
    dpo_client = verified_client(dpo)
    assert dpo_client.get(change).status_code == 200
    assert dpo_client.get(pdf).status_code == 200


@pytest.mark.parametrize("who", ["provider_staff", "partner_support"])
def test_others_have_no_certificates(world, verified_client, who):
    client = verified_client(world["people"][who])
    assert client.get(reverse("admin:gdpr_deletioncertificate_changelist")).status_code == 403


# --- the DPO's start page ---------------------------------------------------------------------


def _holds(dpo, n):
    for _i in range(n):
        with transaction.atomic():
            legal_hold_place(actor=dpo, customer=OrganisationFactory(), reason="Rechtsstreit")


def test_the_start_page_lists_certificates_and_holds_flat(world, verified_client):
    dpo = world["people"]["dpo"]
    client = verified_client(dpo)
    url = reverse("admin:index")
    response, _count = _measure(client, url)
    assert "Keine aktive Aufbewahrungssperre." in response.text
    assert "Noch kein Löschprotokoll." in response.text
    _certificates(3)
    _holds(dpo, 3)
    response, small = _measure(client, url)
    assert "Löschungen und Aufbewahrungssperren" in response.text
    assert "Alle aktiven Sperren ansehen (3)" in response.text
    _certificates(12)
    _holds(dpo, 12)
    older = _certificate(OrganisationFactory(), reference="K-ALT",
                         performed_at=PERFORMED - timedelta(days=400))
    older.save()
    response, large = _measure(client, url)
    assert "Alle aktiven Sperren ansehen (15)" in response.text
    assert "K-ALT" not in response.text, "only the newest ten"
    print(f"\nDPO start page with certificates and holds: {small} queries at 3, {large} at 15")
    assert large == small


@pytest.mark.parametrize("who", ["provider_staff", "partner_support"])
def test_others_do_not_get_the_purge_section(world, verified_client, who):
    response = verified_client(world["people"][who]).get(reverse("admin:index"))
    assert "Löschungen und Aufbewahrungssperren" not in response.text
