"""The audit trail and the access log keep the event but not the person (ADR 0016): erasure of
a person and the purge of a customer replace them by their account's pseudonym, clear IP
addresses and redact e-mail addresses and names; everything else stays append-only."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import transaction

from gdpr.models import RequestChannel, RequestKind
from gdpr.services.erasure import dsr_erase
from gdpr.services.requests import dsr_create, dsr_identity_checked, dsr_start
from portal.models import AccessLogEntry, AuditEvent, User
from portal.models.audit import AppendOnlyError, PersonPseudonym
from portal.privacy import REDACTED, entries, erase_for_person, purge_for_customer
from portal.privacy_entries import pseudonym_email
from portal.services.audit import audit_event_record

pytestmark = pytest.mark.django_db

OLD_EMAIL = "juergen.alt@example.org"
OLD_NAME = "Jürgen Maier"
PERSON_IPS = ("198.51.100.7", "198.51.100.8", "2001:db8::7")
ADMIN_IP = "203.0.113.50"


def _everything(event: AuditEvent) -> str:
    return " ".join((event.actor_label, event.target_repr, json.dumps(event.details),
                     json.dumps(event.details, ensure_ascii=False), str(event.ip_address)))


def _access(user, organisation, ip):
    return AccessLogEntry.objects.create(user=user, organisation=organisation, method="GET",
                                         path="/geraete/", status_code=200, ip_address=ip,
                                         user_agent="Firefox/140 (X11; Linux)")


@pytest.fixture
def acted(world):
    """A customer member who changed their address and was renamed, logged in, failed a
    login, was invited by their admin, is named in another event's details; their admin and a
    colleague at another customer acted as well."""
    customer = world["orgs"]["customer_a"]
    admin = world["people"]["customer_admin"]
    other = world["people"]["customer_admin_b"]
    User.objects.filter(pk=world["people"]["customer_member"].pk).update(
        first_name="Jürgen", last_name="Müller")
    person = User.objects.get(pk=world["people"]["customer_member"].pk)
    with transaction.atomic():
        audit_event_record(actor=admin, action="user.invited", target=person, ip=ADMIN_IP,
                           details={"role": "customer_member", "email": OLD_EMAIL})
        audit_event_record(actor=person, action="auth.login", target=person, ip=PERSON_IPS[0])
        audit_event_record(actor=person, action="user.email_changed", target=person,
                           ip=PERSON_IPS[2], details={"old": OLD_EMAIL, "new": person.email})
        audit_event_record(actor=admin, action="user.updated", target=person, ip=ADMIN_IP,
                           details={"before": {"first_name": "Jürgen", "last_name": "Maier"},
                                    "after": {"first_name": "Jürgen", "last_name": "Müller"}})
        audit_event_record(actor=None, action="auth.login_failed", target=person,
                           ip=PERSON_IPS[1],
                           details={"known_account": True, "rate_limited": False})
        audit_event_record(actor=admin, action="admin.changed", target=customer, ip=ADMIN_IP,
                           details={"message": f"Ansprechpartner: {person.get_full_name()} "
                                               f"<{person.email.upper()}>"})
        audit_event_record(actor=other, action="auth.login", target=other, ip="192.0.2.200")
    _access(person, customer, PERSON_IPS[0])
    _access(admin, customer, ADMIN_IP)
    return {"person": person, "admin": admin, "other": other, "customer": customer,
            "world": world, "email": person.email, "name": person.get_full_name()}


def _traces(acted) -> list[str]:
    return [acted["email"], acted["name"], OLD_EMAIL, OLD_NAME, *PERSON_IPS]


def _erasure_request(acted):
    dpo = acted["world"]["people"]["dpo"]
    request = dsr_create(actor=dpo, kind=RequestKind.ERASURE, channel=RequestChannel.LETTER,
                         received_on=date.today(), requester_name=acted["name"],
                         requester_email=acted["email"],
                         details=f"Brief von {acted['name']}")
    dsr_identity_checked(actor=dpo, request=request, how="Rückruf")
    dsr_start(actor=dpo, request=request)
    return request


def test_erasure_keeps_every_event_and_no_trace_of_the_person(acted):
    person, admin = acted["person"], acted["admin"]
    request = _erasure_request(acted)
    dsr_events = AuditEvent.objects.filter(target_type="gdpr.datasubjectrequest")
    assert acted["name"] in dsr_events.first().target_repr  # "Löschung – Jürgen Müller"
    before = dict(AuditEvent.objects.values_list("pk", "action"))
    own = set(AuditEvent.objects.filter(actor=person).values_list("pk", flat=True))
    unrelated = {e.pk: _everything(e) for e in AuditEvent.objects.filter(
        actor=acted["other"])}

    dsr_erase(actor=acted["world"]["people"]["dpo"], request=request)

    after = dict(AuditEvent.objects.values_list("pk", "action"))
    assert {pk: after[pk] for pk in before} == before  # every event is still there
    assert {"dsr.erased", "privacy.person_erased"} <= {
        after[pk] for pk in set(after) - set(before)}  # (and the certificate's document)
    for event in AuditEvent.objects.all():
        text = _everything(event)
        assert not [trace for trace in _traces(acted) if trace.lower() in text.lower()], (
            event.action, text)

    person.refresh_from_db()
    pseudonym = pseudonym_email(person.pk)
    assert person.email == pseudonym  # the account's pseudonym and the trail's are the same
    for event in AuditEvent.objects.filter(pk__in=own):
        assert (event.actor_id, event.actor_label, event.ip_address) == (
            person.pk, pseudonym, None)
    about = AuditEvent.objects.filter(target_type="portal.user", target_id=str(person.pk))
    assert set(about.values_list("target_repr", flat=True)) == {pseudonym}
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.ip_address is None  # nobody logged in: the address was the person's
    # What the admin did to the person stays the admin's: their address and IP.
    invited = AuditEvent.objects.get(action="user.invited")
    assert (invited.actor_label, invited.ip_address) == (admin.email, ADMIN_IP)
    assert invited.details == {"role": "customer_member", "email": REDACTED}
    # A name correction names the person by its parts: redacted in their own events.
    assert AuditEvent.objects.get(action="user.updated").details == {
        "before": {"first_name": REDACTED, "last_name": REDACTED},
        "after": {"first_name": REDACTED, "last_name": REDACTED}}
    changed = AuditEvent.objects.get(action="admin.changed")
    assert changed.details == {"message": f"Ansprechpartner: {REDACTED} <{REDACTED}>"}
    assert changed.target_repr == acted["customer"].name  # the company is not the person
    assert set(dsr_events.values_list("target_repr", flat=True)) == {
        f"Löschung (Art. 17 DSGVO) – {REDACTED}"}
    # Events of other people are untouched.
    assert {e.pk: _everything(e) for e in AuditEvent.objects.filter(
        actor=acted["other"])} == unrelated

    # The access log keeps the row for its 90 days, without address and browser.
    row = AccessLogEntry.objects.get(user=person)
    assert (row.ip_address, row.user_agent, row.path) == (None, "", "/geraete/")
    assert AccessLogEntry.objects.get(user=admin).ip_address == ADMIN_IP


def test_the_person_erased_event_holds_counts_only(acted):
    person = acted["person"]
    outcomes = {o.model: o for o in erase_for_person(person, actor=acted["admin"])}
    event = AuditEvent.objects.get(action="privacy.person_erased")
    text = _everything(event)
    assert not [trace for trace in _traces(acted) if trace.lower() in text.lower()]
    assert event.target_repr == pseudonym_email(person.pk)
    own_and_about = 5  # invited, login, e-mail changed, renamed, failed login
    assert outcomes["portal.AuditEvent"].pseudonymised == own_and_about + 1  # + admin.changed
    assert outcomes["portal.AuditEvent"].deleted == 0
    assert outcomes["portal.AccessLogEntry"].pseudonymised == 1
    assert event.details["outcomes"]["portal.AuditEvent"]["pseudonymised"] == 6


def test_a_second_erasure_changes_nothing_more(acted):
    person = acted["person"]
    erase_for_person(person, actor=acted["admin"])
    first = {e.pk: _everything(e) for e in AuditEvent.objects.all()}
    person.refresh_from_db()
    erase_for_person(person, actor=acted["admin"])
    second = {e.pk: _everything(e) for e in AuditEvent.objects.all()}
    assert {pk: second[pk] for pk in first} == first


def test_the_strategies_run_before_the_account_is_pseudonymised():
    order = {entry.model: entry.order for entry in entries}
    assert order["portal.AuditEvent"] < order["portal.User"]
    assert order["portal.AccessLogEntry"] < order["portal.User"]


def test_the_purge_keeps_the_customers_events_and_none_of_its_people(acted, world):
    customer, admin, person = acted["customer"], acted["admin"], acted["person"]
    with transaction.atomic():
        audit_event_record(actor=admin, action="organisation.updated", target=customer,
                           ip="198.51.100.9",
                           details={"before": {"name": customer.name}, "after": {"city": "Kiel"}})
    _access(person, None, PERSON_IPS[1])  # logged without an organisation: theirs all the same
    traces = [*_traces(acted), admin.email, admin.get_full_name(), ADMIN_IP, "198.51.100.9"]
    customer_events = AuditEvent.objects.filter(organisation=customer).count()
    other_before = {e.pk: _everything(e) for e in AuditEvent.objects.filter(
        actor=acted["other"])}
    name = customer.name

    outcomes = {o.model: o for o in purge_for_customer(customer, actor=None)}

    assert AuditEvent.objects.filter(organisation=customer).count() == customer_events + 1
    for event in AuditEvent.objects.all():
        text = _everything(event)
        assert not [t for t in traces if t.lower() in text.lower()], (event.action, text)
    for event in AuditEvent.objects.filter(organisation=customer):
        assert name not in _everything(event), (event.action, _everything(event))
    tombstone = f"#{customer.pk}"
    updated = AuditEvent.objects.get(action="organisation.updated")
    assert (updated.target_repr, updated.details["before"]) == (tombstone, {"name": tombstone})
    for member in (admin, person):
        assert set(AuditEvent.objects.filter(actor=member).values_list(
            "actor_label", flat=True)) == {pseudonym_email(member.pk)}
    assert not AccessLogEntry.objects.filter(user__in=[admin, person]).exists()
    audit = outcomes["portal.AuditEvent"]
    assert audit.retained == customer_events and audit.retention is not None
    assert audit.pseudonymised >= 7
    # Another customer's admin is untouched.
    assert {e.pk: _everything(e) for e in AuditEvent.objects.filter(
        actor=acted["other"])} == other_before


def test_a_purge_with_a_customer_number_names_it_in_the_trail(acted):
    customer = acted["customer"]
    customer.customer_number = "K-10042"
    customer.save(update_fields=["customer_number"])
    purge_for_customer(customer, actor=None)
    assert AuditEvent.objects.get(action="admin.changed").target_repr == "K-10042"


# --- everything else stays append-only -------------------------------------------------------


def test_update_delete_and_save_are_still_refused(acted):
    event = AuditEvent.objects.filter(actor=acted["person"]).first()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.actor_label = "x"
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():  # its own savepoint
        AuditEvent.objects.bulk_update([event], ["actor_label"])
    erase_for_person(acted["person"], actor=acted["admin"])
    with pytest.raises(AppendOnlyError):  # also after the deliberate exceptions ran
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="x")


def test_pseudonymise_people_touches_only_its_queryset(acted):
    person = acted["person"]
    inside = AuditEvent.objects.filter(action="auth.login", actor=person)
    changed = inside.pseudonymise_people([PersonPseudonym(
        user_id=person.pk, pseudonym="geloescht-x", identifiers=(acted["email"],))])
    assert changed == 1
    assert inside.get().actor_label == "geloescht-x"
    assert AuditEvent.objects.get(action="user.email_changed").actor_label == acted["email"]
