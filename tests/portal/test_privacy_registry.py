"""The privacy registry itself (portal/privacy.py): every model with personal data is registered,
entries are checked when they are registered, retention periods end on the right day, and the
listing (command and docs/privacy.md) names every entry."""

from __future__ import annotations

import dataclasses
import io
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Q

from portal.privacy import (
    DELETE,
    INVOICE_RETENTION,
    RETAIN,
    Category,
    PrivacyEntry,
    Retention,
    days,
    entries,
    exempt,
    exemptions,
    register,
    suspect_fields,
    unregistered_models,
    years,
)

DOCS = Path(settings.BASE_DIR) / "docs" / "privacy.md"

REQUIRED = {
    "portal.User", "portal.Membership", "portal.PersonSession", "portal.AuditEvent",
    "portal.AccessLogEntry", "portal.Notification", "account.EmailAddress",
    "otp_totp.TOTPDevice", "otp_static.StaticDevice", "otp_static.StaticToken",
    "devices.Device", "devices.DeviceImport", "contracts.Booking", "contracts.Contract",
}


@contextmanager
def replaced(label: str, entry: PrivacyEntry | None):
    """The registry with ``label``'s entry swapped for ``entry`` (or removed), restored after."""
    original = entries.get(label)
    entries.unregister(label)
    try:
        if entry is not None:
            entries.register(entry)
        yield
    finally:
        if entry is not None:
            entries.unregister(label)
        entries.register(original)


def test_every_model_with_personal_data_is_registered_or_exempted():
    assert unregistered_models() == {}


def test_the_models_of_issue_9_are_registered():
    assert REQUIRED - {entry.model for entry in entries} == set()


def test_a_missing_entry_is_found():
    with replaced("devices.Device", None):
        missing = unregistered_models(["devices"])
    assert missing == {"devices.Device": ["location", "notes", "created_by", "updated_by"]}
    assert unregistered_models(["devices"]) == {}  # restored


def test_an_entry_that_does_not_cover_a_suspect_field_is_found():
    entry = entries.get("devices.Device")
    fields = {name: category for name, category in entry.fields.items() if name != "notes"}
    with replaced("devices.Device", dataclasses.replace(entry, fields=fields)):
        assert unregistered_models(["devices"]) == {"devices.Device": ["notes"]}


def test_suspect_fields_are_references_to_people_addresses_names_and_free_text():
    from contracts.models import Contract
    from portal.models import AccessLogEntry, User

    assert set(suspect_fields(User)) >= {"email", "first_name", "last_name", "invited_by"}
    assert set(suspect_fields(AccessLogEntry)) == {"user", "ip_address", "user_agent"}
    assert set(suspect_fields(Contract)) == {"cancelled_by", "cancellation_reason"}


def entry(model: str = "contracts.Plan", **changes) -> PrivacyEntry:
    values = {"model": model, "fields": {"name": Category.FREE_TEXT},
              "person": lambda user: Q(pk__in=[]), "customer": lambda customer: Q(pk__in=[]),
              "erase": DELETE, "purge": DELETE} | changes
    return PrivacyEntry(**values)


def test_register_refuses_a_field_the_model_does_not_have():
    with pytest.raises(ValueError, match=r"no such fields \['nmae'\]"):
        register(entry(fields={"nmae": Category.IDENTITY}))
    with pytest.raises(ValueError, match="no such fields"):
        register(entry(not_personal={"colour": "a typo"}))
    assert "contracts.Plan" not in entries


def test_retain_needs_a_retention_and_a_purge_needs_the_customers_rows():
    with pytest.raises(ValueError, match="RETAIN needs a retention"):
        entry(erase=RETAIN)
    with pytest.raises(ValueError, match="RETAIN needs a retention"):
        entry(purge=RETAIN)
    with pytest.raises(ValueError, match="needs the customer's rows"):
        entry(customer=None)
    assert entry(purge=RETAIN, customer=None, retention=INVOICE_RETENTION).customer is None


