"""The gdpr demo data (issue 10 "Done when"): a published AVV version with TOMs a–h (after
seed 002 §23, section 4, adapted to a managed-IT provider), acceptances by some customers'
admins — not by Bäckerei Schröder's, so the demo shows the banner and the acceptance — the
sub-processor register with one pending change, and the records of processing with one
review overdue. Idempotent: ``seed_demo`` runs any number of times."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from gdpr.models import (
    AvvAcceptance,
    AvvStatus,
    AvvVersion,
    ProcessingRecord,
    Safeguard,
    SubProcessor,
    TomMeasure,
)
from gdpr.services.avv import avv_accept, avv_version_publish
from gdpr.services.records import processing_records_generate_all, processing_review_record
from gdpr.services.subprocessors import subprocessor_replace
from portal.models import Membership
from portal.roles import Role

DEMO_VERSION = "2026-1"

#: Category -> measures (German binding wording, English reading wording).
TOMS: dict[str, list[tuple[str, str]]] = {
    "a": [
        ("Der Zugang zu den Büroräumen ist nur mit Sicherheitsschlüssel oder Transponder "
         "möglich; nur feste Beschäftigte erhalten ihn.",
         "The offices can only be entered with a security key or transponder, issued only "
         "to permanent employees."),
        ("Besucher melden sich am Empfang an und werden begleitet.",
         "Visitors register at reception and are accompanied."),
        ("Die Server stehen in einem nach ISO 27001 zertifizierten Rechenzentrum in Frankfurt "
         "am Main mit Zutrittskontrolle, Videoüberwachung, USV und Notstrom.",
         "The servers are housed in an ISO 27001 certified data centre in Frankfurt am Main "
         "with access control, video surveillance, UPS and emergency power."),
    ],
    "b": [
        ("Rollenbasiertes Berechtigungsmodell; jede Person hat ein eigenes Konto.",
         "Role-based permissions; every person has their own account."),
        ("Zwei-Faktor-Anmeldung für alle Konten im Kundenportal, in der Verwaltung und auf "
         "den Fernwartungswerkzeugen.",
         "Two-factor login for every account in the customer portal, the administration and "
         "the remote-maintenance tools."),
        ("Vorgaben zur Passwortlänge und -komplexität; Sperre nach wiederholten Fehlversuchen.",
         "Password length and complexity rules; lock-out after repeated failed attempts."),
        ("Firewalls, Virenschutz und Angriffserkennung im Firmennetz.",
         "Firewalls, anti-virus and intrusion detection in the company network."),
    ],
    "c": [
        ("Übertragungen zu Kundensystemen und Partnern ausschließlich verschlüsselt (TLS, "
         "VPN, SSH).",
         "Transfers to customer systems and partners only encrypted (TLS, VPN, SSH)."),
        ("Datenträger werden verschlüsselt und nach Gebrauch nach DIN 66399 vernichtet.",
         "Storage media are encrypted and destroyed after use per DIN 66399."),
        ("Datenabrufe und Übermittlungen werden protokolliert.",
         "Data retrievals and transfers are logged."),
    ],
    "d": [
        ("Zugriffe von Kunden und Administratoren auf personenbezogene Daten werden "
         "automatisch protokolliert und 90 Tage aufbewahrt.",
         "Access by customers and administrators to personal data is logged automatically "
         "and kept for 90 days."),
        ("Jede Änderung im Portal wird mit Person und Zeitpunkt im Audit-Protokoll erfasst.",
         "Every change in the portal is recorded with person and time in the audit trail."),
    ],
    "e": [
        ("Verarbeitung nur auf dokumentierte Weisung des Auftraggebers (Ticket oder Portal).",
         "Processing only on the controller's documented instruction (ticket or portal)."),
        ("Unterauftragsverarbeiter werden sorgfältig ausgewählt und vertraglich gebunden.",
         "Sub-processors are chosen carefully and bound by contract."),
        ("Kontrollrechte des Auftraggebers.", "The controller's rights of inspection."),
    ],
    "f": [
        ("Tägliche Sicherungen, verschlüsselt und an einem zweiten Standort in der EU.",
         "Daily backups, encrypted and at a second site in the EU."),
        ("Redundante Systeme, Überwachung rund um die Uhr, regelmäßige "
         "Wiederherstellungstests.",
         "Redundant systems, round-the-clock monitoring, regular restore tests."),
    ],
    "g": [
        ("Jeder Datensatz ist seinem Kunden zugeordnet (Mandantentrennung) und wird keinem "
         "anderen Kunden angezeigt.",
         "Every record belongs to its customer (tenant separation) and is never shown to "
         "another customer."),
        ("Test-, Entwicklungs- und Produktivsysteme sind getrennt.",
         "Test, development and production systems are separate."),
    ],
    "h": [
        ("Die TOMs werden jährlich und bei wesentlichen Änderungen geprüft; die Prüfung ist "
         "im Verzeichnis der Verarbeitungstätigkeiten dokumentiert.",
         "The TOMs are reviewed every year and on material changes; the review is recorded "
         "in the records of processing."),
        ("Alarmanlagen und Zutrittskontrolle werden vierteljährlich geprüft.",
         "Alarm systems and access control are checked every quarter."),
    ],
}

#: The register as it stood before the portal (name, service, location, country, safeguard,
#: data categories), in force since REGISTER_SINCE.
REGISTER = [
    ("Hetzner Online GmbH", "Rechenzentrum: Betrieb des Kundenportals und der Fernwartung",
     "Falkenstein (Vogtland)", "DE", Safeguard.EU_EEA,
     "Portalkonten, Kundenstammdaten, Geräteinventar, Protokolle"),
    ("N-able Technologies Ltd.", "Überwachung und Patch-Verwaltung der Geräte (RMM)",
     "Edinburgh", "GB", Safeguard.ADEQUACY,
     "Gerätedaten (Hostname, Seriennummer, Software), Anmeldenamen, IP-Adressen"),
    ("Microsoft Ireland Operations Ltd.", "E-Mail und Telefonie des Supports (Microsoft 365)",
     "Dublin", "IE", Safeguard.EU_EEA, "Kontakt- und Kommunikationsdaten"),
    ("Acronis Germany GmbH", "Cloud-Sicherung der betreuten Server", "Frankfurt am Main", "DE",
     Safeguard.EU_EEA, "Inhalte der gesicherten Systeme"),
]
REGISTER_SINCE = (2025, 1, 1)
#: The pending change: the cloud backup moves to another company, in 45 days (the customers'
#: objection window of 30 days runs from today).
PENDING = {"replaces": "Acronis Germany GmbH", "name": "Backblaze, Inc.",
           "service": "Cloud-Sicherung der betreuten Server",
           "location": "Sacramento (Kalifornien)",
           "country": "US", "safeguard": Safeguard.SCC,
           "data_categories": "Inhalte der gesicherten Systeme (verschlüsselt)"}
PENDING_IN_DAYS = 45

#: Customers whose admins have accepted the demo version (K-10001 has not: the banner).
ACCEPTED_BY = ("K-10002", "K-10003")


def demo_register_seed() -> None:
    """The register in force before the portal: historical rows, entered as they stood (no
    change notices: nothing changes for anyone)."""
    from datetime import date

    if SubProcessor.objects.exists():
        return
    SubProcessor.objects.bulk_create([
        SubProcessor(name=name, service=service, location=location, country=country,
                     safeguard=safeguard, data_categories=categories,
                     valid_from=date(*REGISTER_SINCE))
        for name, service, location, country, safeguard, categories in REGISTER])


def demo_pending_change_seed() -> None:
    """The pending replacement, through the service: every customer with a running contract
    gets its change notice with the objection window."""
    if SubProcessor.objects.filter(name=PENDING["name"]).exists():
        return
    current = SubProcessor.objects.filter(name=PENDING["replaces"], valid_to__isnull=True,
                                          successors__isnull=True).first()
    if current is None:
        return
    values = {key: value for key, value in PENDING.items() if key != "replaces"}
    subprocessor_replace(actor=None, subprocessor=current,
                         valid_from=timezone.localdate() + timedelta(days=PENDING_IN_DAYS),
                         **values)


def demo_avv_seed(organisations: dict) -> AvvVersion:
    version = AvvVersion.objects.filter(label=DEMO_VERSION).first()
    if version is None:
        with transaction.atomic():
            version = AvvVersion.objects.create(label=DEMO_VERSION)
            TomMeasure.objects.bulk_create([
                TomMeasure(version=version, category=category, order=order, text=text,
                           text_en=english)
                for category, measures in TOMS.items()
                for order, (text, english) in enumerate(measures)])
    if version.status == AvvStatus.DRAFT:
        with transaction.atomic():
            version = avv_version_publish(actor=None, version=version)
    for number in ACCEPTED_BY:
        customer = organisations.get(number)
        if customer is None:
            continue
        admins = Membership.objects.filter(organisation=customer, role=Role.CUSTOMER_ADMIN,
                                           user__is_active=True).select_related("user")
        for membership in admins:
            if AvvAcceptance.objects.filter(person=membership.user, version=version).exists():
                continue
            with transaction.atomic():
                avv_accept(actor=membership.user, customer=customer, version=version,
                           sha256_seen=version.sha256, ip="192.0.2.10",
                           user_agent="Mozilla/5.0 (Demo)")
    return version


#: The record whose yearly review the demo shows as overdue (reviewed 400 days ago).
OVERDUE_RECORD = "Zugriffs- und Änderungsprotokolle"


def demo_records_seed(organisations: dict) -> None:
    """The provider's own records and one per customer with bookings, then the DPO's reviews:
    every record reviewed 40 days ago, one 400 days ago (its yearly review is overdue)."""
    processing_records_generate_all(actor=None)
    dpo = (Membership.objects.filter(organisation=organisations["provider"], role=Role.DPO,
                                     user__is_active=True).select_related("user").first())
    if dpo is None:
        return
    today = timezone.localdate()
    for record in ProcessingRecord.objects.filter(is_active=True, reviews__isnull=True):
        overdue = record.name.startswith(OVERDUE_RECORD)
        processing_review_record(
            actor=dpo.user, record=record,
            reviewed_on=today - timedelta(days=400 if overdue else 40), outcome="unchanged",
            notes="Verzeichnis mit der gelebten Praxis abgeglichen; keine Abweichungen.")


def demo_requests_seed(organisations: dict) -> None:
    """Data-subject requests in several states, handled by the DPO: a letter from someone
    without an account (just received), an erasure request whose deadline is a few days
    off (the reminder is due), one overdue in progress, one answered and one refused."""
    from gdpr.models import DataSubjectRequest, RequestChannel, RequestKind
    from gdpr.services.requests import (
        dsr_close,
        dsr_create,
        dsr_identity_checked,
        dsr_refuse,
        dsr_start,
    )
    from portal.models import User

    if DataSubjectRequest.objects.exists():
        return
    dpo = (Membership.objects.filter(organisation=organisations["provider"], role=Role.DPO,
                                     user__is_active=True).select_related("user").first())
    if dpo is None:
        return
    actor, today = dpo.user, timezone.localdate()
    member = User.objects.filter(email="verkauf@baeckerei-schroeder.example").first()
    weber = User.objects.filter(email="it@kanzlei-weber.example").first()

    def create(days_ago, kind, channel, name, email, details):
        return dsr_create(actor=actor, kind=kind, channel=channel,
                          received_on=today - timedelta(days=days_ago), requester_name=name,
                          requester_email=email, details=details)

    create(2, RequestKind.ACCESS, RequestChannel.LETTER, "Jana Winter", "",
           "Auskunft über die zu meiner Person gespeicherten Daten (Brief vom Vortag).")
    if member is not None:
        erasure = create(25, RequestKind.ERASURE, RequestChannel.EMAIL, "Max Müller",
                         member.email, "Bitte löschen Sie mein Konto, ich habe die Firma "
                                       "verlassen.")
        dsr_identity_checked(actor=actor, request=erasure,
                             how="Antwort von der bekannten Adresse bestätigt.")
    overdue = create(40, RequestKind.RECTIFICATION, RequestChannel.EMAIL, "Karl Weber",
                     weber.email if weber else "", "Mein Nachname ist falsch geschrieben.")
    dsr_identity_checked(actor=actor, request=overdue, how="Rückruf unter der bekannten "
                                                           "Telefonnummer.")
    dsr_start(actor=actor, request=overdue)
    answered = create(20, RequestKind.ACCESS, RequestChannel.EMAIL, "Aylin Yilmaz",
                      "praxis@dr-yilmaz.example", "Bitte senden Sie mir eine Kopie meiner "
                                                  "Daten.")
    dsr_identity_checked(actor=actor, request=answered, how="Anmeldung im Portal.")
    dsr_start(actor=actor, request=answered)
    dsr_close(actor=actor, request=answered,
              outcome="Datenkopie (ZIP mit JSON je Eintrag und PDF-Zusammenfassung) übergeben.")
    refused = create(10, RequestKind.OBJECTION, RequestChannel.LETTER, "Unbekannt",
                     "", "Widerspruch gegen jede Verarbeitung, ohne Namen und Anschrift.")
    dsr_refuse(actor=actor, request=refused,
               reason="Die Person ist nicht feststellbar (Art. 11 Abs. 2, Art. 12 Abs. 2 "
                      "DSGVO); um Angaben zur Identität gebeten.")
