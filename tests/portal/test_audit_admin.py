"""The audit trail in the staff admin: labels instead of raw codes (list, filter, detail) and
local time (Europe/Berlin) in the change page's title."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from django.db import transaction
from django.urls import reverse

from portal.models import AuditEvent
from portal.services.audit import audit_event_record

SUMMER_NOON_UTC = datetime(2026, 7, 1, 10, 5, tzinfo=UTC)  # 12:05 in Berlin (CEST)
CHANGELIST = "admin:portal_auditevent_changelist"


def _record(action: str, **kwargs) -> AuditEvent:
    with transaction.atomic():
        return audit_event_record(actor=None, action=action, **kwargs)


def test_list_and_filter_show_labels_not_codes(world, verified_client):
    person = world["people"]["customer_member"]
    _record("auth.login", target=person)
    _record("mfa.reset", target=person, details={"identity_check": "Rückruf"})
    client = verified_client(world["people"]["provider_admin"])
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Anmeldung</td>" in page
    assert "Zweiter Faktor zurückgesetzt</td>" in page
    assert ">auth.login<" not in page and ">mfa.reset<" not in page
    # The filter offers the declared actions by label; choosing one filters by its code.
    assert "?action=booking.removed" in page and "Leistung gekündigt" in page
    filtered = client.get(reverse(CHANGELIST), {"action": "mfa.reset"}).content.decode()
    assert "Zweiter Faktor zurückgesetzt</td>" in filtered and "Anmeldung</td>" not in filtered


def test_english_admin_shows_the_labels_through_the_catalog(world, verified_client):
    _record("auth.logout", target=world["people"]["customer_member"])
    client = verified_client(world["people"]["provider_admin"])
    page = client.get(reverse(CHANGELIST), headers={"accept-language": "en"}).content.decode()
    assert ">auth.logout<" not in page


def test_change_page_shows_label_and_local_time(world, verified_client):
    with time_machine.travel(SUMMER_NOON_UTC, tick=False):
        event = _record("contract.opened", target=world["orgs"]["customer_a"],
                        details={"start": "2026-07-01"})
    assert str(event) == "01.07.2026 12:05 Rahmenvertrag angelegt Kunde A"
    client = verified_client(world["people"]["provider_admin"])
    page = client.get(reverse("admin:portal_auditevent_change", args=[event.pk])).content.decode()
    assert "01.07.2026 12:05" in page and "10:05" not in page
    assert "Rahmenvertrag angelegt" in page and "contract.opened" not in page


def test_str_of_an_event_of_a_retired_code_shows_the_code(db):
    with time_machine.travel(datetime(2026, 1, 15, 7, 0, tzinfo=UTC), tick=False):
        event = AuditEvent.objects.create(action="retired.code", target_repr="X")
    assert str(event) == "15.01.2026 08:00 retired.code X"
