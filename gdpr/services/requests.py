"""Data-subject requests (Art. 12, 15–21 DSGVO, DOMAIN §6): receiving them, the steps
received → identity checked → in progress → done / refused, the extension and the reminders.

Decisions:

* **Who handles.** The DPO, provider admins and provider staff (``HANDLER_ROLES``); a portal
  person files a request about themself (``dsr_self_service``). Everyone else is refused.
* **Deadline.** ``portal.periods.gdpr_deadline`` from the day of receipt with the German
  calendar; the extension sets ``extended_deadline`` (three months from receipt) and keeps the
  original deadline. It is possible only while the first month runs (up to and including the
  original deadline), once, with a reason, and the requester is told by e-mail.
* **Closing.** ``dsr_close`` needs a request in progress and an outcome — except a request
  without an account behind it (nobody found for the details given), which may be closed from
  any open state with its outcome (e.g. "no data about this person"). ``dsr_refuse`` works in
  every open state and needs a reason.
* **Reminders.** A daily job reminds the DPOs of the provider (provider admins if there is no
  DPO) 7 days and 1 day before the deadline in force, each once: a conditional update of
  ``reminded_*`` claims the reminder, so a second run or a second worker sends nothing. A run
  that missed the 7-day mark sends that reminder later, as long as more than one day is left;
  overdue requests get none (the start page shows them first).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gdpr.models.requests import (
    OPEN_STATES,
    DataSubjectRequest,
    RequestChannel,
    RequestKind,
    RequestState,
)
from portal.models import Membership, User
from portal.notifications.service import notify
from portal.periods import WorkCalendar, gdpr_deadline
from portal.roles import Role
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

#: Who receives and handles requests.
HANDLER_ROLES = frozenset({Role.DPO, Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF})
#: How the identity of a self-service requester counts as checked.
SELF_SERVICE_IDENTITY = "Anmeldung im Portal mit zweitem Faktor"
#: The reminders: (days before the deadline in force, field that records it).
REMINDERS = ((7, "reminded_7_days_at"), (1, "reminded_1_day_at"))


def _day(day: date) -> str:
    """A date in a message, in the reader's language (``SHORT_DATE_FORMAT``)."""
    return date_format(day, "SHORT_DATE_FORMAT")


def dsr_may_handle(actor) -> bool:
    return role_of(actor) in HANDLER_ROLES


def dsr_require_handler(actor) -> None:
    """Refuse anyone but the DPO, provider admins and provider staff."""
    if not dsr_may_handle(actor):
        raise PermissionDenied(_("Betroffenenanfragen bearbeiten nur der "
                                 "Datenschutzbeauftragte und die Mitarbeiter des Anbieters."))


def _deadline(received_on: date, *, extended: bool = False) -> date:
    return gdpr_deadline(received=received_on, calendar=WorkCalendar.germany(),
                         extended=extended)


def _organisation_of(person: User | None):
    if person is None:
        return None
    membership = Membership.objects.filter(user=person).select_related("organisation").first()
    return membership.organisation if membership else None


def _require_kind(kind: str) -> None:
    if kind not in RequestKind.values:
        raise ValidationError({"kind": _("Bitte wählen Sie die Art der Anfrage.")})


def _save(request: DataSubjectRequest, fields: list[str] | None = None) -> None:
    request.full_clean()
    request.save(update_fields=fields) if fields else request.save()


def _locked(request: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=request.pk)


def _require_state(request: DataSubjectRequest, *states: str, step: str) -> None:
    if request.state not in states:
        raise ValidationError(_("„%(step)s“ ist im Stand „%(state)s“ nicht möglich.")
                              % {"step": step, "state": request.get_state_display()})


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _audit(actor, request: DataSubjectRequest, action: str, **details) -> None:
    audit_event_record(actor=actor, action=action, target=request,
                       organisation=request.customer, details=details)


def dsr_require_received_on(received_on: date) -> None:
    """A request cannot be received in the future (the add form checks it too)."""
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _(
            "Das Eingangsdatum darf nicht in der Zukunft liegen.")})


