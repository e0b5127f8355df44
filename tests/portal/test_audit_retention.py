"""The audit trail's retention (ADR 0016): PORTAL_AUDIT_RETENTION_YEARS after the end of the
calendar year of the event (§§ 195, 199 BGB), then the daily job deletes it in batches and
records the count; idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal import registries, tasks
from portal.audit_retention import audit_expired_before, audit_retention
from portal.models import AuditEvent
from portal.models.audit import AppendOnlyError
from portal.privacy import entries, years
from portal.services.audit import audit_event_record, audit_trail_purge

pytestmark = pytest.mark.django_db

BERLIN = timezone.get_default_timezone()


def _event_at(when: datetime, action: str = "auth.login", organisation=None) -> AuditEvent:
    with transaction.atomic():
        event = audit_event_record(actor=None, action=action, organisation=organisation)
    # Back-dating is no service: the test writes around the refusal, like a row from the past.
    AuditEvent._base_manager.filter(pk=event.pk).update(created_at=when)
    return event


def _berlin(*args) -> datetime:
    return timezone.make_aware(datetime(*args), BERLIN)


@pytest.fixture
def trail(db):
    """Events around the end of 2023 in Berlin time (UTC is an hour behind in winter)."""
    return {
        "early_2023": _event_at(_berlin(2023, 1, 1, 0, 0)),
        "last_2023": _event_at(_berlin(2023, 12, 31, 23, 30)),  # 22:30 UTC, still 2023
        "first_2024": _event_at(_berlin(2024, 1, 1, 0, 30)),  # 23:30 UTC on 31 Dec 2023
        "mid_2024": _event_at(_berlin(2024, 6, 15, 12, 0)),
    }


def _left(trail) -> set[str]:
    kept = set(AuditEvent.objects.values_list("pk", flat=True))
    return {name for name, event in trail.items() if event.pk in kept}


def test_events_of_a_year_are_kept_through_31_december_three_years_later(trail):
    assert audit_trail_purge(actor=None, today=date(2026, 12, 31)) == 0
    assert _left(trail) == set(trail)

    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 2
    assert _left(trail) == {"first_2024", "mid_2024"}

    assert audit_trail_purge(actor=None, today=date(2027, 12, 31)) == 0
    assert audit_trail_purge(actor=None, today=date(2028, 1, 1)) == 2
    assert _left(trail) == set()


def test_the_job_is_idempotent_and_records_each_run(trail):
    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 2
    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 0
    runs = list(AuditEvent.objects.filter(action="audit.purged").order_by("pk"))
    assert [run.details["deleted"] for run in runs] == [2, 0]
    first = runs[0]
    assert (first.actor, first.actor_label, first.organisation) == (None, "system", None)
    assert first.details == {"deleted": 2, "cutoff": _berlin(2024, 1, 1).isoformat(),
                             "retention_years": 3, "held": 0}


def test_the_cutoff_agrees_with_the_registry_retention(trail):
    retention = entries.get("portal.AuditEvent").retention
    for today in (date(2026, 12, 31), date(2027, 1, 1), date(2027, 7, 1), date(2028, 1, 1)):
        cutoff = audit_expired_before(today)
        for event in AuditEvent.objects.all():
            day = timezone.localdate(event.created_at)
            assert (event.created_at < cutoff) == (retention.ends_after(day) < today), (
                today, day)
    assert retention.ends_after(date(2023, 1, 1)) == date(2026, 12, 31)


def test_the_setting_sets_the_years(trail, settings):
    settings.PORTAL_AUDIT_RETENTION_YEARS = 1
    assert audit_retention().period == years(1)
    assert audit_trail_purge(actor=None, today=date(2025, 1, 1)) == 2
    assert _left(trail) == {"first_2024", "mid_2024"}
    assert AuditEvent.objects.get(action="audit.purged").details["retention_years"] == 1


def test_the_registry_default_is_three_years():
    assert entries.get("portal.AuditEvent").retention.period == years(3)
    assert entries.get("portal.AuditEvent").retention.at_year_end


def test_deletes_in_batches_with_a_flat_number_of_rows_in_memory(db, django_assert_num_queries):
    for day in range(7):
        _event_at(_berlin(2020, 3, 1 + day))
    recent = _event_at(timezone.now() - timedelta(days=1))
    cutoff = _berlin(2021, 1, 1)
    # Per batch of 3: one SELECT of the ids, one DELETE; the last, short batch ends the loop.
    with django_assert_num_queries(6):
        assert AuditEvent.objects.all().purge_expired(before=cutoff, batch_size=3) == 7
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_daily_job_is_scheduled_and_runs_with_today(db):
    old = _event_at(timezone.now() - timedelta(days=5 * 366))
    recent = _event_at(timezone.now() - timedelta(days=30))
    job = next(job for job in registries.schedules if job.name == "portal.purge_audit_trail")
    assert job.func == "portal.tasks.purge_audit_trail"
    assert tasks.purge_audit_trail() == 1
    assert set(AuditEvent.objects.values_list("pk", flat=True)) - {
        AuditEvent.objects.get(action="audit.purged").pk} == {recent.pk}
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_outside_the_job_deleting_stays_refused(trail):
    audit_trail_purge(actor=None, today=date(2027, 1, 1))
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=trail["mid_2024"].pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.get(pk=trail["mid_2024"].pk).delete()


# --- legal holds (review finding 8a) ----------------------------------------------------------


def _hold(world, customer, **record):
    from gdpr.services.holds import legal_hold_place

    with transaction.atomic():
        return legal_hold_place(actor=world["people"]["dpo"], customer=customer,
                                reason="Rechtsstreit", **record)


def _release(world, hold):
    from gdpr.services.holds import legal_hold_release

    with transaction.atomic():
        legal_hold_release(actor=world["people"]["dpo"], hold=hold, reason="Verfahren beendet")


def test_expired_events_of_a_held_customer_stay_until_the_hold_is_released(world):
    held, other = world["orgs"]["customer_a"], world["orgs"]["customer_b"]
    old = _berlin(2020, 5, 1, 12, 0)
    kept = [_event_at(old, organisation=held) for _i in range(2)]
    gone = [_event_at(old, organisation=other), _event_at(old)]
    hold = _hold(world, held)
    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 2
    left = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {event.pk for event in kept} <= left and not {event.pk for event in gone} & left
    run = AuditEvent.objects.get(action="audit.purged")
    assert (run.details["deleted"], run.details["held"]) == (2, 2)

    _release(world, hold)
    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 2
    assert not AuditEvent.objects.filter(pk__in=[event.pk for event in kept]).exists()


def test_a_record_hold_keeps_no_events(world):
    from tests.factories import DeviceFactory

    customer = world["orgs"]["customer_a"]
    device = DeviceFactory(customer=customer)
    _hold(world, customer, model_label="devices.Device", object_id=str(device.pk))
    event = _event_at(_berlin(2020, 5, 1, 12, 0), organisation=customer)
    assert audit_trail_purge(actor=None, today=date(2027, 1, 1)) == 1
    assert not AuditEvent.objects.filter(pk=event.pk).exists()


def test_expired_access_log_entries_of_a_held_customer_stay(world, settings):
    from portal.models import AccessLogEntry
    from portal.services.audit import access_log_purge

    held, other = world["orgs"]["customer_a"], world["orgs"]["customer_b"]
    user = world["people"]["customer_admin"]

    def entry(organisation, age_days):
        row = AccessLogEntry.objects.create(user=user, organisation=organisation, method="GET",
                                            path="/", view_name="x", status_code=200)
        AccessLogEntry.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - timedelta(days=age_days))
        return row.pk

    days = settings.ACCESS_LOG_RETENTION_DAYS
    expired_held, recent_held = entry(held, days + 5), entry(held, 1)
    entry(other, days + 5), entry(None, days + 5)  # expired, not held: deleted
    hold = _hold(world, held)
    assert access_log_purge(actor=None) == 2
    left = set(AccessLogEntry.objects.values_list("pk", flat=True))
    assert left == {expired_held, recent_held}
    run = AuditEvent.objects.get(action="access_log.purged")
    assert (run.details["deleted"], run.details["held"]) == (2, 1)

    _release(world, hold)
    assert tasks.purge_access_log() == 1
    assert set(AccessLogEntry.objects.values_list("pk", flat=True)) == {recent_held}
