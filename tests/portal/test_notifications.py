"""The notification outbox: queued in the service's transaction, sent by a job after the
commit, once; every e-mail carries the provider's identity and the portal link."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.mail import send_templated_mail
from portal.models import AuditEvent, Notification, NotificationState
from portal.notifications.registry import NotificationRule, rules, the_actor
from portal.notifications.service import notify
from portal.notifications.tasks import recover_notifications, send_batch, send_notification
from portal.services.mfa import mfa_reset
from tests.outbox import deliver_queued

PROVIDER = {"PORTAL_PROVIDER_NAME": "Weber & Partner IT GmbH",
            "PORTAL_PROVIDER_ADDRESS": "Hauptstraße 1, 80331 München",
            "PORTAL_PROVIDER_REGISTER": "Amtsgericht München, HRB 123456",
            "PORTAL_PROVIDER_MANAGEMENT": "Erika Weber",
            "PORTAL_PROVIDER_VAT_ID": "DE123456789",
            "PORTAL_PROVIDER_CONTACT": "support@weber.example"}


def _reset(world, person="customer_member"):
    member = world["people"][person]
    mfa_reset(actor=world["people"]["provider_admin"], user=member,
              identity_check="Rückruf unter der hinterlegten Nummer")
    return member


@pytest.fixture
def echo_rule():
    """A rule of a test event: tells the actor, with the event's context in the e-mail."""
    rule = NotificationRule(event="test.echo", template="security_notice",
                            recipients=the_actor,
                            context=lambda row: {"summary": row.context["text"], "advice": "",
                                                 "when": row.created_at, "link": ""})
    rules.register(rule)
    yield rule
    rules.unregister(rule.event)


