"""Reads of the sub-processor register (002 AVV §7): the register on a day, the changes still
to come with their notices, the list the AVV renders, what a change would send, and the open
objection cases with their deadlines. The register is the provider's and the same for
everyone; notices and cases are customer-owned and read through ``visible_to``. Every list is
a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from contracts.selectors import customers_with_running_contract
from gdpr.models import SUBPROCESSOR_KIND, CaseResolution, ObjectionCase, Safeguard, SubProcessor
from portal.change_notices.kinds import kind_get
from portal.change_notices.services import change_notice_preview
from portal.models import ChangeNotice

#: How a change notice names the register row it announces (``ChangeNotice.subject_type``).
SUBPROCESSOR_SUBJECT = SubProcessor._meta.label_lower


class RegisterState(models.TextChoices):
    """Where a register row stands on a day."""

    IN_FORCE = "in_force", _("in Kraft")
    PENDING = "pending", _("geplant")
    ENDED = "ended", _("beendet")


def register_state_filter(state: str, on: date) -> Q:
    """The rows in ``state`` on day ``on`` (the one home of the rule; see register_state)."""
    if state == RegisterState.PENDING:
        return Q(valid_from__gt=on)
    if state == RegisterState.ENDED:
        return Q(valid_to__lt=on)
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def register_state(row: SubProcessor, on: date) -> RegisterState:
    """The state of one row on day ``on``, by the same rule as ``register_state_filter``."""
    if row.valid_from > on:
        return RegisterState.PENDING
    if row.valid_to is not None and row.valid_to < on:
        return RegisterState.ENDED
    return RegisterState.IN_FORCE


def subprocessors_in_force(on: date | None = None) -> QuerySet:
    """The register on day ``on`` (today): the rows valid that day, by name."""
    on = on or timezone.localdate()
    return (SubProcessor.objects.filter(register_state_filter(RegisterState.IN_FORCE, on))
            .select_related("predecessor").order_by("name", "valid_from", "id"))


def subprocessors_pending(user, *, today: date | None = None) -> list[dict]:
    """The rows that start after ``today``, each with its predecessor and the change notices
    ``user`` may see that announce it (by customer). Two queries."""
    today = today or timezone.localdate()
    rows = list(SubProcessor.objects.filter(register_state_filter(RegisterState.PENDING, today))
                .select_related("predecessor").order_by("valid_from", "name", "id"))
    by_row: dict[str, list[ChangeNotice]] = defaultdict(list)
    if rows:
        notices = (ChangeNotice.objects.visible_to(user)
                   .filter(kind=SUBPROCESSOR_KIND, subject_type=SUBPROCESSOR_SUBJECT,
                           subject_id__in=[str(row.pk) for row in rows])
                   .select_related("customer").order_by("customer__name", "id"))
        for notice in notices:
            by_row[notice.subject_id].append(notice)
    return [{"subprocessor": row, "predecessor": row.predecessor,
             "notices": by_row.get(str(row.pk), [])} for row in rows]


def subprocessors_for_avv(on: date, *, lang: str = "de") -> list[dict]:
    """The register in force on ``on`` as the plain, sorted data ``avv_render`` takes (German
    labels, or ``lang``'s for a reading version), so the same register always renders the
    same AVV bytes."""
    with translation.override(lang):
        return [{"name": row.name, "service": row.service,
                 "location": f"{row.location} ({row.country})",
                 "safeguard": str(Safeguard(row.safeguard).label)}
                for row in subprocessors_in_force(on)]


def subprocessor_change_preview(*, today: date | None = None) -> dict:
    """What a change sent today would do: how many customers get a notice and until when they
    can object (the confirmation pages of the admin)."""
    today = today or timezone.localdate()
    preview = change_notice_preview(kind_get(SUBPROCESSOR_KIND), received_on=today,
                                    effective_on=today)
    return {"customers": customers_with_running_contract().count(),
            "deadline": preview.deadline}


def objection_cases_open(user) -> QuerySet:
    """The open objection cases ``user`` may see, the nearest objection deadline first."""
    return (ObjectionCase.objects.visible_to(user).filter(resolution=CaseResolution.OPEN)
            .select_related("customer", "notice").order_by("notice__deadline", "opened_at",
                                                           "pk"))
