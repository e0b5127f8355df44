"""People on admin pages are shown only by the visibility rule (``portal.selectors.person_label``
over ``User.objects.visible_to``): partner support never learns who at the provider did
something, neither from a change page, a list, the change history, the index's recent actions
nor the audit and access logs; provider staff see the same pages with the names.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.catalogue import plans_seed
from contracts.models import Booking, Contract
from devices.models import DeviceImport, ImportStatus
from portal.models import AccessLogEntry, AuditEvent, Membership, User
from portal.roles import Role
from portal.selectors import person_label, visible_person_ids
from portal.services.audit import audit_event_record
from tests.factories import DeviceFactory, make_person

NAME, EMAIL = "Stefan Brandt", "support@anbieter.example"
HIDDEN = "(nicht einsehbar)"


def _log(person: User, obj) -> None:
    LogEntry.objects.log_actions(user_id=person.pk, queryset=[obj], action_flag=CHANGE,
                                 change_message="Geändert.", single_object=True)


@pytest.fixture
def traces(world):
    """Stefan Brandt (provider staff) created, changed, booked, cancelled and uploaded things of
    Kunde A (partner A's customer), and the admin logged his changes."""
    customer = world["orgs"]["customer_a"]
    brandt = make_person(Role.PROVIDER_STAFF, world["orgs"]["provider"], first_name="Stefan",
                         last_name="Brandt", email=EMAIL)
    member = world["people"]["customer_member"]
    User.objects.filter(pk=member.pk).update(invited_by=brandt)
    device = DeviceFactory(customer=customer, created_by=brandt, updated_by=brandt)
    device_import = DeviceImport.objects.create(
        customer=customer, created_by=brandt, confirmed_by=brandt, status=ImportStatus.DONE,
        file_name="inventar.csv", file_format="csv", file_size=100, file_sha256="0" * 64,
        rows_total=1, rows_done=1, counts={"new": 1, "changed": 0, "unchanged": 0, "invalid": 0},
        finished_at=timezone.now())
    plan = next(plan for plan in plans_seed() if plan.code == "mc-standard")
    contract = Contract.objects.create(customer=customer, start=date(2026, 1, 1),
                                       cancelled_by=brandt, cancellation_received=date(2026, 5, 1))
    booking = Booking.objects.create(
        customer=customer, contract=contract, device=device, plan=plan, plan_name=plan.name,
        family=plan.family, monthly_price=plan.monthly_price, billing_mode=plan.billing_mode,
        booked_by=brandt, removed_by=brandt, on_behalf=True, activated_at=timezone.now(),
        active_from=date(2026, 1, 2), term_start=date(2026, 1, 2), min_term_end=date(2027, 1, 1))
    membership = Membership.objects.get(user=member)
    objects = {"device": device, "deviceimport": device_import, "contract": contract,
               "booking": booking, "user": member, "membership": membership,
               "organisation": customer}
    for obj in objects.values():
        _log(brandt, obj)
    with transaction.atomic():
        audit_event_record(actor=brandt, action="device.updated", target=device)
    AccessLogEntry.objects.create(user=brandt, organisation=customer, method="GET",
                                  path="/geraete/", view_name="devices:list", status_code=200)
    return {**world, "brandt": brandt, "objects": objects}


def _admin_url(obj, view: str) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


def _pages(traces) -> dict[str, str]:
    """Every admin page that shows one of Brandt's traces to somebody who may see Kunde A."""
    pages = {"index": reverse("admin:index")}
    for key, obj in traces["objects"].items():
        pages[f"{key} change"] = _admin_url(obj, "change")
        pages[f"{key} history"] = _admin_url(obj, "history")
        pages[f"{key} list"] = reverse(
            f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
    pages["import status"] = reverse("admin:devices_device_import_status",
                                     args=[traces["objects"]["deviceimport"].public_id])
    return pages


def _body(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_partner_support_never_sees_provider_people(traces, verified_client):
    client = verified_client(traces["people"]["partner_support"])
    for page, url in _pages(traces).items():
        body = _body(client, url)
        assert NAME not in body and EMAIL not in body, page
        if page.endswith(" history"):
            assert HIDDEN in body, page


@pytest.mark.parametrize("view", ["device change", "deviceimport change", "contract change",
                                  "booking change", "user change", "booking list",
                                  "deviceimport list", "import status"])
def test_partner_support_sees_the_neutral_word_where_a_person_is(traces, verified_client, view):
    client = verified_client(traces["people"]["partner_support"])
    assert HIDDEN in _body(client, _pages(traces)[view])


@pytest.mark.parametrize("person", ["provider_admin", "provider_staff", "dpo"])
def test_provider_roles_see_the_names(traces, verified_client, person):
    client = verified_client(traces["people"][person])
    pages = _pages(traces)
    shown = [page for page in pages if page.endswith(" history")] + [
        "device change", "deviceimport change", "contract change", "booking change",
        "user change", "booking list", "deviceimport list", "import status"]
    for page in shown:
        body = _body(client, pages[page])
        assert NAME in body and HIDDEN not in body, page


@pytest.mark.parametrize("person", ["provider_admin", "dpo"])
def test_audit_trail_and_access_log_name_the_people(traces, verified_client, person):
    client = verified_client(traces["people"][person])
    for name in ("admin:portal_auditevent_changelist", "admin:portal_accesslogentry_changelist"):
        body = _body(client, reverse(name))
        assert NAME in body and HIDDEN not in body
    event = AuditEvent.objects.get(action="device.updated")
    entry = AccessLogEntry.objects.get(user=traces["brandt"])
    for obj in (event, entry):
        assert NAME in _body(client, _admin_url(obj, "change"))


def _admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize("model", [AuditEvent, AccessLogEntry])
def test_log_admins_hide_people_the_viewer_may_not_see(traces, model):
    """Partner support has no permission for these logs; the rule holds there all the same, so
    a permission granted later cannot leak people: the column and the person filter."""
    model_admin = admin.site._registry[model]
    request = _admin_request(traces["people"]["partner_support"])
    rows = list(model_admin.get_queryset(request))
    assert rows
    column = model_admin.list_display[1]
    assert {getattr(model_admin, column)(row) for row in rows} == {HIDDEN}
    person_filter = next(spec for spec in model_admin.list_filter
                         if isinstance(spec, tuple) and spec[0] in ("actor", "user"))
    field = model._meta.get_field(person_filter[0])
    choices = person_filter[1](field, request, {}, model, model_admin,
                               person_filter[0]).lookup_choices
    assert not [label for _pk, label in choices if NAME in label]
    staff_request = _admin_request(traces["people"]["provider_admin"])
    assert {getattr(model_admin, column)(row)
            for row in model_admin.get_queryset(staff_request)} == {NAME}


def test_recent_actions_do_not_name_what_is_no_longer_visible(traces, verified_client):
    support = traces["people"]["partner_support"]
    member = traces["people"]["customer_member"]
    _log(support, member)
    client = verified_client(support)
    page = client.get(reverse("admin:index"))
    [entry] = page.context["recent_actions"]
    assert entry.shown_repr == str(member) and entry.shown_url
    assert str(member) in page.content.decode()
    # Kunde A moves to partner B: its people are no longer partner A's business.
    traces["orgs"]["customer_a"].partner = traces["orgs"]["partner_b"]
    traces["orgs"]["customer_a"].save(update_fields=["partner"])
    page = client.get(reverse("admin:index"))
    [entry] = page.context["recent_actions"]
    assert entry.shown_repr == HIDDEN and entry.shown_url is None
    assert str(member) not in page.content.decode()


def test_history_page_queries_do_not_grow_with_entries(traces, verified_client):
    device = traces["objects"]["device"]
    client = verified_client(traces["people"]["partner_support"])
    url = _admin_url(device, "history")

    def measure() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    small = measure()
    for _i in range(10):
        _log(make_person(Role.PROVIDER_STAFF, traces["orgs"]["provider"], mfa=False), device)
    assert measure() == small


def test_person_label_is_the_one_rule(traces):
    brandt, support = traces["brandt"], traces["people"]["partner_support"]
    colleague = traces["people"]["customer_admin"]
    assert person_label(support, brandt) == HIDDEN
    assert person_label(support, colleague) == str(colleague)
    assert person_label(traces["people"]["provider_staff"], brandt) == NAME
    assert person_label(support, None) == "–"
    assert visible_person_ids(support, [brandt.pk, colleague.pk, None]) == {colleague.pk}
