"""What the records of processing activities say (Art. 30 DSGVO, DOMAIN §6); the services in
gdpr/services/records.py write them.

- Art. 30(1), the provider's own processing: :data:`CONTROLLER_DEFAULTS`, one entry per
  processing the portal itself performs (customer administration and accounts, contracts and
  billing, support tickets once the support app registers them, remote monitoring, access and
  audit logs, service e-mail, the data-protection evidence). There is no newsletter: the
  portal sends only service e-mail, so no record for one. A default whose registry entries
  are not registered yet (e.g. support tickets) is left out.
- Art. 30(2), processing on behalf of one customer: :func:`processor_record_fields` builds
  it from the customer's running bookings (plan family → processing description), the AVV in
  force (data and subject categories quoted from its binding text, TOM reference) and the
  sub-processors in force (recipients, third-country transfers).
- Retention is never typed here: a record names registry entries (``retention_entries``,
  model labels of portal/privacy.py) and :func:`retention_text` writes the text from their
  rules, so the register says what the purge and the retention jobs actually do.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.apps import apps
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.models import Booking, BookingState, PlanFamily
from gdpr.models import AvvVersion, RecordKind, Safeguard, SubProcessor
from gdpr.selectors.subprocessors import subprocessors_in_force
from portal.privacy import Retention, entries


@dataclass(frozen=True)
class ControllerDefault:
    """One Art. 30(1) record; its ``name`` identifies it when the defaults are written again."""

    name: str
    purposes: str
    legal_basis: str
    data_categories: str
    subject_categories: str
    retention_entries: tuple[str, ...]
    recipients: str = ""


_HOSTING = "Unterauftragsverarbeiter laut Register (Betrieb und Hosting des Portals)"

CONTROLLER_DEFAULTS: tuple[ControllerDefault, ...] = (
    ControllerDefault(
        name="Kundenverwaltung und Portalkonten",
        purposes="Verwaltung der Kunden und Partner, persönliche Konten mit zweitem Faktor "
                 "für den Zugang zum Kundenportal, Einladungen und Rollen.",
        legal_basis="Art. 6 Abs. 1 lit. b DSGVO (Vertrag); Art. 6 Abs. 1 lit. c i. V. m. "
                    "Art. 32 DSGVO (Sicherheit der Verarbeitung: persönliche Konten, MFA).",
        data_categories="Personenstammdaten (Name), Kommunikationsdaten (E-Mail), "
                        "Anmeldedaten (Passwort-Hash, zweiter Faktor), Sitzungen, Rolle.",
        subject_categories="Ansprechpartner und Beschäftigte der Kunden und Partner; "
                           "Beschäftigte des Anbieters.",
        retention_entries=("portal.Organisation", "portal.Membership", "portal.User",
                           "account.EmailAddress", "account.EmailConfirmation",
                           "otp_totp.TOTPDevice", "otp_static.StaticDevice",
                           "otp_static.StaticToken", "portal.PersonSession"),
        recipients=_HOSTING),
    ControllerDefault(
        name="Vertragsverwaltung und Abrechnung",
        purposes="Rahmenverträge, Buchungen je Gerät, Kündigungen, Änderungsmitteilungen, "
                 "Rechnungen und Vertragsdokumente.",
        legal_basis="Art. 6 Abs. 1 lit. b DSGVO (Vertrag); Art. 6 Abs. 1 lit. c DSGVO i. V. m. "
                    "§ 147 AO, § 257 HGB (Aufbewahrung).",
        data_categories="Kunden-Stammdaten, Vertragsabrechnungs- und Zahlungsdaten, "
                        "Kundenhistorie, wer gebucht oder gekündigt hat.",
        subject_categories="Ansprechpartner und Beschäftigte der Kunden.",
        retention_entries=("contracts.Contract", "contracts.Booking", "portal.Document",
                           "portal.ChangeNotice"),
        recipients=_HOSTING + "; Steuerberatung und Finanzbehörden im Rahmen gesetzlicher "
                              "Pflichten"),
    ControllerDefault(
        name="Support-Tickets",
        purposes="Annahme, Bearbeitung und Dokumentation von Störungen und Anfragen "
                 "(1st Level Partner, 2nd Level Anbieter), SLA-Fristen.",
        legal_basis="Art. 6 Abs. 1 lit. b DSGVO (Vertrag).",
        data_categories="Name, E-Mail, Standort, Beschreibung der Störung (Freitext).",
        subject_categories="Melder und Betroffene bei Kunden und Partnern.",
        retention_entries=("support.Ticket",), recipients=_HOSTING),
    ControllerDefault(
        name="Fernwartung und Überwachung (RMM)",
        purposes="Geräteinventar, Überwachung des Zustands (Virenschutz, Patches), Alarme "
                 "und Monatsberichte der betreuten Geräte.",
        legal_basis="Art. 6 Abs. 1 lit. b DSGVO (Vertrag); Art. 6 Abs. 1 lit. f DSGVO "
                    "(Sicherheit der betreuten Systeme).",
        data_categories="Gerätedaten (Hostname, Seriennummer, Standort), Online-Kennungen, "
                        "wer Geräte angelegt oder importiert hat.",
        subject_categories="Nutzer der betreuten Geräte bei den Kunden.",
        retention_entries=("devices.Device", "devices.DeviceImport"), recipients=_HOSTING),
    ControllerDefault(
        name="Zugriffs- und Änderungsprotokolle",
        purposes="Nachweis, wer wann auf personenbezogene Daten zugegriffen und was geändert "
                 "hat (Zugriffskontrolle, Rechenschaft).",
        legal_basis="Art. 6 Abs. 1 lit. c i. V. m. Art. 5 Abs. 2, Art. 32 DSGVO.",
        data_categories="Nutzungs- und Protokolldaten, IP-Adresse, Browser.",
        subject_categories="Alle Nutzer des Portals und der Verwaltung.",
        retention_entries=("portal.AccessLogEntry", "portal.AuditEvent", "admin.LogEntry"),
        recipients=_HOSTING),
    ControllerDefault(
        name="Service-E-Mails",
        purposes="Buchungsbestätigungen, Sicherheits- und Änderungsmitteilungen, Einladungen "
                 "(kein Newsletter).",
        legal_basis="Art. 6 Abs. 1 lit. b DSGVO (Vertrag); Art. 6 Abs. 1 lit. c DSGVO "
                    "(Mitteilungspflichten).",
        data_categories="Name, E-Mail, Inhalt der Mitteilung.",
        subject_categories="Empfänger bei Kunden, Partnern und dem Anbieter.",
        retention_entries=("portal.Notification",), recipients=_HOSTING),
    ControllerDefault(
        name="Datenschutz-Nachweise (AVV, Unterauftragsverarbeiter, Prüfungen)",
        purposes="Annahmen der AVV, Register der Unterauftragsverarbeiter, Widersprüche und "
                 "Prüfungen des Verzeichnisses durch den Datenschutzbeauftragten.",
        legal_basis="Art. 6 Abs. 1 lit. c i. V. m. Art. 28 Abs. 9, Art. 5 Abs. 2, Art. 30 "
                    "DSGVO.",
        data_categories="Name, IP-Adresse, Browser, Zeitpunkt der Annahme, Vermerke.",
        subject_categories="Administratoren der Kunden; Beschäftigte des Anbieters.",
        retention_entries=("gdpr.AvvAcceptance", "gdpr.AvvVersion", "gdpr.ObjectionCase",
                           "gdpr.ProcessingReview", "gdpr.SubProcessor"),
        recipients=_HOSTING),
)

#: What the provider does for the customer, per booked product family (DOMAIN §2).
FAMILY_PROCESSING = {
    PlanFamily.MANAGED_CLIENT: "Managed Client: Fernwartung, Patch-Management, Überwachung "
                               "und Softwareverteilung der Arbeitsplatz-PCs; Einsicht in "
                               "Daten nur, soweit für Betrieb und Fehlerbehebung nötig.",
    PlanFamily.SERVER_MANAGEMENT: "Server Management: Überwachung rund um die Uhr, "
                                  "Sicherheitsupdates, Fernwartung und Anwendungsbetreuung "
                                  "der Server des Auftraggebers.",
    PlanFamily.ANTIVIRUS: "Anti-Virus Management: Betrieb des Virenschutzes, Prüfung der "
                          "Signaturen, Bearbeitung von Funden auf den Geräten.",
}

#: The processor record's retention: the customer's data in the portal, purged after the end.
PROCESSOR_RETENTION_ENTRIES = ("devices.Device", "devices.DeviceImport", "contracts.Booking",
                               "portal.Document", "portal.Membership")


def registered(labels: Iterable[str]) -> list[str]:
    """The labels of ``labels`` that the privacy registry knows, in their order."""
    return [label for label in labels if label in entries]


def _period_words(retention: Retention) -> str:
    period = retention.period
    if period.months and not period.months % 12 and not (period.weeks or period.days):
        years = period.months // 12
        return ngettext("%(n)d Jahr", "%(n)d Jahre", years) % {"n": years}
    from contracts.terms import period_words

    return period_words(str(period))


def _model_name(label: str) -> str:
    return str(apps.get_model(label)._meta.verbose_name_plural)


def retention_line(label: str) -> str:
    """The rule of one registry entry in words (one line of a record's retention)."""
    entry = entries.get(label)
    name = _model_name(label)
    if entry.retention is None:
        return _("%(name)s: keine gesetzliche Aufbewahrungspflicht; gelöscht auf Antrag der "
                 "Person (Art. 17 DSGVO) und mit den Daten des Kunden nach Vertragsende.") % {
            "name": name}
    retention = entry.retention
    return _("%(name)s: %(period)s ab %(starts)s (%(basis)s).") % {
        "name": name, "period": _period_words(retention), "starts": retention.starts,
        "basis": retention.basis}


def retention_text(labels: Sequence[str]) -> str:
    """A record's retention, one line per registry entry it names (unknown ones left out)."""
    return "\n".join(retention_line(label) for label in registered(labels))


# --- Art. 30(2): from bookings, AVV and sub-processors -----------------------------------------


def recipients_text(subprocessors: Sequence[SubProcessor], extra: str = "") -> str:
    lines = [f"{s.name} – {s.service} ({s.location}, {s.country})" for s in subprocessors]
    return "\n".join([*([extra] if extra else []), *lines])


def third_country_text(subprocessors: Sequence[SubProcessor]) -> str:
    """The transfers outside the EU/EEA with their safeguard; empty: none."""
    return "\n".join(f"{s.name}: {s.country} – {Safeguard(s.safeguard).label}"
                     for s in subprocessors if s.safeguard != Safeguard.EU_EEA)


_SECTION = r"<h3>\({number}\)[^<]*</h3>\s*<ul>(.*?)</ul>"
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def avv_list(version: AvvVersion, number: int) -> list[str]:
    """The items of the list under heading ``(number)`` of §1 of the version's binding text:
    (3) the kinds of data, (4) the categories of data subjects."""
    match = re.search(_SECTION.format(number=number), version.text_de, re.S)
    if match is None:
        return []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in _ITEM.findall(match.group(1))]


