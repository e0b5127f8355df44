"""The core registries (portal/registries.py): apps fill them, core iterates them."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal import registries
from portal.registries import (
    PAGE_DASHBOARD,
    PAGE_DEVICE_DETAIL,
    DemoSeeder,
    LoginBlocker,
    Registry,
    Section,
    login_refusal,
    sections_for,
)


def test_a_key_registered_twice_is_refused_and_entries_come_in_their_order():
    registry = Registry("test", key=lambda entry: entry[0], order=lambda entry: entry[1])
    registry.register(("b", 2))
    registry.register(("a", 3))
    registry.register(("c", 1))
    with pytest.raises(ValueError, match="'a' is registered twice"):
        registry.register(("a", 0))
    assert [entry[0] for entry in registry] == ["c", "b", "a"]
    assert "a" in registry and len(registry) == 3


def test_the_apps_fill_every_registry():
    assert {"devices", "costs"} <= {s.key for s in registries.sections if s.page == PAGE_DASHBOARD}
    assert [s.key for s in registries.sections if s.page == PAGE_DEVICE_DETAIL] == ["bookings"]
    assert {"portal.purge_access_log", "devices.cleanup_imports", "devices.recover_imports",
            "contracts.end_due"} <= {job.name for job in registries.schedules}
    assert "contracts.contract_ended" in registries.login_blockers
    assert [seeder.key for seeder in registries.demo_seeders][:2] == [
        "devices", "contracts.catalogue"]
    assert [item.key for item in registries.navigation][:5] == [
        "dashboard", "team", "devices", "contract", "security"]


def test_a_section_without_data_is_not_shown(monkeypatch):
    registry = Registry("sections", key=lambda s: f"{s.page}:{s.key}",
                        order=lambda s: (s.page, s.order, s.key))
    registry.register(Section(page="p", key="hidden", template="x.html",
                              context=lambda request: None))
    registry.register(Section(page="p", key="late", template="y.html", order=20,
                              context=lambda request: {"n": 2}))
    registry.register(Section(page="p", key="early", template="z.html", order=10,
                              context=lambda request: {"n": 1}))
    registry.register(Section(page="other", key="elsewhere", template="o.html",
                              context=lambda request: {}))
    monkeypatch.setattr(registries, "sections", registry)
    shown = sections_for("p", RequestFactory().get("/"))
    assert [(s.key, s.template, s.data) for s in shown] == [
        ("early", "z.html", {"n": 1}), ("late", "y.html", {"n": 2})]


def test_the_first_blocker_with_a_reason_refuses_the_login(monkeypatch):
    registry = Registry("login_blockers", key=lambda b: b.key, order=lambda b: b.key)
    registry.register(LoginBlocker(key="a", check=lambda user, membership: None))
    registry.register(LoginBlocker(key="b", check=lambda user, membership: "gesperrt"))
    monkeypatch.setattr(registries, "login_blockers", registry)
    assert login_refusal(object(), None) == "gesperrt"
    registry.unregister("b")
    assert login_refusal(object(), None) is None


def test_demo_seed_runs_every_registered_seeder_with_the_demo_organisations(db, monkeypatch):
    from portal.demo import demo_seed

    seen = []
    registry = Registry("demo_seeders", key=lambda d: d.key, order=lambda d: (d.order, d.key))
    registry.register(DemoSeeder(key="probe", seed=lambda orgs: seen.append(sorted(orgs))))
    monkeypatch.setattr("portal.demo.demo_seeders", registry)
    demo_seed()
    assert seen == [sorted(["provider", "partner0", "partner1", "K-10001", "K-10002",
                            "K-10003", "K-10004", "K-10005"])]


def test_the_navigation_marks_the_current_page(world, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    response = client.get("/geraete/")
    entries = {item["key"]: item for item in response.context["nav_items"]}
    assert entries["devices"]["current"] and not entries["dashboard"]["current"]
    assert entries["contract"]["url"] == "/vertrag/"


def test_people_without_an_organisation_see_no_contract_entry(db, verified_client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import UserFactory

    person = UserFactory()
    TOTPDevice.objects.create(user=person, name="Test", confirmed=True)
    response = verified_client(person).get("/")
    assert "contract" not in {item["key"] for item in response.context["nav_items"]}
