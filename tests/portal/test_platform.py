"""Operations: health check, deploy checks, demo data, schedules, logs, audit, groups, Redis."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from croniter import croniter
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.models import Schedule

from portal import tasks
from portal.models import (
    AccessLogEntry,
    AppendOnlyError,
    AuditEvent,
    Membership,
    Organisation,
    User,
)
from portal.registries import schedules as JOB_REGISTRY
from portal.roles import Role, group_name
from portal.services.audit import access_log_purge, audit_event_record

JOBS = tuple(JOB_REGISTRY)

ROOT = Path(__file__).resolve().parents[2]
HEALTHZ = "/healthz"


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment for a fresh process: no test-run leftovers, an empty SQLite file."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL", "DEBUG",
                          "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    env.update(overrides)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_ok_without_login(db, client):
    response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok",
                               "checks": {"database": "ok", "cache": "ok", "queue": "ok"}}
    assert "no-cache" in response["Cache-Control"]
    assert not AccessLogEntry.objects.exists()


def test_healthz_for_unverified_session_is_not_redirected(world, client):
    client.force_login(world["people"]["customer_admin"])
    assert client.get(HEALTHZ).status_code == 200


def _boom(*args, **kwargs):
    raise ConnectionError("down")


def test_healthz_503_when_cache_fails(db, client, monkeypatch):
    monkeypatch.setattr(caches["default"], "set", _boom)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"] == "error: ConnectionError"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["queue"] == "ok"


def test_healthz_503_when_cache_returns_nothing(db, client, monkeypatch):
    monkeypatch.setattr(caches["default"], "get", lambda *args, **kwargs: None)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error: RuntimeError"


def test_healthz_503_when_broker_fails(db, client, monkeypatch):
    from django_q.brokers import get_broker

    monkeypatch.setattr(type(get_broker()), "ping", _boom)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok",
                                         "queue": "error: ConnectionError"}


def test_healthz_503_when_broker_does_not_answer(db, client, monkeypatch):
    from django_q.brokers import get_broker

    monkeypatch.setattr(type(get_broker()), "ping", lambda self: False)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "error: RuntimeError"


def test_healthz_only_answers_get(db, client):
    assert client.post(HEALTHZ).status_code == 405


# --- Production settings ----------------------------------------------------------------------


def test_check_deploy_passes_without_warnings(tmp_path):
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="portal.settings.production",
               SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="portal.example.com")
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


@pytest.mark.parametrize("secret", ["", "too-short-0123456789"])
def test_production_refuses_a_weak_secret_key(tmp_path, secret):
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="portal.settings.production",
               SECRET_KEY=secret, ALLOWED_HOSTS="portal.example.com")
    result = _run(["manage.py", "check", "--deploy"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- Demo data --------------------------------------------------------------------------------

DEMO_MODELS = (Organisation, User, Membership, EmailAddress, TOTPDevice, StaticDevice,
               StaticToken, Group)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def _seed_json() -> list[dict]:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    before = _counts()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert _counts() == before
    assert not User.objects.filter(email="admin@nordlicht-it.example").exists()


def test_seed_demo_is_idempotent(db, settings):
    settings.DEBUG = True
    first = _seed_json()
    counts = _counts()
    second = _seed_json()
    assert _counts() == counts
    assert first == second
    # Plus the purged demo customer's administrator: pseudonymised, without a second factor.
    assert counts["User"] == len(first) + 1
    assert User.objects.filter(email__endswith="@invalid.invalid", is_active=False).count() == 1
    assert counts["TOTPDevice"] == len(first)
    assert counts["StaticToken"] == 10 * len(first)
    for login in first:
        user = User.objects.get(email=login["email"])
        assert user.check_password(login["password"])
        assert Membership.objects.get(user=user).role == login["role"]
        assert EmailAddress.objects.get(user=user).verified
        assert user.is_staff == (login["role"] in {Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF,
                                                   Role.DPO, Role.PARTNER_SUPPORT})
        assert list(user.groups.values_list("name", flat=True)) == [group_name(login["role"])]
    # Every role is represented.
    assert {login["role"] for login in first} == set(Role)


def test_seed_demo_json_output(db, settings):
    settings.DEBUG = True
    logins = _seed_json()
    assert isinstance(logins, list) and logins
    for login in logins:
        assert set(login) == {"role", "email", "password", "totp_secret"}
        assert login["role"] in set(Role)
        assert re.fullmatch(r"[A-Z2-7]+", login["totp_secret"])
        key = base64.b32decode(login["totp_secret"] + "=" * (-len(login["totp_secret"]) % 8))
        device = TOTPDevice.objects.get(user__email=login["email"], confirmed=True)
        assert key == device.bin_key


def test_seed_demo_plain_output_lists_every_login(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    for user in User.objects.filter(is_active=True):
        assert user.email in text


def test_seeded_demo_login_works_with_the_published_secret(db, settings):
    settings.DEBUG = True
    login = next(x for x in _seed_json() if x["role"] == Role.CUSTOMER_ADMIN)
    from django_otp.oath import TOTP

    key = base64.b32decode(login["totp_secret"] + "=" * (-len(login["totp_secret"]) % 8))
    client = Client()
    response = client.post("/konto/login/", {"login": login["email"],
                                              "password": login["password"]})
    assert response.status_code == 302
    response = client.post(reverse("portal:mfa_verify"),
                           {"token": f"{TOTP(key).token():06d}", "next": "/"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


# --- Schedules --------------------------------------------------------------------------------


def test_setup_schedules_is_idempotent(db):
    call_command("setup_schedules", stdout=StringIO())
    call_command("setup_schedules", stdout=StringIO())
    assert Schedule.objects.count() == len(JOBS)
    for job in JOBS:
        schedule = Schedule.objects.get(name=job.name)
        assert schedule.func == job.func
        assert schedule.schedule_type == Schedule.CRON
        assert schedule.cron == job.cron
        assert schedule.repeats == -1


def test_setup_schedules_repairs_changed_schedules_and_keeps_others(db):
    call_command("setup_schedules", stdout=StringIO())
    job = JOBS[0]
    Schedule.objects.filter(name=job.name).update(cron="0 0 1 1 *", func="x.y")
    Schedule.objects.create(name="someone-elses-job", func="math.floor", args="1",
                            schedule_type=Schedule.DAILY)
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert "updated" in out.getvalue()
    schedule = Schedule.objects.get(name=job.name)
    assert (schedule.cron, schedule.func) == (job.cron, job.func)
    assert Schedule.objects.filter(name="someone-elses-job").exists()


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_every_job_points_to_a_callable_with_a_valid_cron(job):
    assert callable(import_string(job.func))
    assert croniter.is_valid(job.cron)


# --- Access log -------------------------------------------------------------------------------


def test_verified_page_view_writes_access_log_entry(world, verified_client):
    user = world["people"]["customer_admin"]
    client = verified_client(user)
    response = client.get(reverse("portal:team"), HTTP_USER_AGENT="Testbrowser/1.0")
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert entry.user == user
    assert entry.organisation == world["orgs"]["customer_a"]
    assert entry.method == "GET"
    assert entry.path == "/team/"
    assert entry.view_name == "portal:team"
    assert entry.status_code == 200
    assert not entry.is_download
    assert entry.ip_address == "127.0.0.1"
    assert entry.user_agent == "Testbrowser/1.0"


def test_unverified_and_anonymous_requests_are_not_logged(world, client):
    client.get(reverse("portal:dashboard"))
    client.force_login(world["people"]["customer_admin"])
    client.get(reverse("portal:dashboard"))
    client.get(reverse("portal:mfa_verify"))
    assert not AccessLogEntry.objects.exists()


def _entry_at(moment, user) -> AccessLogEntry:
    with time_machine.travel(moment, tick=False):
        return AccessLogEntry.objects.create(user=user, method="GET", path="/", view_name="x",
                                             status_code=200)


@pytest.mark.parametrize("run", [tasks.purge_access_log,
                                 lambda: access_log_purge(actor=None)],
                         ids=["job", "service"])
def test_access_log_purge_deletes_only_expired_entries(world, settings, run):
    user = world["people"]["customer_admin"]
    now = timezone.now()
    days = settings.ACCESS_LOG_RETENTION_DAYS
    assert days == 90
    old = _entry_at(now - timedelta(days=days, hours=1), user)
    kept = _entry_at(now - timedelta(days=days, hours=-1), user)
    fresh = _entry_at(now - timedelta(days=1), user)
    with time_machine.travel(now, tick=False):
        assert run() == 1
        assert run() == 0  # a second run (or a second worker) finds nothing more
    remaining = set(AccessLogEntry.objects.values_list("pk", flat=True))
    assert remaining == {kept.pk, fresh.pk}
    assert old.pk not in remaining
    events = AuditEvent.objects.filter(action="access_log.purged").order_by("id")
    assert [event.details["deleted"] for event in events] == [1, 0]
    assert events[0].details["retention_days"] == days
    assert events[0].actor_label == "system"


def test_access_log_purge_follows_the_retention_setting(world, settings):
    user = world["people"]["customer_admin"]
    now = timezone.now()
    _entry_at(now - timedelta(days=40), user)
    kept = _entry_at(now - timedelta(days=20), user)
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    with time_machine.travel(now, tick=False):
        assert tasks.purge_access_log() == 1
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [kept.pk]


# --- Audit trail ------------------------------------------------------------------------------


def test_audit_events_are_append_only(world):
    with transaction.atomic():
        event = audit_event_record(actor=world["people"]["provider_admin"],
                                   action="demo.seeded", details={"people": 1})
    event.action = "auth.login"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == "demo.seeded"
    assert stored.details == {"people": 1}


def test_audit_events_cannot_be_changed_or_deleted_in_the_admin(world, verified_client):
    with transaction.atomic():
        event = audit_event_record(actor=None, action="demo.seeded")
    client = verified_client(world["people"]["provider_admin"])
    changelist = reverse("admin:portal_auditevent_changelist")
    assert client.get(changelist).status_code == 200
    delete_url = reverse("admin:portal_auditevent_delete", args=[event.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Role groups ------------------------------------------------------------------------------


def _perms(role: str) -> set[str]:
    group = Group.objects.get(name=group_name(role))
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")}


def test_role_groups_carry_the_expected_permissions(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {group_name(r) for r in Role}
    admin = _perms(Role.PROVIDER_ADMIN)
    assert {"portal.reset_mfa", "portal.change_user", "portal.add_user",
            "portal.change_organisation", "portal.view_auditevent",
            "portal.view_accesslogentry", "django_q.change_schedule"} <= admin
    assert "portal.delete_user" not in admin
    assert "portal.change_auditevent" not in admin and "portal.delete_auditevent" not in admin

    staff = _perms(Role.PROVIDER_STAFF)
    assert {"portal.change_user", "portal.change_organisation", "portal.change_membership"} <= (
        staff)
    assert "portal.reset_mfa" not in staff
    assert "portal.view_auditevent" not in staff

    dpo = _perms(Role.DPO)
    assert {"portal.view_auditevent", "portal.view_accesslogentry", "portal.view_user",
            "portal.view_organisation"} <= dpo
    # Read-only on business data; the DPO writes only reviews, objection-case resolutions and
    # the data-subject requests it handles, and places and releases legal holds.
    assert not {p for p in dpo if not p.split(".")[1].startswith("view_")} - {
        "devices.export_device", "gdpr.add_processingreview", "gdpr.change_objectioncase",
        "gdpr.add_datasubjectrequest", "gdpr.change_datasubjectrequest",
        "gdpr.add_legalhold", "gdpr.change_legalhold"}
    assert "devices.change_device" not in dpo and "devices.import_device" not in dpo

    support = _perms(Role.PARTNER_SUPPORT)
    assert support == {"portal.view_organisation", "portal.view_membership",
                       "portal.view_changenotice",
                       "portal.view_user", "portal.add_user", "portal.change_user",
                       "devices.view_device", "devices.add_device", "devices.change_device",
                       "devices.import_device", "devices.export_device",
                       "devices.view_deviceimport", "contracts.view_plan",
                       "contracts.view_contract", "contracts.view_booking",
                       "gdpr.view_avvacceptance"}

    assert _perms(Role.CUSTOMER_ADMIN) == set()
    assert _perms(Role.CUSTOMER_MEMBER) == set()


def test_role_permissions_reach_the_people(world):
    people = world["people"]
    assert people["provider_admin"].has_perm("portal.reset_mfa")
    assert not people["provider_staff"].has_perm("portal.reset_mfa")
    assert people["partner_support"].has_perm("portal.add_user")
    assert not people["partner_support"].has_perm("portal.change_organisation")
    assert not people["customer_admin"].has_perm("portal.view_user")


def test_sync_role_groups_is_idempotent_and_repairs_drift(db):
    before = {role: _perms(role) for role in Role}
    group_count = Group.objects.count()
    call_command("sync_role_groups", stdout=StringIO())
    assert {role: _perms(role) for role in Role} == before
    assert Group.objects.count() == group_count

    # Hand-made changes are undone, deleted groups come back.
    support = Group.objects.get(name=group_name(Role.PARTNER_SUPPORT))
    support.permissions.add(Permission.objects.get(codename="reset_mfa"))
    Group.objects.get(name=group_name(Role.CUSTOMER_MEMBER)).delete()
    out = StringIO()
    call_command("sync_role_groups", stdout=out)
    call_command("sync_role_groups", stdout=StringIO())
    assert {role: _perms(role) for role in Role} == before
    assert Group.objects.count() == group_count
    assert f"{group_name(Role.PROVIDER_ADMIN)}:" in out.getvalue()


# --- Admin changes are audited ----------------------------------------------------------------


def _organisation_form(organisation: Organisation | None = None, **overrides) -> dict:
    data = {"kind": "customer", "name": "Neukunde GmbH", "customer_number": "",
            "partner": "", "is_active": "on", "street": "Weg 1", "postal_code": "20095",
            "city": "Hamburg", "country": "DE", "vat_id": ""}
    if organisation is not None:
        data.update({
            "kind": organisation.kind, "name": organisation.name,
            "customer_number": organisation.customer_number,
            "partner": organisation.partner_id or "", "street": organisation.street,
            "postal_code": organisation.postal_code, "city": organisation.city,
            "country": organisation.country, "vat_id": organisation.vat_id,
        })
    data.update(overrides)
    return data


def test_admin_add_and_change_write_audit_events(world, verified_client):
    actor = world["people"]["provider_admin"]
    client = verified_client(actor)

    response = client.post(reverse("admin:portal_organisation_add"),
                           _organisation_form(partner=world["orgs"]["partner_a"].pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Organisation.objects.get(name="Neukunde GmbH")
    added = AuditEvent.objects.get(action="admin.added")
    assert added.actor == actor
    assert (added.target_type, added.target_id) == ("portal.organisation", str(created.pk))
    assert AuditEvent.objects.filter(action="organisation.created",
                                     target_id=str(created.pk)).exists()

    customer = world["orgs"]["customer_a"]
    url = reverse("admin:portal_organisation_change", args=[customer.pk])
    response = client.post(url, _organisation_form(customer, city="Bremen"))
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="admin.changed")
    assert changed.actor == actor
    assert (changed.target_type, changed.target_id) == ("portal.organisation", str(customer.pk))
    assert "Ort" in changed.details["message"] or "city" in changed.details["message"]
    updated = AuditEvent.objects.get(action="organisation.updated")
    assert updated.details == {"before": {"city": "Hamburg"}, "after": {"city": "Bremen"}}


def test_admin_change_of_a_person_is_audited(world, verified_client):
    actor = world["people"]["provider_staff"]
    member = world["people"]["customer_member"]
    client = verified_client(actor)
    url = reverse("admin:portal_user_change", args=[member.pk])
    membership = Membership.objects.get(user=member)
    response = client.post(url, {
        "first_name": "Maximilian", "last_name": member.last_name, "language": "de",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "0",
        "memberships-0-id": str(membership.pk), "memberships-0-user": str(member.pk),
    })
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.first_name == "Maximilian"
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor == actor
    assert event.target_id == str(member.pk)
    assert AuditEvent.objects.filter(action="user.updated", target_id=str(member.pk)).exists()


# --- Redis (scale-out) ------------------------------------------------------------------------

_SETTINGS_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.core.cache import caches
from django_q.brokers import get_broker
print(json.dumps({
    "cache_backend": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "cache_class": type(caches["default"]).__name__,
    "q_redis": settings.Q_CLUSTER.get("redis"),
    "q_orm": settings.Q_CLUSTER.get("orm"),
    "broker_class": type(get_broker()).__module__ + "." + type(get_broker()).__name__,
}))
"""