def dsr_create(*, actor, kind: str, channel: str, received_on: date, requester_name: str,
               requester_email: str = "", details: str = "",
               subject: User | None = None) -> DataSubjectRequest:
    """A request received by letter, e-mail or otherwise, entered by a handler. Without
    ``subject`` the account is looked up by ``requester_email`` (exact, any case); none found
    is allowed — the request is later closed with that outcome."""
    dsr_require_handler(actor)
    _require_kind(kind)
    dsr_require_received_on(received_on)
    requester_email = (requester_email or "").strip()
    if subject is None and requester_email:
        subject = User.objects.filter(email__iexact=requester_email).order_by("pk").first()
    with transaction.atomic():
        request = DataSubjectRequest(
            kind=kind, channel=channel, received_on=received_on,
            deadline=_deadline(received_on), subject=subject,
            customer=_organisation_of(subject), requester_name=(requester_name or "").strip(),
            requester_email=requester_email, details=(details or "").strip(),
            created_by=actor)
        _save(request)
        _audit(actor, request, "dsr.created", kind=kind, channel=channel,
               received_on=received_on.isoformat(), deadline=request.deadline.isoformat(),
               subject_found=subject is not None)
    return request


def dsr_self_service(*, actor, kind: str, details: str = "") -> DataSubjectRequest:
    """A logged-in person asks about themself: received today in the portal, the identity
    counted as checked by the login with the second factor. One open request per kind."""
    if role_of(actor) is None:
        raise PermissionDenied(_("Nur angemeldete Personen mit Zugang zum Portal können "
                                 "eine Anfrage stellen."))
    _require_kind(kind)
    today = timezone.localdate()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()  # one at a time per person
        running = (DataSubjectRequest.objects.filter(subject=actor, kind=kind,
                                                     state__in=OPEN_STATES)
                   .order_by("received_on", "pk").first())
        if running is not None:
            raise ValidationError(_(
                "Sie haben bereits eine offene Anfrage dieser Art (eingegangen am "
                "%(received)s, Frist %(deadline)s). Wir bearbeiten sie; eine zweite ist nicht "
                "nötig.") % {"received": _day(running.received_on),
                            "deadline": _day(running.due_on)})
        request = DataSubjectRequest(
            kind=kind, channel=RequestChannel.PORTAL, received_on=today,
            deadline=_deadline(today), subject=actor, customer=_organisation_of(actor),
            requester_name=actor.get_full_name() or actor.email, requester_email=actor.email,
            details=(details or "").strip(), identity_check=SELF_SERVICE_IDENTITY,
            state=RequestState.IDENTITY_CHECKED, created_by=actor)
        _save(request)
        _audit(actor, request, "dsr.created", kind=kind, channel=RequestChannel.PORTAL,
               received_on=today.isoformat(), deadline=request.deadline.isoformat(),
               subject_found=True)
    return request


def dsr_identity_checked(*, actor, request: DataSubjectRequest, how: str) -> DataSubjectRequest:
    """Record how the requester's identity was checked (received → identity checked)."""
    dsr_require_handler(actor)
    how = _require_text(how, "how", _("Bitte vermerken Sie, wie die Identität geprüft wurde."))
    with transaction.atomic():
        request = _locked(request)
        _require_state(request, RequestState.RECEIVED, step=_("Identität geprüft"))
        request.identity_check, request.state = how, RequestState.IDENTITY_CHECKED
        _save(request, ["identity_check", "state"])
        _audit(actor, request, "dsr.identity_checked")
    return request


def dsr_start(*, actor, request: DataSubjectRequest) -> DataSubjectRequest:
    """Start working on a request whose identity is checked (→ in progress)."""
    dsr_require_handler(actor)
    with transaction.atomic():
        request = _locked(request)
        _require_state(request, RequestState.IDENTITY_CHECKED, step=_("Bearbeitung beginnen"))
        request.state = RequestState.IN_PROGRESS
        _save(request, ["state"])
        _audit(actor, request, "dsr.started")
    return request


