"""Query budgets: the dashboard and every admin changelist run a fixed number of queries.

Each page is measured with N rows and again with 5N rows; the counts must be equal (no query
per row) and stay within the budget measured when this test was written. Run with ``-s`` to
see the numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from contracts.models import Booking, Contract, Plan, PlanFamily, PlanUnit
from devices.models import DeviceImport, ImportStatus
from portal.models import AccessLogEntry, AuditEvent, Notification
from portal.roles import OrganisationKind, Role
from tests.factories import DeviceFactory, OrganisationFactory, make_person

N = 3
GROWTH = 4 * N  # measured again at N + 4N = 5N rows

#: Queries per page, measured with this suite (SQLite); a page must never need more.
QUERY_BUDGET = {
    # 11 + 3 for the costs card (projection, devices without service, ending soon)
    # + 1 for the AVV banner (customer admins: the current version and their acceptance)
    # + 1 for the navigation entry "Vertragsende & Daten" (customer admins: does it end?)
    "dashboard": 16,
    "team": 8,  # 6 + 1 for the AVV banner + 1 for the contract-end navigation entry
    "portal.organisation": 11,
    "portal.membership": 11,
    "portal.user": 13,
    "portal.auditevent": 14,
    "portal.accesslogentry": 14,
    "portal.notification": 13,
    "portal.document": 13,
    "portal.changenotice": 12,
    "django_q.schedule": 11,
    "django_q.success": 12,
    "django_q.failure": 12,
    "django_q.ormq": 11,
    "devices.device": 11,
    "devices.deviceimport": 13,
    "contracts.plan": 10,
    "contracts.contract": 11,
    "contracts.booking": 12,
    "contracts.planpricechange": 12,
    "contracts.specialterminationoffer": 10,
    "gdpr.avvversion": 11,
    "gdpr.avvacceptance": 13,
    "gdpr.processingrecord": 10,
    "gdpr.processingreview": 12,
    "gdpr.subprocessor": 13,
    "gdpr.objectioncase": 12,
    "gdpr.datasubjectrequest": 11,
    "gdpr.legalhold": 11,
    "gdpr.deletioncertificate": 11,
    "gdpr.customerexport": 10,
    "gdpr.contractendmail": 10,
    "gdpr.dataprovisionorder": 10,
}


def _customer_with_partner():
    partner = OrganisationFactory(kind=OrganisationKind.PARTNER)
    return OrganisationFactory(partner=partner)


def _people(world, n):
    """People in distinct customers of distinct partners (every related row is different)."""
    for _i in range(n):
        make_person(Role.CUSTOMER_MEMBER, _customer_with_partner())


def _colleagues(world, n):
    """Colleagues in Kunde Direkt (one person so far: N rows stay below the preview of 5)."""
    for _i in range(n):
        make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_direct"])


def _organisations(world, n):
    for _i in range(n):
        _customer_with_partner()


def _audit_events(world, n):
    for i in range(n):
        org = _customer_with_partner()
        actor = make_person(Role.CUSTOMER_ADMIN, org, mfa=False)
        AuditEvent.objects.create(actor=actor, actor_label=actor.email, organisation=org,
                                  action="budget.test", target_repr=f"event {i}",
                                  ip_address="192.0.2.1")


def _access_log(world, n):
    for i in range(n):
        org = _customer_with_partner()
        user = make_person(Role.CUSTOMER_MEMBER, org, mfa=False)
        AccessLogEntry.objects.create(user=user, organisation=org, method="GET",
                                      path=f"/budget/{i}", view_name="portal:dashboard",
                                      status_code=200, ip_address="192.0.2.1")


def _notifications(world, n):
    for i in range(n):
        org = _customer_with_partner()
        person = make_person(Role.CUSTOMER_ADMIN, org, mfa=False)
        Notification.objects.create(event="budget.test", template="security_notice",
                                    customer=org, actor=person, recipient=person,
                                    email=person.email, context={"n": i})


def _documents(world, n):
    from portal.documents.models import Document

    for i in range(n):
        org = _customer_with_partner()
        Document.objects.create(customer=org, kind="budget", title=f"Dokument {i}",
                                filename=f"d{i}.pdf", file=f"documents/d{i}.pdf",
                                sha256="0" * 64, size=1, created_at=timezone.now(),
                                created_by=make_person(Role.CUSTOMER_ADMIN, org, mfa=False))


def _change_notices(world, n):
    from datetime import date

    from portal.models import ChangeNotice

    for i in range(n):
        org = _customer_with_partner()
        ChangeNotice.objects.create(
            customer=org, kind="price_increase", title=f"Preise {i}", text="x", window="4w",
            received_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
            deadline=date(2027, 5, 7), decision="objected", decided_at=timezone.now(),
            decided_by=make_person(Role.CUSTOMER_ADMIN, org, mfa=False))


def _task(success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(id=uuid.uuid4().hex, name=f"task-{uuid.uuid4().hex[:8]}",
                               func="math.floor", args=(1.5,), kwargs={}, result=1,
                               group=f"group-{uuid.uuid4().hex[:4]}", cluster="portal",
                               started=now, stopped=now, success=success)


def _successes(world, n):
    for _i in range(n):
        _task(success=True)


def _failures(world, n):
    for _i in range(n):
        _task(success=False)


def _schedules(world, n):
    for i in range(n):
        task = _task(success=bool(i % 2))
        Schedule.objects.create(name=f"schedule-{uuid.uuid4().hex[:8]}", func="math.floor",
                                args="1.5", schedule_type=Schedule.DAILY, task=task.id)


def _queued(world, n):
    for _i in range(n):
        task_id = uuid.uuid4().hex
        payload = SignedPackage.dumps({"id": task_id, "name": f"queued-{task_id[:8]}",
                                       "func": "math.floor", "args": (1.5,), "kwargs": {},
                                       "group": "budget"})
        OrmQ.objects.create(key="portal", payload=payload)


def _devices(world, n):
    """Devices of distinct customers of distinct partners."""
    for _i in range(n):
        DeviceFactory(customer=_customer_with_partner())


def _device_imports(world, n):
    """Finished imports of distinct customers, uploaded by distinct people."""
    for i in range(n):
        org = _customer_with_partner()
        uploader = make_person(Role.CUSTOMER_ADMIN, org, mfa=False)
        DeviceImport.objects.create(
            customer=org, created_by=uploader, confirmed_by=uploader,
            status=ImportStatus.DONE, file_name=f"inventar-{i}.csv", file_format="csv",
            file_size=100, file_sha256="0" * 64, rows_total=2, rows_done=2,
            counts={"new": 2, "changed": 0, "unchanged": 0, "invalid": 0},
            finished_at=timezone.now())


def _plans(world, n):
    for _i in range(n):
        code = uuid.uuid4().hex[:10]
        Plan.objects.create(code=f"plan-{code}", name=f"Leistung {code}",
                            family=PlanFamily.MANAGED_CLIENT, tier="Standard",
                            unit=PlanUnit.WORKSTATION, monthly_price=Decimal("8.00"))


def _contracts(world, n):
    """Contracts of distinct customers of distinct partners."""
    for _i in range(n):
        Contract.objects.create(customer=_customer_with_partner(), start=date(2026, 1, 1))


def _bookings(world, n):
    """Bookings of distinct customers, devices, plans and bookers (partner support)."""
    for _i in range(n):
        customer = _customer_with_partner()
        booker = make_person(Role.PARTNER_SUPPORT, customer.partner, mfa=False)
        _plans(world, 1)
        plan = Plan.objects.latest("pk")
        contract = Contract.objects.create(customer=customer, start=date(2026, 1, 1))
        Booking.objects.create(
            customer=customer, contract=contract, device=DeviceFactory(customer=customer),
            plan=plan, plan_name=plan.name, family=plan.family,
            monthly_price=plan.monthly_price, billing_mode=plan.billing_mode,
            booked_by=booker, on_behalf=True, activated_at=timezone.now(),
            active_from=date(2026, 1, 2), term_start=date(2026, 1, 2),
            min_term_end=date(2027, 1, 1))


def _price_changes(world, n):
    """Announced price changes of distinct plans."""
    from contracts.models import PlanPriceChange

    for _i in range(n):
        _plans(world, 1)
        PlanPriceChange.objects.create(
            plan=Plan.objects.latest("pk"), kind="increase", notice_kind="price_increase",
            old_price=Decimal("8.00"), new_price=Decimal("9.00"), effective_on=date(2027, 6, 1),
            announced_on=date(2027, 4, 8), deadline=date(2027, 5, 7))


def _termination_offers(world, n):
    """Special termination rights of distinct customers after objections to distinct changes."""
    from contracts.models import PlanPriceChange, SpecialTerminationOffer
    from portal.models import ChangeNotice

    _price_changes(world, n)
    for change in PlanPriceChange.objects.order_by("-pk")[:n]:
        customer = _customer_with_partner()
        notice = ChangeNotice.objects.create(
            customer=customer, kind="price_increase", title="t", text="t", window="4w",
            received_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
            deadline=date(2027, 5, 7), decision="objected", decided_at=timezone.now())
        SpecialTerminationOffer.objects.create(price_change=change, notice=notice,
                                               customer=customer, offered_on=date(2027, 6, 1))


def _processing_records(world, n):
    """Art. 30(2) records of distinct customers, each with one review by a distinct DPO."""
    from gdpr.models import ProcessingRecord, ProcessingReview, RecordKind

    for i in range(n):
        record = ProcessingRecord.objects.create(
            kind=RecordKind.PROCESSOR, customer=_customer_with_partner(), name=f"Auftrag {i}",
            purposes="p", legal_basis="l", data_categories="d", subject_categories="s",
            retention="r", next_review_due=date(2026, 1, 1))
        ProcessingReview.objects.create(
            record=record, reviewed_on=date(2025, 1, 1), outcome="unchanged",
            reviewer=make_person(Role.DPO, world["orgs"]["provider"], mfa=False))


def _avv_versions(world, n):
    from gdpr.models import AvvVersion

    start = AvvVersion.objects.count()
    AvvVersion.objects.bulk_create([AvvVersion(label=f"budget-{start + i}") for i in range(n)])


def _avv_acceptances(world, n):
    """Acceptances of one published version by admins of distinct customers."""
    from gdpr.models import AvvAcceptance, AvvStatus, AvvVersion

    version = AvvVersion.objects.filter(status=AvvStatus.PUBLISHED).first()
    if version is None:
        version = AvvVersion.objects.create(label="budget", status=AvvStatus.PUBLISHED,
                                            published_at=timezone.now(), sha256="a" * 64)
    for _i in range(n):
        customer = _customer_with_partner()
        AvvAcceptance.objects.create(
            customer=customer, version=version, accepted_at=timezone.now(), sha256="a" * 64,
            person=make_person(Role.CUSTOMER_ADMIN, customer, mfa=False), ip="192.0.2.1")


def _subprocessors(world, n):
    """Register rows, each replacing a distinct predecessor."""
    from gdpr.models import SubProcessor

    for i in range(n):
        old = SubProcessor.objects.create(name=f"Alt {uuid.uuid4().hex[:8]}", service="s",
                                          location="l", country="DE", data_categories="d",
                                          valid_from=date(2026, 1, 1),
                                          valid_to=date(2026, 12, 31))
        SubProcessor.objects.create(name=f"Neu {i}", service="s", location="l", country="FR",
                                    data_categories="d", valid_from=date(2027, 1, 1),
                                    predecessor=old)


def _objection_cases(world, n):
    """Objection cases of distinct customers, each after its own notice."""
    from gdpr.models import ObjectionCase
    from portal.models import ChangeNotice

    for _i in range(n):
        customer = _customer_with_partner()
        notice = ChangeNotice.objects.create(
            customer=customer, kind="subprocessor_change", title="t", text="t", window="30d",
            received_on=date(2027, 3, 26), effective_on=date(2027, 5, 1),
            deadline=date(2027, 4, 26), decision="objected", decided_at=timezone.now())
        ObjectionCase.objects.create(customer=customer, notice=notice,
                                     opened_at=timezone.now())


def _data_subject_requests(world, n):
    """Open requests of people of distinct customers (half of them overdue)."""
    from gdpr.models import DataSubjectRequest

    for i in range(n):
        DataSubjectRequest.objects.create(
            customer=_customer_with_partner(), kind="access", channel="email",
            requester_name=f"Person {i}", received_on=date(2026, 1, 5),
            deadline=date(2026, 2, 5) if i % 2 else date(2099, 2, 5))


def _customer_exports(world, n):
    from gdpr.models import CustomerExport

    for _i in range(n):
        org = _customer_with_partner()
        CustomerExport.objects.create(customer=org, requested_by=make_person(
            Role.CUSTOMER_ADMIN, org, mfa=False), state="done")


def _contract_end_mails(world, n):
    from gdpr.models.contract_end import ContractEndMail

    for _i in range(n):
        ContractEndMail.objects.create(customer=_customer_with_partner(), kind="registered",
                                       contract_end=date(2027, 3, 31), recipients=1)


def _provision_orders(world, n):
    from gdpr.models import DataProvisionOrder

    for _i in range(n):
        org = _customer_with_partner()
        DataProvisionOrder.objects.create(
            customer=org, ordered_by=make_person(Role.CUSTOMER_ADMIN, org, mfa=False),
            ordered_on=date(2027, 2, 1), contract_end=date(2027, 3, 31),
            wanted_by=date(2027, 3, 1), scope="Alles")


def _legal_holds(world, n):
    """Active holds of distinct customers, each placed by a distinct DPO."""
    from gdpr.models import LegalHold

    for _i in range(n):
        LegalHold.objects.create(customer=_customer_with_partner(), reason="Rechtsstreit",
                                 placed_by=make_person(Role.DPO, world["orgs"]["provider"],
                                                       mfa=False))


def _deletion_certificates(world, n):
    """Erasure certificates of distinct customers (not purged: the provider admin sees them)."""
    from gdpr.models import DeletionCertificate

    for i in range(n):
        DeletionCertificate.objects.create(
            kind="erasure", reference=f"Betroffenenanfrage Nr. {i}",
            customer=_customer_with_partner(), performed_at=timezone.now(),
            performed_by="Datenschutzbeauftragter", method="Register", deleted_ids_sha256="0" * 64,
            backup_expires_on=date(2027, 5, 1), rule_version="budget")


def _changelist(label: str) -> str:
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_changelist")


def _shown_changelist(response) -> int:
    return response.context["cl"].result_count


def _shown_team(response) -> int:
    return len(response.context["members"])


def _shown_dashboard(response) -> int:
    return response.context["team_active"]


#: page id: (who looks, url, how to add rows, how many rows the page reports)
PAGES: dict[str, tuple[str, Callable[[], str], Callable, Callable]] = {
    "dashboard": ("customer_admin_direct", lambda: reverse("portal:dashboard"), _colleagues,
                  _shown_dashboard),
    "team": ("customer_admin_direct", lambda: reverse("portal:team"), _colleagues, _shown_team),
    "portal.organisation": ("provider_admin", lambda: _changelist("portal.organisation"),
                            _organisations, _shown_changelist),
    "portal.membership": ("provider_admin", lambda: _changelist("portal.membership"), _people,
                          _shown_changelist),
    "portal.user": ("provider_admin", lambda: _changelist("portal.user"), _people,
                    _shown_changelist),
    "portal.auditevent": ("provider_admin", lambda: _changelist("portal.auditevent"),
                          _audit_events, _shown_changelist),
    "portal.accesslogentry": ("provider_admin", lambda: _changelist("portal.accesslogentry"),
                              _access_log, _shown_changelist),
    "portal.notification": ("provider_admin", lambda: _changelist("portal.notification"),
                            _notifications, _shown_changelist),
    "portal.document": ("provider_admin", lambda: _changelist("portal.document"), _documents,
                        _shown_changelist),
    "portal.changenotice": ("provider_admin", lambda: _changelist("portal.changenotice"),
                            _change_notices, _shown_changelist),
    "django_q.schedule": ("provider_admin", lambda: _changelist("django_q.schedule"),
                          _schedules, _shown_changelist),
    "django_q.success": ("provider_admin", lambda: _changelist("django_q.success"),
                         _successes, _shown_changelist),
    "django_q.failure": ("provider_admin", lambda: _changelist("django_q.failure"), _failures,
                         _shown_changelist),
    "django_q.ormq": ("provider_admin", lambda: _changelist("django_q.ormq"), _queued,
                      _shown_changelist),
    "devices.device": ("provider_admin", lambda: _changelist("devices.device"), _devices,
                       _shown_changelist),
    "devices.deviceimport": ("provider_admin", lambda: _changelist("devices.deviceimport"),
                             _device_imports, _shown_changelist),
    "contracts.plan": ("provider_admin", lambda: _changelist("contracts.plan"), _plans,
                       _shown_changelist),
    "contracts.contract": ("provider_admin", lambda: _changelist("contracts.contract"),
                           _contracts, _shown_changelist),
    "contracts.booking": ("provider_admin", lambda: _changelist("contracts.booking"),
                          _bookings, _shown_changelist),
    "gdpr.avvversion": ("provider_admin", lambda: _changelist("gdpr.avvversion"),
                        _avv_versions, _shown_changelist),
    "gdpr.avvacceptance": ("provider_admin", lambda: _changelist("gdpr.avvacceptance"),
                           _avv_acceptances, _shown_changelist),
    "contracts.planpricechange": ("provider_admin",
                                  lambda: _changelist("contracts.planpricechange"),
                                  _price_changes, _shown_changelist),
    "contracts.specialterminationoffer": ("provider_admin",
                                          lambda: _changelist("contracts.specialterminationoffer"),
                                          _termination_offers, _shown_changelist),
    "gdpr.processingrecord": ("provider_admin", lambda: _changelist("gdpr.processingrecord"),
                              _processing_records, _shown_changelist),
    "gdpr.processingreview": ("provider_admin", lambda: _changelist("gdpr.processingreview"),
                              _processing_records, _shown_changelist),
    "gdpr.subprocessor": ("provider_admin", lambda: _changelist("gdpr.subprocessor"),
                          _subprocessors, _shown_changelist),
    "gdpr.objectioncase": ("provider_admin", lambda: _changelist("gdpr.objectioncase"),
                           _objection_cases, _shown_changelist),
    "gdpr.datasubjectrequest": ("provider_admin",
                                lambda: _changelist("gdpr.datasubjectrequest"),
                                _data_subject_requests, _shown_changelist),
    "gdpr.legalhold": ("provider_admin", lambda: _changelist("gdpr.legalhold"), _legal_holds,
                       _shown_changelist),
    "gdpr.deletioncertificate": ("provider_admin",
                                 lambda: _changelist("gdpr.deletioncertificate"),
                                 _deletion_certificates, _shown_changelist),
    "gdpr.customerexport": ("provider_admin", lambda: _changelist("gdpr.customerexport"),
                            _customer_exports, _shown_changelist),
    "gdpr.contractendmail": ("provider_admin", lambda: _changelist("gdpr.contractendmail"),
                             _contract_end_mails, _shown_changelist),
    "gdpr.dataprovisionorder": ("provider_admin",
                                lambda: _changelist("gdpr.dataprovisionorder"),
                                _provision_orders, _shown_changelist),
}


def _measure(client, url):
    client.get(url)  # warm caches (content types, permissions) like a running server has
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries.captured_queries), response, queries


def test_every_changelist_the_provider_admin_opens_has_a_budget(world, verified_client):
    client = verified_client(world["people"]["provider_admin"])
    opened = set()
    for model in admin.site._registry:
        label = model._meta.label_lower
        if client.get(_changelist(label)).status_code == 200:
            opened.add(label)
    expected = set(QUERY_BUDGET) - {"dashboard", "team"}
    if "orm" not in settings.Q_CLUSTER:
        # django-q2 registers the admin of its queue table only with the ORM broker.
        expected.discard("django_q.ormq")
    assert opened == expected


@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_rows(world, verified_client, page):
    person, url_of, add_rows, shown = PAGES[page]
    if page == "django_q.ormq" and "orm" not in settings.Q_CLUSTER:
        pytest.skip("django-q2 has a queue-table admin only with the ORM broker")
    client = verified_client(world["people"][person])
    url = url_of()
    add_rows(world, N)
    small, response, _ = _measure(client, url)
    rows_small = shown(response)
    add_rows(world, GROWTH)
    large, response, queries = _measure(client, url)
    rows_large = shown(response)
    print(f"\nquery budget {page}: {small} queries at {rows_small} rows, "
          f"{large} at {rows_large} rows (budget {QUERY_BUDGET[page]})")
    assert rows_large - rows_small >= GROWTH, "the added rows must be on the page"
    assert large == small, "\n".join(q["sql"] for q in queries.captured_queries)
    assert large <= QUERY_BUDGET[page], "\n".join(q["sql"] for q in queries.captured_queries)


# --- the fixed cost of every verified request ---------------------------------------------------


def test_membership_lookup_is_one_plain_query_per_request(world):
    """Every request of a logged-in person looks up their membership (tenancy, access log):
    once per request, and without joining the person only to sort the single row."""
    from portal.models import User
    from portal.tenancy import membership_of

    user = User.objects.get(pk=world["people"]["partner_support"].pk)  # nothing cached yet
    with CaptureQueriesContext(connection) as queries:
        membership = membership_of(user)
        assert membership_of(user) is membership
        assert membership.organisation.partner is None  # selected with it
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"]
    assert '"portal_user"' not in sql and "ORDER BY" not in sql, sql
    assert membership.organisation == world["orgs"]["partner_a"]

    nobody = make_person(Role.CUSTOMER_MEMBER, world["orgs"]["customer_a"])
    nobody.memberships.all().delete()
    nobody = User.objects.get(pk=nobody.pk)
    with CaptureQueriesContext(connection) as queries:
        assert membership_of(nobody) is None and membership_of(nobody) is None
    assert len(queries.captured_queries) == 1