def _settings_with(tmp_path: Path, module: str, redis_url: str | None) -> dict:
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE=module)
    if redis_url:
        env["REDIS_URL"] = redis_url
    result = _run(["-c", _SETTINGS_PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["portal.settings.dev", "portal.settings.test"])
def test_redis_url_switches_cache_and_broker(module, tmp_path):
    # Building settings and brokers does not connect, so no server is needed here.
    url = "redis://redis.invalid:6379/7"
    built = _settings_with(tmp_path, module, url)
    assert built["cache_backend"] == "django.core.cache.backends.redis.RedisCache"
    assert built["cache_location"] == url
    assert built["cache_class"] == "RedisCache"
    assert built["q_redis"] == url
    assert built["q_orm"] is None
    assert built["broker_class"] == "django_q.brokers.redis_broker.Redis"

    embedded = _settings_with(tmp_path, module, None)
    assert embedded["cache_backend"] == "django.core.cache.backends.db.DatabaseCache"
    assert embedded["q_redis"] is None
    assert embedded["q_orm"] == "default"
    assert embedded["broker_class"] == "django_q.brokers.orm.ORM"


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="REDIS_URL is not set: no Redis server to test the cache and the "
                           "django-q2 broker against (e.g. REDIS_URL=redis://127.0.0.1:6379/15)")
def test_redis_cache_and_broker_answer(db, client, tmp_path):
    import redis
    from django_q.brokers.redis_broker import Redis

    url = os.environ["REDIS_URL"]
    assert redis.Redis.from_url(url).ping() is True

    built = _settings_with(tmp_path, "portal.settings.test", url)
    assert built["cache_class"] == "RedisCache"
    assert built["broker_class"] == "django_q.brokers.redis_broker.Redis"

    # The suite itself was configured from the same REDIS_URL.
    cache = caches["default"]
    assert type(cache).__name__ == "RedisCache"
    key, value = f"test:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    assert cache.get(key) == value
    cache.delete(key)

    broker = Redis(list_key=f"test-{uuid.uuid4().hex}")
    assert broker.ping() is True
    try:
        broker.enqueue("payload")
        assert broker.queue_size() == 1
    finally:
        broker.delete_queue()

    response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "queue": "ok"}