def test_a_model_is_registered_once_and_not_exempted_as_well():
    devices = entries.get("devices.Device")
    with pytest.raises(ValueError, match="registered twice"):
        register(dataclasses.replace(devices))
    with pytest.raises(ValueError, match="already registered or exempted"):
        exempt("devices.Device", "no people")
    assert "contracts.Plan" in exemptions
    with pytest.raises(ValueError, match="exempted and cannot be registered"):
        register(entry())
    with pytest.raises(ValueError, match="already registered or exempted"):
        exempt("contracts.Plan", "twice")
    with pytest.raises(LookupError):
        exempt("contracts.Nothing", "no such model")


def test_every_entry_says_why_and_every_exemption_has_a_reason():
    assert [e.model for e in entries if not e.why.strip()] == []
    assert [label for label, reason in exemptions.items() if not reason.strip()] == []


@pytest.mark.parametrize(("event", "retention", "last_day"), [
    # Invoices: 8 years from the end of the calendar year of the invoice (§ 147 Abs. 4 AO).
    (date(2026, 3, 10), INVOICE_RETENTION, date(2034, 12, 31)),
    (date(2026, 12, 31), INVOICE_RETENTION, date(2034, 12, 31)),
    (date(2027, 1, 1), INVOICE_RETENTION, date(2035, 12, 31)),
    # A period that starts with the event itself.
    (date(2026, 3, 10), Retention(basis="x", period=days(90), starts="Zugriff"),
     date(2026, 6, 8)),
    (date(2024, 2, 29), Retention(basis="x", period=years(1), starts="Ereignis"),
     date(2025, 2, 28)),
])
def test_retention_ends_after_the_period_from_its_start_event(event, retention, last_day):
    assert retention.ends_after(event) == last_day


def test_retention_reads_as_basis_period_and_start():
    assert str(INVOICE_RETENTION).endswith(": 96m ab Ende des Kalenderjahres der Rechnung")
    assert str(INVOICE_RETENTION).startswith("§ 147 Abs. 1 Nr. 4")


def test_category_labels_are_translated():
    from django.utils import translation

    with translation.override("de"):
        assert str(Category.CONTACT.label) == "Kontaktdaten (E-Mail, Anschrift)"
    with translation.override("en"):
        label = str(Category.CONTACT.label)
    assert label  # an English page shows the catalogue's text, never an error


# --- the listing ------------------------------------------------------------------------------


def listing(*args) -> str:
    out = io.StringIO()
    call_command("privacy_registry", *args, stdout=out)
    return out.getvalue()


def test_the_command_lists_every_entry_with_its_strategies_and_retention():
    text = listing()
    for registered in entries:
        assert f"## {registered.model}" in text
    for label, reason in exemptions.items():
        assert f"`{label}`: {reason}" in text
    device = text.split("## devices.Device\n", 1)[1].split("\n## ", 1)[0]
    assert "`notes`: free_text, Freitext (kann Personen nennen)" in device
    assert "- Erase for a person: erase_mentions(references=['created_by'" in device
    assert "- Purge for a customer: delete_unless_protected(clears ['agent_id'" in device
    assert "- Retention: 8 years from Ende des Kalenderjahres der Rechnung" in device
    assert "- Retention: 90 days from Zugriff" in text
    booking = text.split("## contracts.Booking\n", 1)[1].split("\n## ", 1)[0]
    assert "- Purge for a customer: RETAIN" in booking
    user = text.split("## portal.User\n", 1)[1].split("\n## ", 1)[0]
    assert "- Erase for a person: account_pseudonymise: Overwrite name and address" in user


def test_docs_privacy_md_is_the_current_listing():
    """docs/privacy.md is written by ``manage.py privacy_registry --write``; a registry change
    without it fails here."""
    assert DOCS.read_text(encoding="utf-8") == listing()
