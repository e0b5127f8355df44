"""The audit vocabulary (portal/audit_actions.py): every code the code base writes is declared
once with a translatable label and its detail keys, and ``audit_event_record`` refuses
undeclared codes and keys and any call outside a transaction."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import translation
from django.utils.functional import Promise

from portal.audit_actions import (
    UndeclaredAuditAction,
    audit_action_check,
    audit_action_label,
    audit_actions,
)
from portal.models import AuditEvent
from portal.services.audit import audit_event_record, audit_events_record
from tests.factories import DeviceFactory

CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")
BASE_DIR = Path(settings.BASE_DIR).resolve()


def _project_modules() -> list[Path]:
    """Every Python module of the project's own apps (migrations aside)."""
    roots = {Path(config.path).resolve() for config in apps.get_app_configs()}
    roots = {root for root in roots
             if BASE_DIR in root.parents and ".venv" not in root.parts}
    return sorted(path for root in roots for path in root.rglob("*.py")
                  if "migrations" not in path.parts)


def _codes_in(node: ast.AST) -> tuple[set[str], set[str]]:
    """The literal action codes in an expression, and the constant prefixes of f-strings."""
    codes, prefixes = set(), set()
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str) \
                and CODE.match(part.value):
            codes.add(part.value)
        elif isinstance(part, ast.JoinedStr) and part.values \
                and isinstance(part.values[0], ast.Constant):
            prefixes.add(part.values[0].value)
    return codes, prefixes


def _action_codes_in_code_base() -> tuple[dict[str, str], dict[str, str]]:
    """Codes passed as ``action=`` (or assigned to a variable ``action``) anywhere, with the
    place they were found; f-strings give their constant prefix (``f"booking.{change}"``)."""
    codes, prefixes = {}, {}
    for path in _project_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            passed = isinstance(node, ast.keyword) and node.arg == "action"
            assigned = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "action" for t in node.targets)
            if passed or assigned:
                value = node.value
                found, starts = _codes_in(value)
                where = f"{path.relative_to(BASE_DIR)}:{value.lineno}"
                codes.update(dict.fromkeys(found, where))
                prefixes.update(dict.fromkeys(starts, where))
    return codes, prefixes


def test_every_action_code_in_the_code_base_is_declared():
    codes, prefixes = _action_codes_in_code_base()
    assert {"auth.login", "booking.removed", "device_import.applied"} <= set(codes), \
        "the walk must find the codes the services write"
    undeclared = {code: where for code, where in codes.items() if code not in audit_actions}
    assert not undeclared, f"declare these in <app>/audit_actions.py: {undeclared}"
    declared = [action.code for action in audit_actions]
    unmatched = {prefix: where for prefix, where in prefixes.items()
                 if "." in prefix and not any(code.startswith(prefix) for code in declared)}
    assert not unmatched, f"no declared code starts with these f-string prefixes: {unmatched}"


def test_the_dynamic_codes_are_declared():
    """Codes built at run time: admin verbs, tier changes, job-flow steps, password change."""
    from contracts.models import BookingChange

    dynamic = {"admin.added", "admin.changed", "admin.deleted", "user.password_changed",
               "user.password_reset", "notification.taken_over", "notification.resent",
               "device_import.taken_over", "device_import.resent",
               *(f"booking.{c}" for c in (BookingChange.UPGRADE, BookingChange.DOWNGRADE))}
    assert dynamic <= {action.code for action in audit_actions}


def test_every_action_has_its_own_translatable_label():
    labels = {}
    for action in audit_actions:
        assert isinstance(action.label, Promise), f"{action.code}: label must be gettext_lazy"
        with translation.override("de"):
            text = str(action.label)
        assert text and text != action.code, action.code
        assert text not in labels, f"{action.code} and {labels.get(text)} share a label"
        labels[text] = action.code
        with translation.override("en"):
            assert str(action.label)  # the catalog may not have it yet; it must not break


def test_label_falls_back_to_the_code_for_a_retired_action():
    assert audit_action_label("retired.long_ago") == "retired.long_ago"
    with translation.override("de"):
        assert audit_action_label("booking.removed") == "Leistung gekündigt"


def test_unknown_code_and_unknown_detail_key_are_refused(db):
    with pytest.raises(UndeclaredAuditAction, match="booking.remove"):
        audit_action_check("booking.remove", None)
    with transaction.atomic():
        with pytest.raises(UndeclaredAuditAction, match="not declared"):
            audit_event_record(actor=None, action="booking.remove")
        with pytest.raises(UndeclaredAuditAction, match=r"\['e_mail'\]"):
            audit_event_record(actor=None, action="demo.seeded",
                               details={"people": 3, "e_mail": "x@example.com"})
        audit_event_record(actor=None, action="demo.seeded", details={"people": 3})
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["demo.seeded"]


def test_bulk_variant_checks_alike(world):
    devices = [DeviceFactory(customer=world["orgs"]["customer_a"]) for _i in range(2)]
    org = world["orgs"]["customer_a"]
    with transaction.atomic():
        with pytest.raises(UndeclaredAuditAction):
            audit_events_record(actor=None, action="device.gone", targets=devices,
                                organisation=org, details=[{}, {}])
        with pytest.raises(UndeclaredAuditAction):
            audit_events_record(actor=None, action="device.created", targets=devices,
                                organisation=org, details=[{"serial": "1"}, {"owner": "x"}])
        with pytest.raises(UndeclaredAuditAction):  # no targets: the code is checked anyway
            audit_events_record(actor=None, action="device.gone", targets=[],
                                organisation=org, details=[])
        audit_events_record(actor=None, action="device.retired", targets=devices,
                            organisation=org, details=[{}, {}])
    assert AuditEvent.objects.filter(action="device.retired").count() == 2


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError):
        audit_event_record(actor=None, action="demo.seeded", details={"people": 1})
    with pytest.raises(TransactionManagementError):
        audit_events_record(actor=None, action="device.retired", targets=[],
                            organisation=None, details=[])
    assert not AuditEvent.objects.exists()
    with transaction.atomic():
        audit_event_record(actor=None, action="demo.seeded", details={"people": 1})
    assert AuditEvent.objects.count() == 1


def test_the_test_cases_own_transaction_does_not_count(db):
    """The ``db`` fixture wraps each test in atomic blocks; they must not hide a caller that
    forgot ``transaction.atomic``, or the rest of the suite could not find such callers."""
    with pytest.raises(TransactionManagementError):
        audit_event_record(actor=None, action="demo.seeded", details={"people": 1})


@pytest.mark.django_db(transaction=True)
def test_login_logout_and_failed_login_through_allauth_are_recorded(client):
    """The allauth adapter records these outside any view transaction: its services open
    their own (a real, non-test transaction proves it)."""
    from portal.roles import Role
    from tests.factories import PASSWORD, make_person

    person = make_person(Role.CUSTOMER_MEMBER)
    client.post("/konto/login/", {"login": person.email, "password": "falsch-1234-x"})
    client.post("/konto/login/", {"login": person.email, "password": PASSWORD})
    client.post("/konto/logout/")
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "auth.login_failed", "auth.login", "auth.logout"}


@pytest.mark.django_db(transaction=True)
def test_demo_seeding_records_inside_its_transaction(settings):
    from portal.demo import demo_seed

    demo_seed()
    assert AuditEvent.objects.filter(action="demo.seeded").exists()
