"""Reads of data-subject requests. The handlers (DPO, provider admin and staff) see every
request; anyone else only the requests about themself (a colleague's request is not theirs
to see, even in the same organisation)."""

from __future__ import annotations

from datetime import date

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from gdpr.models.requests import OPEN_STATES, DataSubjectRequest
from gdpr.services.requests import dsr_may_handle

#: Rows on the DPO's start page; the full list is one click away.
PREVIEW = 10


def requests_visible(user) -> QuerySet:
    rows = DataSubjectRequest.objects.visible_to(user)
    if not dsr_may_handle(user):
        rows = rows.filter(subject_id=getattr(user, "pk", None))
    return rows


def with_due(rows: QuerySet, today: date) -> QuerySet:
    """Each row with ``due`` (the deadline in force), ``overdue`` and ``time_left`` (a
    timedelta; ``days_left`` on the row is its days)."""
    due = Coalesce(F("extended_deadline"), F("deadline"), output_field=DateField())
    return rows.annotate(
        due=due,
        overdue=Case(When(due__lt=today, then=Value(True)), default=Value(False),
                     output_field=BooleanField()),
        time_left=ExpressionWrapper(F("due") - Value(today, output_field=DateField()),
                                    output_field=DurationField()))


def requests_by_deadline(user, today: date) -> QuerySet:
    """The open requests ``user`` sees, overdue first, then by the deadline in force."""
    return (with_due(requests_visible(user).filter(state__in=OPEN_STATES), today)
            .select_related("subject", "customer")
            .order_by("-overdue", "due", "received_on", "pk"))


def requests_open_preview(user, today: date) -> dict:
    """The start page's list: up to ``PREVIEW`` open requests by deadline, and how many are
    open and overdue (two queries)."""
    rows = requests_by_deadline(user, today)
    counts = rows.order_by().aggregate(open=Count("pk"),
                                       overdue=Count("pk", filter=Q(due__lt=today)))
    return {"rows": list(rows[:PREVIEW]), **counts}
