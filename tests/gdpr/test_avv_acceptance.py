"""Accepting the AVV: only the customer's admins, only the current version as shown to them,
once per person; and the state per customer."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from gdpr.models import AvvAcceptance
from gdpr.services import AvvState, avv_accept, avv_state_for, avv_version_publish
from portal.models import AuditEvent
from tests.gdpr.conftest import draft_version

pytestmark = pytest.mark.django_db


def _accept(world, version, who="customer_admin", *, sha256=None):
    with transaction.atomic():
        return avv_accept(actor=world["people"][who], customer=world["orgs"]["customer_a"],
                          version=version, sha256_seen=sha256 or version.sha256,
                          ip="192.0.2.7", user_agent="Firefox/140")


def test_a_customer_admin_accepts_with_evidence_and_audit(world, published):
    acceptance = _accept(world, published)
    assert (acceptance.person, acceptance.ip, acceptance.user_agent, acceptance.sha256) == (
        world["people"]["customer_admin"], "192.0.2.7", "Firefox/140", published.sha256)
    event = AuditEvent.objects.get(action="avv.accepted")
    assert event.organisation == world["orgs"]["customer_a"]
    assert event.details["sha256"] == published.sha256


@pytest.mark.parametrize("who", ["partner_support", "customer_member", "customer_admin_b",
                                 "provider_admin"])
def test_nobody_else_accepts_for_the_customer(world, published, who):
    with pytest.raises(PermissionDenied):
        _accept(world, published, who)
    assert not AvvAcceptance.objects.exists()


def test_a_version_that_is_no_longer_current_is_refused_naming_the_current(world, published):
    newer = avv_version_publish(actor=None, version=draft_version("2026-2", extra=" neu"))
    with pytest.raises(ValidationError, match="2026-2"):
        _accept(world, published)
    assert _accept(world, newer).version == newer


def test_a_stale_text_is_refused(world, published):
    with pytest.raises(ValidationError, match="neu"):
        _accept(world, published, sha256="0" * 64)
    assert not AvvAcceptance.objects.exists()


def test_a_second_acceptance_by_the_same_person_is_refused_without_duplicate(world, published):
    _accept(world, published)
    with pytest.raises(ValidationError, match="bereits"):
        _accept(world, published)
    assert AvvAcceptance.objects.count() == 1
    assert AuditEvent.objects.filter(action="avv.accepted").count() == 1


def test_the_unique_constraint_decides_a_race_of_the_same_person(world, published,
                                                                 monkeypatch):
    _accept(world, published)
    # The second request passed the existence check before the first one committed.
    monkeypatch.setattr("gdpr.services.avv.AvvAcceptance.objects.filter",
                        lambda **kw: AvvAcceptance.objects.none())
    with pytest.raises(ValidationError, match="bereits"):
        _accept(world, published)
    assert AvvAcceptance.objects.all().count() == 1


def test_two_admins_of_the_customer_accept_each_once(world, published):
    from portal.roles import Role
    from tests.factories import make_person

    second = make_person(Role.CUSTOMER_ADMIN, world["orgs"]["customer_a"])
    world["people"]["second_admin"] = second
    _accept(world, published)
    _accept(world, published, "second_admin")
    assert AvvAcceptance.objects.filter(version=published).count() == 2


def test_state_per_customer(world, published):
    customer = world["orgs"]["customer_a"]
    assert avv_state_for(customer) is AvvState.NEVER
    _accept(world, published)
    assert avv_state_for(customer) is AvvState.ACCEPTED_CURRENT
    avv_version_publish(actor=None, version=draft_version("2026-2", extra=" neu"))
    assert avv_state_for(customer) is AvvState.ACCEPTED_OLDER
    assert avv_state_for(world["orgs"]["customer_b"]) is AvvState.NEVER


def test_acceptances_are_visible_per_tenant(world, published):
    _accept(world, published)
    people = world["people"]
    assert AvvAcceptance.objects.visible_to(people["partner_support"]).count() == 1
    assert AvvAcceptance.objects.visible_to(people["partner_support_b"]).count() == 0
    assert AvvAcceptance.objects.visible_to(people["customer_admin_b"]).count() == 0
    assert AvvAcceptance.objects.visible_to(people["dpo"]).count() == 1
