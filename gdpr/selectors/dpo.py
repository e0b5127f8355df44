"""What the DPO's start page shows (issue 10 item 7): AVV acceptance coverage per customer,
open objection cases with their deadlines, change notices running, processing-record reviews
due. Every read goes through ``visible_to``; each list is a fixed number of queries, however
many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from gdpr.models import (
    AvvAcceptance,
    AvvVersion,
    CaseResolution,
    ObjectionCase,
    ProcessingRecord,
)
from gdpr.selectors.records import records_review_overdue, records_visible
from gdpr.services.avv import current_avv
from portal.change_notices.kinds import kind_label
from portal.change_notices.models import ChangeNotice, NoticeDecision
from portal.models import Membership, Organisation, User
from portal.roles import OrganisationKind, Role

#: How far ahead the start page lists reviews as due soon.
REVIEWS_AHEAD = timedelta(days=30)
#: Rows per list on the start page; the full lists are one click away.
PREVIEW = 10


class Coverage:
    CURRENT = "current"
    OLDER = "older"
    NEVER = "never"


@dataclass(frozen=True)
class CustomerCoverage:
    customer_id: int
    name: str
    state: str  # Coverage.*
    admins: int
    admins_accepted: int  # admins who accepted the current version themselves
    missing: tuple[str, ...] = ()  # names of the admins who have not (``admins_missing``)


def coverage_rows(user, *, version: AvvVersion | None = None) -> QuerySet:
    """Active customers visible to ``user`` with their acceptance state of ``version`` (the
    current one by default): ``has_current``, ``has_any``, ``admins``, ``admins_accepted``."""
    version = version or current_avv()
    acceptances = AvvAcceptance.objects.filter(customer=OuterRef("pk"))
    admins = Q(memberships__role=Role.CUSTOMER_ADMIN, memberships__user__is_active=True)
    rows = (Organisation.objects.visible_to(user)
            .filter(kind=OrganisationKind.CUSTOMER, is_active=True)
            .annotate(has_any=Exists(acceptances),
                      has_current=Exists(acceptances.filter(version=version)),
                      admins=Count("memberships", filter=admins, distinct=True),
                      admins_accepted=Count(
                          "memberships", distinct=True,
                          filter=admins & Q(memberships__user__avv_acceptances__version=version)))
            .order_by("has_current", "has_any", "name", "pk"))
    return rows


def coverage_of(row) -> CustomerCoverage:
    state = (Coverage.CURRENT if row.has_current else
             Coverage.OLDER if row.has_any else Coverage.NEVER)
    return CustomerCoverage(customer_id=row.pk, name=row.name, state=state, admins=row.admins,
                            admins_accepted=row.admins_accepted)


def admins_missing(user, customer_ids, *, version: AvvVersion) -> dict[int, list[str]]:
    """Per customer of ``customer_ids``: the names of its active admins who have not accepted
    ``version`` themselves (one query for a whole page of customers)."""
    accepted = AvvAcceptance.objects.filter(person=OuterRef("user"), version=version)
    rows = (Membership.objects.filter(organisation_id__in=list(customer_ids),
                                      role=Role.CUSTOMER_ADMIN, user__is_active=True,
                                      user__in=User.objects.visible_to(user))
            .exclude(Exists(accepted)).select_related("user")
            .order_by("user__last_name", "user__first_name", "user__email"))
    missing: dict[int, list[str]] = {}
    for membership in rows:
        person = membership.user
        missing.setdefault(membership.organisation_id, []).append(
            person.get_full_name() or person.email)
    return missing


def coverage_summary(user) -> dict:
    """Counts per state and the customers not (fully) on the current version, never first."""
    version = current_avv()
    if version is None:
        return {"version": None}
    rows = [coverage_of(row) for row in coverage_rows(user, version=version)]
    counts = {state: 0 for state in (Coverage.CURRENT, Coverage.OLDER, Coverage.NEVER)}
    for row in rows:
        counts[row.state] += 1
    missing = [row for row in rows
               if row.state != Coverage.CURRENT or row.admins_accepted < row.admins]
    return {"version": version, "counts": counts, "total": len(rows),
            "missing": missing[:PREVIEW], "missing_total": len(missing)}


def open_cases(user) -> list[ObjectionCase]:
    return list(ObjectionCase.objects.visible_to(user)
                .filter(resolution=CaseResolution.OPEN)
                .select_related("customer", "notice")
                .order_by("notice__deadline", "opened_at", "pk")[:PREVIEW])


def running_notices(user) -> list[dict]:
    """Open change notices per kind: how many, and the nearest deadline."""
    rows = (ChangeNotice.objects.visible_to(user).filter(decision=NoticeDecision.PENDING)
            .values("kind").annotate(count=Count("pk"), next_deadline=Min("deadline"))
            .order_by("next_deadline", "kind"))
    return [{**row, "label": kind_label(row["kind"])} for row in rows]


def reviews_due(user, *, today: date) -> list[ProcessingRecord]:
    """Active records whose yearly review is due within ``REVIEWS_AHEAD``, overdue first
    (each with ``review_overdue``, gdpr/selectors/records.py)."""
    return list(records_visible(user, today)
                .filter(is_active=True, next_review_due__lte=today + REVIEWS_AHEAD)
                .order_by("next_review_due", "pk")[:PREVIEW])


def reviews_overdue_count(user, *, today: date) -> int:
    return records_review_overdue(user, today).count()
