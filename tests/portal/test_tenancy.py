"""Tenancy: ``visible_to`` and everything that must go through it (admin lists, object pages,
autocomplete and foreign-key choices, admin actions, portal team pages).

The expected rows are written out per person (not recomputed with the rule under test), after
the rules in the ``portal/tenancy.py`` docstring.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from contracts.models import Booking, Contract, Plan, PlanFamily, PlanUnit
from devices.models import Device, DeviceImport, ImportStatus
from portal.models import AccessLogEntry, AuditEvent, Membership, Organisation, User
from portal.roles import CUSTOMER_ROLES, PROVIDER_ROLES, Role
from portal.tenancy import role_of
from tests.factories import DeviceFactory, UserFactory, make_person
from tests.portal.test_mfa_gate import concrete_urls

ALL_ORGS = frozenset({"provider", "partner_a", "partner_b", "customer_a", "customer_b",
                      "customer_direct"})
ALL_PEOPLE = frozenset({"provider_admin", "provider_staff", "dpo", "partner_support",
                        "partner_support_b", "customer_admin", "customer_member",
                        "customer_admin_b", "customer_admin_direct"})

#: Organisations each person sees (the tenancy docstring, written out for the `world`).
VISIBLE_ORGS = {
    "provider_admin": ALL_ORGS,
    "provider_staff": ALL_ORGS,
    "dpo": ALL_ORGS,
    "partner_support": {"partner_a", "customer_a"},
    "partner_support_b": {"partner_b", "customer_b"},
    "customer_admin": {"customer_a"},
    "customer_member": {"customer_a"},
    "customer_admin_b": {"customer_b"},
    "customer_admin_direct": {"customer_direct"},
}
#: People (and their memberships) each person sees; "loner" has no membership at all.
VISIBLE_PEOPLE = {
    "provider_admin": ALL_PEOPLE | {"loner"},
    "provider_staff": ALL_PEOPLE | {"loner"},
    "dpo": ALL_PEOPLE | {"loner"},
    "partner_support": {"partner_support", "customer_admin", "customer_member"},
    "partner_support_b": {"partner_support_b", "customer_admin_b"},
    "customer_admin": {"customer_admin", "customer_member"},
    "customer_member": {"customer_admin", "customer_member"},
    "customer_admin_b": {"customer_admin_b"},
    "customer_admin_direct": {"customer_admin_direct"},
}
PERSONS = list(VISIBLE_ORGS)
PROVIDER_PERSONS = ["provider_admin", "provider_staff", "dpo"]
STAFF_PERSONS = ["provider_admin", "provider_staff", "dpo", "partner_support",
                 "partner_support_b"]
CUSTOMER_PERSONS = ["customer_admin", "customer_member", "customer_admin_b",
                    "customer_admin_direct"]
PARTNER_PERSONS = ["partner_support", "partner_support_b"]

PORTAL_MODELS = {"portal.organisation", "portal.membership", "portal.user",
                 "portal.auditevent", "portal.accesslogentry", "portal.notification",
                 "portal.document", "portal.changenotice"}
#: Every staff role works with the device inventory (changes: not the DPO, see below).
DEVICE_MODELS = {"devices.device", "devices.deviceimport"}
#: Every staff role sees the catalogue, contracts and bookings (changes: provider staff only).
CONTRACT_MODELS = {"contracts.plan", "contracts.contract", "contracts.booking"}
#: The AVV, sub-processors and objection cases: the provider's roles (partner support sees its
#: customers' acceptances only); the records of processing: provider admin and DPO.
GDPR_MODELS = {"gdpr.avvversion", "gdpr.avvacceptance", "gdpr.subprocessor",
               "gdpr.objectioncase"}
RECORD_MODELS = {"gdpr.processingrecord", "gdpr.processingreview"}
#: Data-subject requests: their handlers (provider admin, provider staff, DPO).
REQUEST_MODELS = {"gdpr.datasubjectrequest"}
#: Legal holds and deletion certificates: the DPO and the provider admin (reading).
PURGE_MODELS = {"gdpr.legalhold", "gdpr.deletioncertificate"}
#: Customer exports, end-of-contract e-mails, data provision orders: the provider's roles.
CONTRACT_END_MODELS = {"gdpr.customerexport", "gdpr.contractendmail", "gdpr.dataprovisionorder"}
#: Price changes of plans (provider roles) and the special termination rights they give.
PRICE_MODELS = {"contracts.planpricechange", "contracts.specialterminationoffer"}
#: Models without tenant scoping that roles outside the provider may still list: the catalogue.
SHARED_MODELS = {"contracts.plan"}
DJANGO_Q_MODELS = {"django_q.schedule", "django_q.success", "django_q.failure"}
if "orm" in settings.Q_CLUSTER:
    # django-q2 registers the admin of its queue table only with the ORM broker.
    DJANGO_Q_MODELS.add("django_q.ormq")
#: The admin changelists each staff person may open; every other registered model refuses.
OPENABLE_CHANGELISTS = {
    "provider_admin": PORTAL_MODELS | DJANGO_Q_MODELS | DEVICE_MODELS | CONTRACT_MODELS
    | GDPR_MODELS | RECORD_MODELS | PRICE_MODELS | REQUEST_MODELS | PURGE_MODELS
    | CONTRACT_END_MODELS,
    "provider_staff": {"portal.organisation", "portal.membership", "portal.user",
                       "portal.notification", "portal.document", "portal.changenotice"}
    | DEVICE_MODELS | CONTRACT_MODELS | GDPR_MODELS | PRICE_MODELS | REQUEST_MODELS
    | CONTRACT_END_MODELS,
    "dpo": PORTAL_MODELS | DEVICE_MODELS | CONTRACT_MODELS | GDPR_MODELS | RECORD_MODELS
    | {"contracts.planpricechange"} | REQUEST_MODELS | PURGE_MODELS | CONTRACT_END_MODELS,
    "partner_support": {"portal.organisation", "portal.membership", "portal.user",
                        "portal.changenotice", "gdpr.avvacceptance"}
    | DEVICE_MODELS | CONTRACT_MODELS,
    "partner_support_b": {"portal.organisation", "portal.membership", "portal.user",
                          "portal.changenotice", "gdpr.avvacceptance"}
    | DEVICE_MODELS | CONTRACT_MODELS,
}
CUSTOMER_KEYS = ("customer_a", "customer_b", "customer_direct")
MARKER_ACTION = "test.tenancy"
MARKER_PATH = "/marker/"


@pytest.fixture
def tenants(world):
    """The `world` plus a person without membership, log rows for every organisation and a
    device and an import (uploaded by provider staff) for every customer."""
    orgs, people = world["orgs"], world["people"]
    loner = UserFactory(email="loner@example.com")
    for key, org in [*orgs.items(), (None, None)]:
        AuditEvent.objects.create(action=MARKER_ACTION, organisation=org, actor_label="x",
                                  target_repr=f"event-{key}")
        AccessLogEntry.objects.create(organisation=org, user=loner, method="GET",
                                      path=f"{MARKER_PATH}{key}", status_code=200)
    devices, imports = {}, {}
    for key in CUSTOMER_KEYS:
        devices[key] = DeviceFactory(customer=orgs[key], hostname=f"host-{key}".replace("_", "-"),
                                     serial_number=f"SN-MARKER-{key.upper()}",
                                     created_by=people["provider_staff"])
        imports[key] = DeviceImport.objects.create(
            customer=orgs[key], created_by=people["provider_staff"], status=ImportStatus.DONE,
            file_name=f"inventar-{key}.csv", file_format="csv", file_size=1,
            file_sha256="0" * 64, counts={"new": 1, "changed": 0, "unchanged": 0, "invalid": 0})
    plan = Plan.objects.create(code="tenancy-standard", name="Managed Client Standard",
                               family=PlanFamily.MANAGED_CLIENT, tier="Standard",
                               unit=PlanUnit.WORKSTATION, monthly_price=Decimal("8.00"))
    contracts, bookings = {}, {}
    for key in CUSTOMER_KEYS:
        contracts[key] = Contract.objects.create(customer=orgs[key], start=date(2026, 1, 2))
        # Booked by provider staff on behalf of the customer: partner support must not see who.
        bookings[key] = Booking.objects.create(
            customer=orgs[key], contract=contracts[key], device=devices[key], plan=plan,
            plan_name=plan.name, family=plan.family, monthly_price=plan.monthly_price,
            billing_mode=plan.billing_mode, booked_by=people["provider_staff"], on_behalf=True,
            activated_at=timezone.now(), active_from=date(2026, 1, 2),
            term_start=date(2026, 1, 2), min_term_end=date(2027, 1, 1))
    people_by_key = {**people, "loner": loner}
    return {
        **world,
        "people": people_by_key,
        "devices": devices,
        "imports": imports,
        "contracts": contracts,
        "bookings": bookings,
        "org_key": {org.pk: key for key, org in orgs.items()},
        "person_key": {user.pk: key for key, user in people_by_key.items()},
    }


def _pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


def _expected_log_orgs(person: str) -> set:
    keys = set(VISIBLE_ORGS[person])
    if person in PROVIDER_PERSONS:
        keys.add(None)  # rows without organisation (system events) only for the provider
    return keys


def _model_label(model) -> str:
    return model._meta.label_lower


def _visible_marker_rows(model, user):
    if model is AuditEvent:
        return model.objects.visible_to(user).filter(action=MARKER_ACTION)
    return model.objects.visible_to(user).filter(path__startswith=MARKER_PATH)


# --- visible_to -------------------------------------------------------------------------------


@pytest.mark.parametrize("person", PERSONS)
def test_visible_to_follows_the_role_rules(tenants, person):
    user = tenants["people"][person]
    org_key, person_key = tenants["org_key"], tenants["person_key"]

    orgs = {org_key[pk] for pk in _pks(Organisation.objects.visible_to(user))}
    assert orgs == set(VISIBLE_ORGS[person])

    users = {person_key[pk] for pk in _pks(User.objects.visible_to(user))}
    assert users == set(VISIBLE_PEOPLE[person])
    assert User.objects.visible_to(user).count() == len(users), "no duplicate rows"

    memberships = Membership.objects.visible_to(user)
    assert {person_key[m.user_id] for m in memberships} == VISIBLE_PEOPLE[person] - {"loner"}

    for model in (AuditEvent, AccessLogEntry):
        rows = _visible_marker_rows(model, user)
        seen = {org_key.get(org_id) for org_id in rows.values_list("organisation_id", flat=True)}
        assert seen == _expected_log_orgs(person), model.__name__

    for model in (Device, DeviceImport, Contract, Booking):
        seen = [org_key[org_id] for org_id in
                model.objects.visible_to(user).values_list("customer_id", flat=True)]
        assert sorted(seen) == sorted(set(VISIBLE_ORGS[person]) & set(CUSTOMER_KEYS)), model


def test_persons_have_the_roles_the_tables_assume(tenants):
    for person in PERSONS:
        role = role_of(tenants["people"][person])
        assert (role in PROVIDER_ROLES) is (person in PROVIDER_PERSONS), person
        assert (role in CUSTOMER_ROLES) is (person in CUSTOMER_PERSONS), person


@pytest.mark.parametrize("who", ["anonymous", "none", "no_membership", "inactive"])
def test_nobody_else_sees_anything(tenants, who):
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "none":
        user = None
    elif who == "no_membership":
        user = tenants["people"]["loner"]
    else:
        user = make_person(Role.PROVIDER_ADMIN, tenants["orgs"]["provider"], is_active=False)
    for model in (Organisation, Membership, User, AuditEvent, AccessLogEntry, Device,
                  DeviceImport, Contract, Booking):
        assert not model.objects.visible_to(user).exists(), model.__name__


# --- admin changelists ------------------------------------------------------------------------


def _changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _invisible_markers(tenants, person) -> list[str]:
    """Names, e-mail addresses and serial numbers the person must never see on any page."""
    orgs, people = tenants["orgs"], tenants["people"]
    markers = [orgs[key].name for key in ALL_ORGS - set(VISIBLE_ORGS[person])]
    for key in ALL_PEOPLE - set(VISIBLE_PEOPLE[person]):
        markers += [people[key].email, str(people[key])]
    markers += [device.serial_number for key, device in tenants.get("devices", {}).items()
                if key not in VISIBLE_ORGS[person]]
    return markers


@pytest.mark.parametrize("person", STAFF_PERSONS)
def test_admin_changelists_show_only_visible_rows(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    opened, checked_rows = set(), 0
    for model in admin.site._registry:
        expected = (_pks(model.objects.visible_to(user))
                    if hasattr(model.objects, "visible_to") else None)
        response = client.get(_changelist_url(model))
        if response.status_code != 200:
            assert response.status_code in (302, 403), (model, response.status_code)
            continue
        opened.add(_model_label(model))
        cl = response.context["cl"]
        if expected is None:
            # A model without tenant scoping is for the provider only (the catalogue apart).
            assert (person in PROVIDER_PERSONS
                    or _model_label(model) in SHARED_MODELS), f"{person} opened {model}"
            assert cl.result_count == model.objects.count(), _model_label(model)
            continue
        assert len(expected) < cl.list_per_page  # the whole list is on the first page
        assert {obj.pk for obj in cl.result_list} == expected, _model_label(model)
        assert cl.result_count == len(expected), _model_label(model)
        checked_rows += len(expected)
        body = response.content.decode()
        for marker in _invisible_markers(tenants, person):
            assert marker not in body, f"{marker} on {_model_label(model)} for {person}"
    assert opened == OPENABLE_CHANGELISTS[person]
    assert checked_rows > 0


@pytest.mark.parametrize("person", PARTNER_PERSONS)
def test_admin_search_does_not_cross_tenants(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    for model in (Organisation, Membership, User, Device, DeviceImport, Contract, Booking):
        for term in ("Kunde", "Partner", "example.com", "SN-MARKER", "inventar", "host-"):
            response = client.get(_changelist_url(model), {"q": term})
            assert response.status_code == 200
            found = {obj.pk for obj in response.context["cl"].result_list}
            assert found <= _pks(model.objects.visible_to(user)), (model, term)
    response = client.get(_changelist_url(User), {"q": "Kunde"})
    assert {u.pk for u in response.context["cl"].result_list} == {
        tenants["people"][key].pk for key in VISIBLE_PEOPLE[person]
        if key.startswith("customer")}


def _admin_url(model, view: str, pk) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[pk])


@pytest.mark.parametrize("person", PARTNER_PERSONS)
def test_admin_object_pages_of_other_tenants_are_refused(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    index = reverse("admin:index")
    checked = 0
    for model in (Organisation, Membership, User, AuditEvent, AccessLogEntry, Device,
                  DeviceImport, Contract, Booking):
        hidden = model.objects.exclude(pk__in=model.objects.visible_to(user).values("pk"))
        assert hidden.exists(), model
        for obj in hidden:
            for view in ("change", "history", "delete"):
                url = _admin_url(model, view, obj.pk)
                response = client.get(url)
                assert response.status_code in (302, 403, 404), (url, response.status_code)
                if response.status_code == 302:
                    assert response["Location"] == index, url
                checked += 1
            if model is DeviceImport:
                url = reverse("admin:devices_device_import_status", args=[obj.public_id])
                assert client.get(url).status_code == 404, url
                assert client.post(url, {"decision": "cancel"}).status_code == 404, url
            content_type = ContentType.objects.get_for_model(model)
            response = client.get(reverse("admin:view_on_site", args=[content_type.pk, obj.pk]))
            assert response.status_code in (302, 403, 404)
            if response.status_code == 302 and hasattr(model, "get_absolute_url"):
                # "View on site" of a device leads to its portal page, which refuses too.
                target = urlsplit(response["Location"]).path
                assert target == obj.get_absolute_url()
                assert client.get(target).status_code == 404
            elif response.status_code == 302:
                assert response["Location"] in (index, reverse("admin:login"))
    assert checked > 10


@pytest.mark.parametrize("person", PARTNER_PERSONS)
def test_admin_cannot_change_other_tenants_people(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    other = tenants["people"]["customer_admin_direct"]
    response = client.post(_admin_url(User, "change", other.pk), {
        "first_name": "Geändert", "last_name": "Geändert", "language": "de",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    assert response.status_code in (302, 403, 404)
    other.refresh_from_db()
    assert other.first_name != "Geändert"


@pytest.mark.parametrize("person", PARTNER_PERSONS)
def test_partner_support_sees_and_changes_only_its_customers_devices(tenants, verified_client,
                                                                     person):
    user = tenants["people"][person]
    client = verified_client(user)
    own = {key for key in CUSTOMER_KEYS if key in VISIBLE_ORGS[person]}
    response = client.get(_changelist_url(Device))
    assert {d.pk for d in response.context["cl"].result_list} == {
        tenants["devices"][key].pk for key in own}
    for key, device in tenants["devices"].items():
        url = _admin_url(Device, "change", device.pk)
        response = client.post(url, {"hostname": device.hostname,
                                     "serial_number": device.serial_number, "kind": device.kind,
                                     "location": "Geändert", "pending_critical_updates": "0"})
        device.refresh_from_db()
        if key in own:
            assert response.status_code == 302 and device.location == "Geändert"
        else:
            assert response.status_code == 302 and response["Location"] == reverse(
                "admin:index")
            assert device.location != "Geändert"
    # The retire action only reaches the visible devices.
    client.post(_changelist_url(Device), {
        "action": "retire", "confirmed": "yes",
        "_selected_action": [device.pk for device in tenants["devices"].values()]})
    retired = {key for key, device in tenants["devices"].items()
               if Device.objects.get(pk=device.pk).retired_at is not None}
    assert retired == own


def test_dpo_can_view_devices_but_not_change_them(tenants, verified_client):
    client = verified_client(tenants["people"]["dpo"])
    device = tenants["devices"]["customer_a"]
    response = client.get(_changelist_url(Device))
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(CUSTOMER_KEYS)
    url = _admin_url(Device, "change", device.pk)
    response = client.get(url)
    assert response.status_code == 200 and not response.context["has_change_permission"]
    response = client.post(url, {"hostname": "geaendert", "serial_number": "SN-X",
                                 "kind": device.kind, "pending_critical_updates": "0"})
    assert response.status_code == 403
    assert client.get(reverse("admin:devices_device_add")).status_code == 403
    assert client.get(reverse("admin:devices_device_import")).status_code == 403
    client.post(_changelist_url(Device), {"action": "retire", "confirmed": "yes",
                                          "_selected_action": [device.pk]})
    device.refresh_from_db()
    assert device.hostname != "geaendert" and device.retired_at is None


def test_admin_action_only_reaches_visible_people(tenants, verified_client):
    people = tenants["people"]
    client = verified_client(people["partner_support"])
    own, foreign = people["customer_member"], people["customer_admin_b"]
    response = client.post(_changelist_url(User), {
        "action": "deactivate", "_selected_action": [own.pk, foreign.pk], "confirmed": "yes",
    })
    assert response.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert not own.is_active  # the action ran ...
    assert foreign.is_active  # ... but only on the rows the partner may see


# --- autocomplete and foreign-key choices -----------------------------------------------------


def _autocomplete_sources():
    """Every (model, field) whose target is a tenant-scoped model registered in the admin."""
    sources = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.remote_field):
                continue
            remote = field.remote_field.model
            if remote in admin.site._registry and hasattr(remote.objects, "visible_to"):
                sources.append((model, field))
    return sources


@pytest.mark.parametrize("person", STAFF_PERSONS)
def test_admin_autocomplete_is_scoped(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    sources = _autocomplete_sources()
    assert len(sources) >= 8, sources
    answered = 0
    for model, field in sources:
        response = client.get(reverse("admin:autocomplete"), {
            "app_label": model._meta.app_label, "model_name": model._meta.model_name,
            "field_name": field.name, "term": "",
        })
        if response.status_code != 200:
            assert response.status_code in (403, 404), (model, field, response.status_code)
            continue
        answered += 1
        payload = json.loads(response.content)
        assert not payload["pagination"]["more"]
        remote = field.remote_field.model
        expected = remote.objects.visible_to(user).complex_filter(
            field.get_limit_choices_to())
        got = {int(item["id"]) for item in payload["results"]}
        assert got == _pks(expected), (model, field.name)
    assert answered >= 4


@pytest.mark.parametrize(("person", "partners"), [
    ("provider_staff", {"Partner A", "Partner B"}),
    ("partner_support", {"Partner A"}),
    ("partner_support_b", {"Partner B"}),
])
def test_autocomplete_partner_choices(tenants, verified_client, person, partners):
    client = verified_client(tenants["people"][person])
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "portal", "model_name": "organisation", "field_name": "partner",
        "term": "",
    })
    assert response.status_code == 200
    assert {item["text"] for item in json.loads(response.content)["results"]} == partners
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "portal", "model_name": "membership", "field_name": "organisation",
        "term": "Kunde",
    })
    names = {item["text"] for item in json.loads(response.content)["results"]}
    expected = {"provider_staff": {"Kunde A", "Kunde B", "Kunde Direkt"},
                "partner_support": {"Kunde A"}, "partner_support_b": {"Kunde B"}}[person]
    assert names == expected


@pytest.mark.parametrize("person", ["provider_staff", "partner_support", "partner_support_b"])
def test_admin_invite_form_offers_only_visible_organisations(tenants, verified_client, person,
                                                             mailoutbox):
    user = tenants["people"][person]
    client = verified_client(user)
    response = client.get(reverse("admin:portal_user_add"))
    assert response.status_code == 200
    field = response.context["adminform"].form.fields["organisation"]
    offered = {tenants["org_key"][org.pk] for org in field.queryset}
    assert offered == set(VISIBLE_ORGS[person])
    hidden = ALL_ORGS - set(VISIBLE_ORGS[person])
    for key in hidden:
        response = client.post(reverse("admin:portal_user_add"), {
            "email": f"neu-{key}@example.com", "first_name": "Neu", "last_name": "Person",
            "language": "de", "organisation": tenants["orgs"][key].pk,
            "role": Role.CUSTOMER_ADMIN,
        })
        assert response.status_code == 200
        assert "organisation" in response.context["adminform"].form.errors
        assert not User.objects.filter(email=f"neu-{key}@example.com").exists()
    assert not mailoutbox


# --- customer roles have no admin -------------------------------------------------------------


@pytest.mark.parametrize("person", CUSTOMER_PERSONS)
def test_customer_roles_get_no_admin(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
    assert all(t.name != "admin/index.html" for t in response.templates)
    admin_urls = [u for u in concrete_urls(user) if u.is_admin]
    assert len(admin_urls) > 50
    for entry in admin_urls:
        for method in ("get", "post"):
            response = getattr(client, method)(entry.url)
            assert response.status_code in (302, 403, 404, 405), (method, entry)
            if response.status_code == 302:
                # To the admin login (which refuses them), or from the admin logout to the
                # admin index (which sends them there too).
                location = response["Location"]
                assert (location.startswith(reverse("admin:login"))
                        or location == reverse("admin:index")), (entry, location)
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "portal", "model_name": "membership", "field_name": "user", "term": ""})
    assert response.status_code == 302


# --- portal pages -----------------------------------------------------------------------------

OUTSIDERS = ["customer_admin_b", "customer_admin_direct", "partner_support", "provider_admin",
             "loner"]


@pytest.mark.parametrize("target", OUTSIDERS)
@pytest.mark.parametrize("view", ["portal:team_deactivate", "portal:team_reactivate"])
def test_team_pages_for_people_of_other_organisations_answer_404(tenants, verified_client,
                                                                 target, view):
    client = verified_client(tenants["people"]["customer_admin"])
    person = tenants["people"][target]
    if view == "portal:team_reactivate":
        User.objects.filter(pk=person.pk).update(is_active=False)
    before = User.objects.get(pk=person.pk).is_active
    url = reverse(view, args=[person.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert User.objects.get(pk=person.pk).is_active is before


def test_team_pages_work_for_own_colleagues(tenants, verified_client):
    people = tenants["people"]
    client = verified_client(people["customer_admin"])
    colleague = people["customer_member"]
    url = reverse("portal:team_deactivate", args=[colleague.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_active
    url = reverse("portal:team_reactivate", args=[colleague.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_active


def test_customer_member_cannot_manage_the_team(tenants, verified_client):
    people = tenants["people"]
    client = verified_client(people["customer_member"])
    url = reverse("portal:team_deactivate", args=[people["customer_admin"].pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    people["customer_admin"].refresh_from_db()
    assert people["customer_admin"].is_active


@pytest.mark.parametrize("person", CUSTOMER_PERSONS + PARTNER_PERSONS)
def test_portal_pages_show_only_own_organisation(tenants, verified_client, person):
    user = tenants["people"][person]
    client = verified_client(user)
    own_org = Membership.objects.get(user=user).organisation
    response = client.get(reverse("portal:team"))
    assert response.status_code == 200
    members = list(response.context["members"])
    assert members and {m.organisation_id for m in members} == {own_org.pk}
    dashboard = client.get(reverse("portal:dashboard"))
    assert dashboard.status_code == 200
    assert dashboard.context["organisation"] == own_org
    own_partner = own_org.partner.name if own_org.partner_id else None
    for body in (response.content.decode(), dashboard.content.decode()):
        for marker in _invisible_markers(tenants, person):
            assert marker not in body or marker == own_partner, marker
