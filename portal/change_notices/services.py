"""Issuing change notices, the customer's objection, first sight in the portal, delivery by
e-mail and deemed acceptance after the deadline (DOMAIN.md § 4).

The deadline is ``portal.periods.objection_deadline``: the kind's window counted from the day
the notice is received (the day it is sent), moved off weekends and nationwide holidays
(BGB § 193)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.change_notices.kinds import NoticeKind, kind_get
from portal.change_notices.models import ChangeNotice, NoticeDecision
from portal.notifications.service import notify
from portal.periods import Period, WorkCalendar, objection_deadline
from portal.roles import OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of

ISSUED = "change_notice.issued"
#: Who sends change notices: the provider's admins and staff. The DPO reviews changes and
#: objections but sends nothing (read-only on business data, issue 10 item 7).
ISSUER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF})


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def change_notice_lead_refusal(kind: NoticeKind, *, received_on: date,
                               effective_on: date) -> str | None:
    """Why a notice received on ``received_on`` comes too late for a change taking effect on
    ``effective_on`` (the kind's minimum lead, e.g. terms: 2 weeks), or ``None``."""
    if effective_on < received_on:
        return _("Eine Änderung kann nicht vor dem Zugang ihrer Mitteilung wirksam werden.")
    if kind.min_lead is None or kind.min_lead.after(received_on) <= effective_on:
        return None
    return _("Die Mitteilung muss spätestens am %(latest)s zugehen, damit die Änderung am "
             "%(effective)s wirksam werden kann.") % {
        "latest": _day(kind.min_lead.before(effective_on)), "effective": _day(effective_on)}


@dataclass(frozen=True)
class NoticePreview:
    """What a notice would be: its window in force, its objection deadline and why it comes
    too late (``None`` if it does not)."""

    window: Period
    deadline: date
    refusal: str | None


def change_notice_preview(kind: NoticeKind, *, received_on: date,
                          effective_on: date) -> NoticePreview:
    """The window, deadline and lead refusal of a notice of ``kind`` received on
    ``received_on`` for a change taking effect on ``effective_on``: what ``change_notice_issue``
    applies and a confirmation page shows before sending."""
    window = kind.current_window()
    return NoticePreview(
        window=window,
        deadline=objection_deadline(received=received_on, period=window,
                                    calendar=WorkCalendar.germany()),
        refusal=change_notice_lead_refusal(kind, received_on=received_on,
                                           effective_on=effective_on))


def _notice_text(kind: NoticeKind, *, text: str, deadline: date) -> str:
    """The text the customer receives, in German (the binding language): the caller's text,
    what an objection leads to and what silence means."""
    with translation.override("de"):
        silence = str(kind.silence_text).format(deadline=_day(deadline))
        return "\n\n".join(part for part in (text.strip(), str(kind.on_objection), silence)
                           if part)


def change_notice_may_issue(actor) -> bool:
    """Whether ``actor`` sends change notices (``None``: the system, e.g. a daily job)."""
    if actor is None:
        return True
    membership = membership_of(actor)
    return membership is not None and membership.role in ISSUER_ROLES


def _require_issuer(actor) -> None:
    if not change_notice_may_issue(actor):
        raise PermissionDenied(_("Änderungsmitteilungen versenden nur Administratoren und "
                                 "Mitarbeiter des Anbieters."))


def change_notice_issue(*, actor, kind: str, customers: Iterable, title: str, text: str,
                        subject: models.Model | None, effective_on: date,
                        sent_on: date | None = None) -> list[ChangeNotice]:
    """Send one notice of ``kind`` to each customer; its admins are told by e-mail."""
    notice_kind = kind_get(kind)
    _require_issuer(actor)
    received_on = sent_on or timezone.localdate()
    preview = change_notice_preview(notice_kind, received_on=received_on,
                                    effective_on=effective_on)
    if preview.refusal:
        raise ValidationError(preview.refusal)
    window, deadline = preview.window, preview.deadline
    subject_type = subject._meta.label_lower if subject is not None else ""
    subject_id = str(subject.pk) if subject is not None else ""
    full_text = _notice_text(notice_kind, text=text, deadline=deadline)
    notices = []
    with transaction.atomic():
        for customer in customers:
            if customer.kind != OrganisationKind.CUSTOMER:
                raise ValidationError(_("Änderungsmitteilungen gehen nur an Kunden."))
            notice = ChangeNotice.objects.create(
                customer=customer, kind=kind, title=title, text=full_text,
                subject_type=subject_type, subject_id=subject_id, window=str(window),
                received_on=received_on, effective_on=effective_on, deadline=deadline,
                created_by=actor)
            audit_event_record(actor=actor, action=ISSUED, target=notice, details={
                "kind": kind, "window": str(window), "received_on": received_on.isoformat(),
                "effective_on": effective_on.isoformat(), "deadline": deadline.isoformat(),
                "subject": f"{subject_type}:{subject_id}" if subject is not None else ""})
            notify(event=ISSUED, actor=actor, customer=customer,
                   context={"notice_id": notice.pk})
            notices.append(notice)
    return notices


def change_notice_may_object(notice: ChangeNotice, actor) -> bool:
    """Only an administrator of the notice's customer decides about it (not members, not
    partner support or provider staff acting for the customer)."""
    membership = membership_of(actor)
    return (membership is not None and membership.role == Role.CUSTOMER_ADMIN
            and membership.organisation_id == notice.customer_id)


def change_notice_objection_refusal(notice: ChangeNotice, *,
                                    today: date | None = None) -> str | None:
    """Why nobody can object to ``notice`` (any more), or ``None``: only while the decision is
    open and at the latest on the deadline."""
    if notice.decision != NoticeDecision.PENDING:
        return _("Über diese Änderung ist bereits entschieden.")
    if (today or timezone.localdate()) > notice.deadline:
        return _("Die Widerspruchsfrist endete am %(deadline)s.") % {
            "deadline": _day(notice.deadline)}
    return None


def change_notice_object(*, actor, notice: ChangeNotice, reason: str) -> ChangeNotice:
    """The customer's admin objects to the change, with a reason where the kind needs one."""
    reason = (reason or "").strip()
    with transaction.atomic():
        notice = ChangeNotice.objects.select_for_update().get(pk=notice.pk)
        if not change_notice_may_object(notice, actor):
            raise PermissionDenied(
                _("Nur ein Administrator des Kunden kann einer Änderung widersprechen."))
        refusal = change_notice_objection_refusal(notice)
        if refusal:
            raise ValidationError(refusal)
        notice_kind = kind_get(notice.kind)
        if notice_kind.reason_required and not reason:
            raise ValidationError({"reason": _("Bitte begründen Sie Ihren Widerspruch.")})
        notice.decision = NoticeDecision.OBJECTED
        notice.decided_at = timezone.now()
        notice.decided_by = actor
        notice.reason = reason
        notice.save(update_fields=["decision", "decided_at", "decided_by", "reason"])
        audit_event_record(actor=actor, action="change_notice.objected", target=notice,
                           details={"kind": notice.kind,
                                    "deadline": notice.deadline.isoformat()})
        if notice_kind.on_objected is not None:
            notice_kind.on_objected(notice=notice, actor=actor)
    return notice


def change_notice_seen(*, actor, notice: ChangeNotice) -> bool:
    """Record when one of the customer's own people first opened the notice in the portal;
    later views and views by staff change nothing. Returns whether this was the first."""
    membership = membership_of(actor)
    if membership is None or membership.organisation_id != notice.customer_id:
        return False
    with transaction.atomic():
        now = timezone.now()
        first = ChangeNotice.objects.filter(pk=notice.pk, first_seen_at__isnull=True) \
            .update(first_seen_at=now)
        if first:
            notice.first_seen_at = now
            audit_event_record(actor=actor, action="change_notice.seen", target=notice)
    return bool(first)


def change_notice_delivered(notification) -> None:
    """The notice's e-mail left (``on_sent`` of its notification rule, inside the transaction
    that marks the e-mail sent): the first e-mail sent is the delivery."""
    pk = notification.context.get("notice_id")
    if ChangeNotice.objects.filter(pk=pk, delivered_at__isnull=True) \
            .update(delivered_at=notification.sent_at):
        audit_event_record(actor=None, action="change_notice.delivered",
                           target=ChangeNotice.objects.get(pk=pk),
                           details={"notification": notification.pk})


def change_notices_deem_accepted(*, today: date) -> int:
    """Every open notice whose deadline passed before ``today`` is deemed accepted; returns how
    many. Idempotent; two workers at once decide each notice once (rows locked)."""
    done = 0
    with transaction.atomic():
        due = (ChangeNotice.objects.select_for_update()
               .filter(decision=NoticeDecision.PENDING, deadline__lt=today).order_by("pk"))
        now = timezone.now()
        for notice in due:
            notice.decision = NoticeDecision.DEEMED_ACCEPTED
            notice.decided_at = now
            notice.save(update_fields=["decision", "decided_at"])
            audit_event_record(actor=None, action="change_notice.deemed_accepted",
                               target=notice, details={"kind": notice.kind,
                                                       "deadline": notice.deadline.isoformat()})
            done += 1
    return done