class RefusingBackend(EmailBackend):
    """The SMTP server refuses (the outside world, not the database, is replaced)."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("connection lost")


def test_nothing_is_sent_inside_the_request(world, verified_client,
                                            django_capture_on_commit_callbacks):
    member = world["people"]["customer_member"]
    client = verified_client(world["people"]["provider_admin"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("admin:portal_user_changelist"), {
            "action": "reset_mfa", "_selected_action": [member.pk], "confirmed": "yes",
            "identity_check": "Ausweis vor Ort geprüft"})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is queued on commit ...
    assert mail.outbox == []  # ... and the request sent nothing
    row = Notification.objects.get(event="mfa.reset")
    assert row.state == NotificationState.QUEUED and row.recipient == member
    assert row.email == member.email and row.customer == world["orgs"]["customer_a"]

    assert send_batch(str(row.batch)) == {"sent": 1}
    message, = mail.outbox
    assert message.to == [member.email]
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.sent_at is not None
    assert row.attempts == 1


def test_a_job_run_twice_sends_once(world):
    with transaction.atomic():
        _reset(world)
    row = Notification.objects.get()
    assert send_notification(row.pk) == "sent"
    assert send_notification(row.pk) == "gone"
    assert send_batch(str(row.batch)) == {"gone": 1}
    assert deliver_queued() == 0
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="notification.sent").count() == 1


def test_a_running_send_is_not_started_twice(world):
    with transaction.atomic():
        _reset(world)
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(
        state=NotificationState.SENDING, claimed_by="other:1", heartbeat_at=timezone.now())
    assert send_notification(row.pk) == "busy"
    assert mail.outbox == []


def test_a_rolled_back_service_tells_nobody(world, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        _reset(world)
        raise RuntimeError("the service failed after notify")
    assert callbacks == [] and not Notification.objects.exists()
    assert TOTPDevice.objects.filter(user=world["people"]["customer_member"]).exists()


@pytest.mark.django_db(transaction=True)
def test_notify_belongs_inside_a_transaction(world, echo_rule):
    with pytest.raises(RuntimeError, match="transaction"):
        notify(event="test.echo", actor=world["people"]["customer_admin"],
               context={"text": "x"})


def test_recipients_are_told_once_and_only_with_an_address(world, echo_rule):
    admin = world["people"]["customer_admin"]
    rule = NotificationRule(event="test.many", template="security_notice",
                            recipients=lambda event: [admin, admin, world["people"]["dpo"]],
                            context=echo_rule.context)
    rules.register(rule)
    try:
        world["people"]["dpo"].is_active = False
        with transaction.atomic():
            rows = notify(event="test.many", actor=admin, context={"text": "x"})
    finally:
        rules.unregister(rule.event)
    assert [row.recipient for row in rows] == [admin]


def test_a_refused_send_is_retried_then_failed(world, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with transaction.atomic():
        _reset(world)
    row = Notification.objects.get()
    assert send_notification(row.pk) == "retry"
    row.refresh_from_db()
    assert row.state == NotificationState.QUEUED and row.attempts == 1
    assert "SMTPServerDisconnected" in row.last_error
    long_ago = timezone.now() - timedelta(seconds=2 * settings.PORTAL_JOB_STALE_SECONDS)
    for _attempt in range(settings.PORTAL_JOB_MAX_ATTEMPTS):
        # The sweep sends a row again once it has waited for the stale period (ADR 0008).
        Notification.objects.filter(pk=row.pk).update(heartbeat_at=long_ago)
        recover_notifications()
        send_notification(row.pk)
    row.refresh_from_db()
    assert row.state == NotificationState.FAILED
    assert AuditEvent.objects.filter(action="notification.failed",
                                     target_id=str(row.pk)).exists()
    assert mail.outbox == []
    assert send_notification(row.pk) == "gone"


# --- MFA reset -------------------------------------------------------------------------------

def test_mfa_reset_requires_how_the_identity_was_checked(world):
    member = world["people"]["customer_member"]
    with pytest.raises(ValidationError) as exc:
        mfa_reset(actor=world["people"]["provider_admin"], user=member, identity_check="  ")
    assert "identity_check" in exc.value.message_dict
    assert TOTPDevice.objects.filter(user=member).exists()
    with transaction.atomic():
        _reset(world)
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.details["identity_check"] == "Rückruf unter der hinterlegten Nummer"
    deliver_queued()
    message, = mail.outbox
    assert message.to == [member.email]
    assert "Zwei-Faktor-Anmeldung wurde zurückgesetzt" in message.subject


def test_the_reset_form_asks_for_the_identity_check(world, verified_client):
    member = world["people"]["customer_member"]
    client = verified_client(world["people"]["provider_admin"])
    url = reverse("admin:portal_user_changelist")
    data = {"action": "reset_mfa", "_selected_action": [member.pk]}
    page = client.post(url, data).content.decode()
    assert 'name="identity_check"' in page and "Wie wurde die Identität geprüft?" in page
    response = client.post(url, {**data, "confirmed": "yes", "identity_check": " "})
    assert response.status_code == 200  # the confirmation page again, with the error
    assert "Dieses Feld ist zwingend erforderlich." in response.content.decode()
    assert TOTPDevice.objects.filter(user=member).exists()
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


# --- What every e-mail carries ---------------------------------------------------------------

TEMPLATES = sorted(path.name[:-len("_subject.txt")]
                   for path in (Path(settings.BASE_DIR) / "templates" / "email").glob(
                       "*_subject.txt"))


class _Person:
    email = "x@example.com"
    language = "de"

    def get_full_name(self) -> str:
        return "Anna Weber & Söhne"


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_names_the_provider_and_links_the_portal(template, db, settings):
    for name, value in PROVIDER.items():
        setattr(settings, name, value)
    send_templated_mail(to="x@example.com", template=template, language="de",
                        context={"user": _Person(), "bookings": []})
    message = mail.outbox[-1]
    (html, _mimetype), = message.alternatives
    for value in PROVIDER.values():
        assert value in message.body  # plain text: "Weber & Partner", not "&amp;"
    assert "Weber &amp; Partner IT GmbH" in html
    assert f"{settings.PORTAL_BASE_URL}/" in message.body
    assert f'href="{settings.PORTAL_BASE_URL}/"' in html
    assert "&amp;" not in message.body + message.subject
    assert html.rstrip().endswith("</html>")


def test_the_provider_organisation_stands_in_for_missing_settings(world, settings):
    provider = world["orgs"]["provider"]
    provider.street, provider.postal_code, provider.city = "Ring 5", "10115", "Berlin"
    provider.vat_id = "DE999999999"
    provider.save()
    send_templated_mail(to="x@example.com", template="security_notice", language="de",
                        context={"user": _Person()})
    body = mail.outbox[-1].body
    assert "Anbieter GmbH\nRing 5, 10115 Berlin" in body
    assert "USt-IdNr.: DE999999999" in body


def test_the_outbox_is_scoped_to_the_customer(world):
    with transaction.atomic():
        _reset(world)
    visible = Notification.objects.visible_to
    assert visible(world["people"]["dpo"]).count() == 1
    assert visible(world["people"]["customer_admin"]).count() == 1
    assert visible(world["people"]["customer_admin_b"]).count() == 0


def test_the_outbox_admin_names_events_by_their_labels(world, verified_client):
    from portal.notifications.registry import event_label

    assert event_label("booking.created") == "Leistung gebucht"
    assert event_label("booking.tier_changed") == "Stufe einer Leistung gewechselt"
    assert event_label("mfa.reset") == "Zweiter Faktor zurückgesetzt"
    client = verified_client(world["people"]["provider_admin"])
    page = client.get("/admin/portal/notification/").content.decode()
    assert ">Stufe einer Leistung gewechselt<" in page and ">booking.tier_changed<" not in page