def dsr_extend(*, actor, request: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Two more months (Art. 12(3) DSGVO), once, with a reason, only while the first month
    runs; the requester is told by e-mail."""
    dsr_require_handler(actor)
    reason = _require_text(reason, "reason", _("Bitte begründen Sie die Verlängerung; der "
                                               "Antragsteller erhält die Begründung."))
    today = timezone.localdate()
    with transaction.atomic():
        request = _locked(request)
        _require_state(request, *OPEN_STATES, step=_("Frist verlängern"))
        if request.extended_deadline is not None:
            raise ValidationError(_("Die Frist wurde bereits bis %(day)s verlängert; eine "
                                    "weitere Verlängerung ist nicht möglich.")
                                  % {"day": _day(request.extended_deadline)})
        if today > request.deadline:
            raise ValidationError(_(
                "Die Frist kann nur innerhalb des ersten Monats verlängert werden; sie endete "
                "am %(day)s.") % {"day": _day(request.deadline)})
        request.extended_deadline = _deadline(request.received_on, extended=True)
        request.extension_reason = reason
        _save(request, ["extended_deadline", "extension_reason"])
        _audit(actor, request, "dsr.extended", deadline=request.deadline.isoformat(),
               extended_deadline=request.extended_deadline.isoformat())
        _tell_requester_of_extension(actor, request)
    return request


def _tell_requester_of_extension(actor, request: DataSubjectRequest) -> None:
    if request.subject is not None and request.subject.is_active:
        notify(event="dsr.extended", actor=actor, customer=request.customer,
               person=request.subject, context={"request_id": request.pk})
    elif request.requester_email:
        from gdpr.notifications import extension_mail_queue

        transaction.on_commit(lambda: extension_mail_queue(request.pk))


def dsr_closes_by_hand(request: DataSubjectRequest) -> bool:
    """Whether "done" is set by hand: not for an erasure request with an account, which
    ``dsr_erase`` closes with the result per entry (closing by hand would report an erasure
    that never ran; a request that cannot be met is refused with a reason)."""
    return not (request.kind == RequestKind.ERASURE and request.subject_id is not None)


def dsr_close(*, actor, request: DataSubjectRequest, outcome: str) -> DataSubjectRequest:
    """Done, with what was done (in progress → done; see the module for requests without an
    account)."""
    dsr_require_handler(actor)
    outcome = _require_text(outcome, "outcome", _("Bitte vermerken Sie das Ergebnis."))
    with transaction.atomic():
        request = _locked(request)
        allowed = OPEN_STATES if request.subject_id is None else (RequestState.IN_PROGRESS,)
        _require_state(request, *allowed, step=_("Abschließen"))
        if not dsr_closes_by_hand(request):
            raise ValidationError(_("Eine Anfrage auf Löschung zu einem Konto wird mit "
                                    "„Löschung ausführen“ abgeschlossen, oder mit Begründung "
                                    "abgelehnt."))
        request.state, request.outcome = RequestState.DONE, outcome
        request.closed_at = timezone.now()
        _save(request, ["state", "outcome", "closed_at"])
        _audit(actor, request, "dsr.closed", subject_found=request.subject_id is not None)
    return request


def dsr_refuse(*, actor, request: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Refused (e.g. identity not proven, manifestly unfounded, Art. 12(5)), with a reason."""
    dsr_require_handler(actor)
    reason = _require_text(reason, "reason", _("Bitte begründen Sie die Ablehnung."))
    with transaction.atomic():
        request = _locked(request)
        _require_state(request, *OPEN_STATES, step=_("Ablehnen"))
        request.state, request.outcome = RequestState.REFUSED, reason
        request.closed_at = timezone.now()
        _save(request, ["state", "outcome", "closed_at"])
        _audit(actor, request, "dsr.refused")
    return request


# --- Reminders ---------------------------------------------------------------------------------

def _reminder_due(days: int, today: date) -> Q:
    """Open, not reminded yet, and ``days`` or fewer (but more than the next reminder's
    days, and not overdue) left until the deadline in force."""
    later = [d for d, _field in REMINDERS if d < days]
    lower = today + timedelta(days=max(later) + 1) if later else today
    return Q(due__lte=today + timedelta(days=days), due__gte=lower)


def dsr_reminders_send(today: date | None = None) -> dict[str, int]:
    """The daily job: each open request's reminders 7 and 1 day before its deadline in
    force, each once (claimed by a conditional update; safe twice and with two workers)."""
    today = today or timezone.localdate()
    sent: dict[str, int] = {}
    for days, field in REMINDERS:
        candidates = list(
            DataSubjectRequest.objects.filter(state__in=OPEN_STATES, **{f"{field}__isnull": True})
            .annotate(due=Coalesce(F("extended_deadline"), F("deadline")))
            .filter(_reminder_due(days, today)).values_list("pk", flat=True))
        count = 0
        for pk in candidates:
            with transaction.atomic():
                claimed = (DataSubjectRequest.objects
                           .filter(pk=pk, state__in=OPEN_STATES, **{f"{field}__isnull": True})
                           .update(**{field: timezone.now()}))
                if not claimed:
                    continue
                request = DataSubjectRequest.objects.select_related("customer").get(pk=pk)
                notify(event="dsr.reminder",
                       context={"request_id": pk, "days": days})
                _audit(None, request, "dsr.reminded", days=days,
                       due_on=request.due_on.isoformat())
                count += 1
        sent[f"{days}d"] = count
    return sent