def booked_services(customer) -> list[dict]:
    """The customer's running bookings per plan: family, plan name, devices (sorted)."""
    rows = (Booking.objects.filter(customer=customer, state__in=BookingState.RUNNING)
            .values("family", "plan_name").annotate(devices=Count("device", distinct=True))
            .order_by("family", "plan_name"))
    return [{"family": row["family"], "plan": row["plan_name"], "devices": row["devices"]}
            for row in rows]


def processor_record_fields(customer, *, avv: AvvVersion, today: date) -> dict | None:
    """The fields of ``customer``'s Art. 30(2) record, or ``None`` without running bookings."""
    services = booked_services(customer)
    if not services:
        return None
    families = sorted({row["family"] for row in services})
    plans = ", ".join(f"{row['plan']} ({row['devices']})" for row in services)
    in_force = list(subprocessors_in_force(today))
    return {
        "kind": RecordKind.PROCESSOR,
        "name": _("Auftragsverarbeitung für %(customer)s") % {"customer": customer.name},
        "purposes": "\n".join([*(FAMILY_PROCESSING[PlanFamily(f)] for f in families),
                               _("Gebuchte Leistungen (Geräte): %(plans)s") % {"plans": plans}]),
        "legal_basis": _("Art. 28 Abs. 3 DSGVO: Weisung des Verantwortlichen nach der AVV "
                         "Version %(label)s.") % {"label": avv.label},
        "data_categories": "\n".join(avv_list(avv, 3)),
        "subject_categories": "\n".join(avv_list(avv, 4)),
        "recipients": recipients_text(in_force),
        "third_country_transfers": third_country_text(in_force),
        "retention_entries": registered(PROCESSOR_RETENTION_ENTRIES),
        "retention": retention_text(PROCESSOR_RETENTION_ENTRIES),
        "tom_version": avv,
        "services": services,
    }


def controller_record_fields(default: ControllerDefault, *, avv: AvvVersion | None,
                             today: date) -> dict | None:
    """The fields of one Art. 30(1) record; ``None`` while the registry has none of its
    entries (the app holding that data is not installed)."""
    labels = registered(default.retention_entries)
    if not labels:
        return None
    in_force = list(subprocessors_in_force(today))
    return {
        "kind": RecordKind.CONTROLLER, "name": default.name, "purposes": default.purposes,
        "legal_basis": default.legal_basis, "data_categories": default.data_categories,
        "subject_categories": default.subject_categories,
        "recipients": recipients_text(in_force, default.recipients),
        "third_country_transfers": third_country_text(in_force),
        "retention_entries": labels, "retention": retention_text(labels),
        "tom_version": avv, "services": [],
    }
