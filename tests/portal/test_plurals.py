"""Counts shown with a number use the singular for one ("1 aktive Person", not "1 aktive
Personen"): dashboard, dashboard costs, device import pages and messages."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from devices.services.imports import CLASHES_NAMED, _named
from portal.roles import Role
from tests.factories import OrganisationFactory, make_person


@pytest.mark.django_db
def test_dashboard_says_one_active_person(verified_client):
    admin = make_person(Role.CUSTOMER_ADMIN, OrganisationFactory())
    html = verified_client(admin).get("/").content.decode()
    assert '<span class="stat">1</span> aktive Person</p>' in html
    assert "1 aktive Personen" not in html
    assert "Zwei-Faktor-Anmeldung eingerichtet: 1 von 1 aktiven Person" in html


def test_dashboard_costs_count_months_and_days():
    section = {"current": 0, "bars": [object()], "ending_soon_days": 1, "ending_soon": []}
    html = render_to_string("contracts/_dashboard_costs.html", {"section": section})
    assert "im nächsten Monat" in html
    assert "am nächsten Tag" in html


def test_import_messages_count_the_hostnames_not_named():
    named = _named([f"host-{n}" for n in range(CLASHES_NAMED + 1)])
    assert named.endswith("und 1 weiterer")
    assert _named([f"host-{n}" for n in range(CLASHES_NAMED + 3)]).endswith("und 3 weitere")
