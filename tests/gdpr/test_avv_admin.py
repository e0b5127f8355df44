"""The AVV in the staff admin: drafts with their TOMs, publishing and new drafts as confirmed
actions of the provider admin, published versions read-only, acceptances tenant-scoped."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from gdpr.models import AvvAcceptance, AvvVersion, TomMeasure
from gdpr.services import avv_accept
from gdpr.services.avv import avv_version_draft_from
from portal.models import AuditEvent
from portal.roles import Role
from tests.gdpr.conftest import draft_version

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:gdpr_avvversion_changelist"


def _action(client, action, version, **extra):
    return client.post(reverse(CHANGELIST), {"action": action, ACTION_CHECKBOX_NAME: [version.pk],
                                             "confirmed": "yes", **extra})


def test_the_provider_admin_publishes_a_draft_after_confirming(world, verified_client):
    draft = draft_version()
    client = verified_client(world["people"]["provider_admin"])
    page = client.post(reverse(CHANGELIST), {"action": "publish",
                                             ACTION_CHECKBOX_NAME: [draft.pk]})
    assert page.status_code == 200 and "friert Text, TOMs und Prüfsumme ein" in page.text
    draft.refresh_from_db()
    assert not draft.is_published
    _action(client, "publish", draft)
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == world["people"]["provider_admin"]
    # Published: shown read-only, TOMs without edit fields, nothing can be saved.
    change = client.get(reverse("admin:gdpr_avvversion_change", args=[draft.pk]))
    assert change.status_code == 200
    assert 'name="measures-0-text"' not in change.text
    assert "Maßnahme a" in change.text and draft.sha256 in change.text
    client.post(reverse("admin:gdpr_avvversion_change", args=[draft.pk]), {"label": "x"})
    draft.refresh_from_db()
    assert draft.label == "2026-1"


@pytest.mark.parametrize("who", ["dpo", "provider_staff"])
def test_others_see_versions_but_neither_publish_nor_draft(world, verified_client, who):
    draft = draft_version()
    client = verified_client(world["people"][who])
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200 and "2026-1" in page.text
    assert 'value="publish"' not in page.text
    _action(client, "publish", draft)
    draft.refresh_from_db()
    assert not draft.is_published


def test_a_new_draft_takes_the_tom_of_the_published_version(world, verified_client, published):
    client = verified_client(world["people"]["provider_admin"])
    response = _action(client, "draft_from", published, label="")
    assert response.status_code == 200  # the form asks for the label again
    _action(client, "draft_from", published, label="2027-1")
    draft = AvvVersion.objects.get(label="2027-1")
    assert not draft.is_published
    assert sorted(TomMeasure.objects.filter(version=draft).values_list("text", flat=True)) == \
        sorted(TomMeasure.objects.filter(version=published).values_list("text", flat=True))
    assert AuditEvent.objects.filter(action="avv.drafted").count() == 1
    # Its TOMs are editable; a label in use is refused with a message.
    assert 'name="measures-0-text"' in client.get(
        reverse("admin:gdpr_avvversion_change", args=[draft.pk])).text
    with pytest.raises(ValidationError) as refused:
        avv_version_draft_from(actor=world["people"]["provider_admin"], source=published,
                               label="2027-1")
    assert "label" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        avv_version_draft_from(actor=world["people"]["dpo"], source=published, label="2027-2")


def test_acceptances_are_read_only_and_partner_support_sees_only_its_customers(
        world, verified_client, published):
    for who, customer in (("customer_admin", "customer_a"), ("customer_admin_b", "customer_b")):
        with transaction.atomic():
            avv_accept(actor=world["people"][who], customer=world["orgs"][customer],
                       version=published, sha256_seen=published.sha256, ip="192.0.2.1",
                       user_agent="Test")
    client = verified_client(world["people"]["partner_support"])
    page = client.get(reverse("admin:gdpr_avvacceptance_changelist"))
    assert page.status_code == 200
    assert "Kunde A" in page.text and "Kunde B" not in page.text
    other = AvvAcceptance.objects.get(customer=world["orgs"]["customer_b"])
    assert client.get(reverse("admin:gdpr_avvacceptance_change",
                              args=[other.pk])).status_code in (302, 404)
    dpo = verified_client(world["people"]["dpo"])
    page = dpo.get(reverse("admin:gdpr_avvacceptance_changelist"))
    assert "Kunde A" in page.text and "Kunde B" in page.text
    assert "/admin/gdpr/avvacceptance/add/" not in page.text


def _versions_and_acceptances(world, n: int) -> None:
    """``n`` drafts and ``n`` acceptances of one published version by distinct people of
    distinct customers (bulk: the evidence triggers allow inserts)."""
    from django.utils import timezone

    from portal.models import Membership, Organisation, User
    from portal.roles import OrganisationKind

    start = AvvVersion.objects.count()
    AvvVersion.objects.bulk_create([AvvVersion(label=f"e-{start + i}") for i in range(n)])
    version = AvvVersion.objects.filter(status="published").first()
    customers = Organisation.objects.bulk_create([
        Organisation(kind=OrganisationKind.CUSTOMER, name=f"Kunde {start + i}")
        for i in range(n)])
    people = User.objects.bulk_create([
        User(email=f"admin{start + i}@kunde.example") for i in range(n)])
    Membership.objects.bulk_create([
        Membership(user=person, organisation=customer, role=Role.CUSTOMER_ADMIN)
        for person, customer in zip(people, customers, strict=True)])
    AvvAcceptance.objects.bulk_create([
        AvvAcceptance(customer=customer, version=version, person=person,
                      accepted_at=timezone.now(), ip="192.0.2.1", sha256=version.sha256)
        for person, customer in zip(people, customers, strict=True)])


@pytest.mark.parametrize("page", ["admin:gdpr_avvversion_changelist",
                                  "admin:gdpr_avvacceptance_changelist"])
def test_the_avv_lists_run_flat_queries_at_10_and_1000_rows(world, verified_client, published,
                                                            page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = verified_client(world["people"]["dpo"])

    def count() -> int:
        client.get(reverse(page))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(page)).status_code == 200
        return len(queries.captured_queries)

    _versions_and_acceptances(world, 10)
    small = count()
    _versions_and_acceptances(world, 990)
    large = count()
    print(f"\n{page}: {small} queries at 10 rows, {large} at 1,000")
    assert large == small
