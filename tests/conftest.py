"""Shared fixtures: a small multi-tenant world and clients with a verified second factor."""

from __future__ import annotations

import importlib
import os

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.roles import OrganisationKind, Role
from tests.factories import OrganisationFactory, make_person

# Playwright's sync API runs an event loop in the test thread; Django's ORM guard must allow it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _flush_keeps_the_sqlite_evidence_triggers():
    """After a transactional test (the live server of the browser tests) Django empties every
    table; on SQLite with DELETE, which the gdpr triggers refuse once an AVV acceptance or a
    published version exists (PostgreSQL's TRUNCATE fires no row triggers). The test flush
    drops those triggers first and creates them again at its end, in the same transaction."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    operations = type(connection.ops)
    evidence = [importlib.import_module(f"gdpr.migrations.{name}")
                for name in ("0002_frozen_rows", "0007_certificates_insert_only")]
    original = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences,
                              allow_cascade=allow_cascade)
        if not statements:
            return statements
        drop = [f"DROP TRIGGER IF EXISTS {name};"
                for module in evidence for name, *_rest in module.SQLITE]
        create = [sql for module in evidence for sql in module.sqlite_create_statements()]
        return [*drop, *statements, *create]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original


def totp_now(device: TOTPDevice) -> str:
    """The code an authenticator app shows right now for ``device``."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def catalogue(db):
    """The seeded service catalogue by plan code (contracts/catalogue.py)."""
    from contracts.catalogue import plans_seed

    return {plan.code: plan for plan in plans_seed()}


@pytest.fixture
def world(db):
    """A provider, two partners with a customer each, a direct customer, one person per role."""
    provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Anbieter GmbH")
    partner_a = OrganisationFactory(kind=OrganisationKind.PARTNER, name="Partner A")
    partner_b = OrganisationFactory(kind=OrganisationKind.PARTNER, name="Partner B")
    customer_a = OrganisationFactory(name="Kunde A", partner=partner_a)
    customer_b = OrganisationFactory(name="Kunde B", partner=partner_b)
    customer_direct = OrganisationFactory(name="Kunde Direkt")
    people = {
        "provider_admin": make_person(Role.PROVIDER_ADMIN, provider),
        "provider_staff": make_person(Role.PROVIDER_STAFF, provider),
        "dpo": make_person(Role.DPO, provider),
        "partner_support": make_person(Role.PARTNER_SUPPORT, partner_a),
        "partner_support_b": make_person(Role.PARTNER_SUPPORT, partner_b),
        "customer_admin": make_person(Role.CUSTOMER_ADMIN, customer_a),
        "customer_member": make_person(Role.CUSTOMER_MEMBER, customer_a),
        "customer_admin_b": make_person(Role.CUSTOMER_ADMIN, customer_b),
        "customer_admin_direct": make_person(Role.CUSTOMER_ADMIN, customer_direct),
    }
    return {
        "orgs": {"provider": provider, "partner_a": partner_a, "partner_b": partner_b,
                 "customer_a": customer_a, "customer_b": customer_b,
                 "customer_direct": customer_direct},
        "people": people,
    }


def verify_session(client, user) -> None:
    """Log ``user`` in and mark the session as verified with their TOTP device."""
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def verified_client(client):
    def _login(user):
        verify_session(client, user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and other cached state must not leak between tests (Redis survives them)."""
    from django.conf import settings
    from django.core.cache import cache

    if settings.REDIS_URL:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the portal's default language: a request with another
    Accept-Language leaves its language active in the thread after the response."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
