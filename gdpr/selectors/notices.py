"""What the portal's "Datenschutz" pages show about change notices and the sub-processor
register: the customer's notices of every kind with their dates and decision, the register
in force, and the pending sub-processor changes with their deadlines. Every read of notices
goes through ``ChangeNotice.objects.visible_to``; each list costs a fixed number of queries,
however many rows it has. Flags (may object, why not) come from the change-notice service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from gdpr.models import SUBPROCESSOR_KIND, SubProcessor
from gdpr.selectors.subprocessors import SUBPROCESSOR_SUBJECT
from portal.change_notices.kinds import kind_get, kind_label, kinds
from portal.change_notices.services import (
    change_notice_may_object,
    change_notice_objection_refusal,
)
from portal.models import ChangeNotice, NoticeDecision

DECISION_BADGES = {NoticeDecision.PENDING: "badge--warn", NoticeDecision.OBJECTED: "badge--bad",
                   NoticeDecision.DEEMED_ACCEPTED: "badge--ok",
                   NoticeDecision.ACCEPTED: "badge--ok"}


@dataclass(frozen=True)
class NoticeFlags:
    may_object: bool  # the objection form is shown
    refusal: str | None  # why an admin of the customer cannot object (any more), or None
    reason_required: bool
    pending: bool  # no decision yet
    badge: str
    by_silence: bool = False  # deemed accepted when the deadline passed (nobody decided)


def notice_list(user, customer) -> QuerySet:
    """Every change notice of ``customer`` that ``user`` may see, newest first."""
    return (ChangeNotice.objects.visible_to(user).filter(customer=customer)
            .select_related("decided_by").order_by("-received_on", "-id"))


def notice_rows(notices) -> list[dict]:
    """The rows of the notices list: the notice, its kind's label and its decision's badge."""
    return [{"notice": notice, "kind_label": kind_label(notice.kind),
             "badge": DECISION_BADGES.get(notice.decision, ""),
             "by_silence": notice.decision == NoticeDecision.DEEMED_ACCEPTED}
            for notice in notices]


def notice_flags(notice: ChangeNotice, user, *, today: date | None = None) -> NoticeFlags:
    refusal = change_notice_objection_refusal(notice, today=today)
    is_admin = change_notice_may_object(notice, user)
    return NoticeFlags(
        may_object=is_admin and refusal is None,
        refusal=refusal if is_admin else None,
        reason_required=notice.kind in kinds and kind_get(notice.kind).reason_required,
        pending=notice.decision == NoticeDecision.PENDING,
        badge=DECISION_BADGES.get(notice.decision, ""),
        by_silence=notice.decision == NoticeDecision.DEEMED_ACCEPTED)


def pending_subprocessor_changes(user, customer, *, today: date | None = None) -> list[dict]:
    """The sub-processor changes still open for ``customer``: each pending notice with the
    register row it announces (``None`` if the notice names none), its predecessor and the
    objection flags. Two queries, however many changes are pending."""
    notices = list(notice_list(user, customer).filter(kind=SUBPROCESSOR_KIND,
                                                      decision=NoticeDecision.PENDING)
                   .order_by("deadline", "id"))
    ids = {int(notice.subject_id) for notice in notices
           if notice.subject_type == SUBPROCESSOR_SUBJECT and notice.subject_id.isdigit()}
    rows = (SubProcessor.objects.filter(pk__in=ids).select_related("predecessor").in_bulk()
            if ids else {})
    changes = []
    for notice in notices:
        row = rows.get(int(notice.subject_id)) if notice.subject_id.isdigit() else None
        changes.append({"notice": notice, "subprocessor": row,
                        "predecessor": row.predecessor if row is not None else None,
                        "flags": notice_flags(notice, user, today=today)})
    return changes
