"""Writes of a person's data export (Art. 15/20 DSGVO): starting it, the job that builds the
ZIP (gdpr/exports.py), recording a download and deleting expired files; each audited.

Who may start one: the DPO or a provider admin handling an access request (identity checked
or in progress), or the person themself for their own self-service request. The job claims
the row with a conditional update (``queued`` → ``running``), so a second worker or a task
delivered twice does nothing, and a finished export is never built again. The ZIP is built in
memory and stored only when complete: a failed export keeps no half file.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.exports import export_archive
from gdpr.models import DataSubjectRequest, PersonExport
from gdpr.models.requests import ExportState, RequestChannel, RequestKind, RequestState
from gdpr.services.requests import dsr_self_service, dsr_start
from portal.models import User
from portal.privacy import entries
from portal.roles import OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of, role_of

logger = logging.getLogger(__name__)

#: How long an export can be downloaded after it was made (issue 11: 14 days).
EXPORT_VALID_DAYS = 14
#: Who handles access requests received by letter or e-mail and downloads their exports.
EXPORT_HANDLER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.DPO})
#: The states of a request in which its export may be made.
EXPORTABLE_STATES = (RequestState.IDENTITY_CHECKED, RequestState.IN_PROGRESS)
TASK = "gdpr.tasks.person_export_run"


def is_self_service(export: PersonExport) -> bool:
    """Requested by the person about themself (no request, or one made in the portal)."""
    return export.requested_by_id == export.subject_id


def export_downloadable(user: User, export: PersonExport, *, now=None) -> bool:
    """Only who started it may download it, while it is valid: the person for a
    self-service export, a DPO or provider admin for the request they handle."""
    now = now or timezone.now()
    if (export.state != ExportState.DONE or not export.file or export.expires_at is None
            or export.expires_at <= now or export.requested_by_id != user.pk):
        return False
    return is_self_service(export) or role_of(user) in EXPORT_HANDLER_ROLES


def _check_request(request: DataSubjectRequest) -> None:
    if request.kind != RequestKind.ACCESS:
        raise ValidationError(_("Ein Datenexport beantwortet nur eine Anfrage auf Auskunft "
                                "und Datenkopie (Art. 15/20 DSGVO)."))
    if request.subject_id is None:
        raise ValidationError(_("Zu dieser Anfrage gehört kein Konto; es gibt keine Daten "
                                "zu exportieren."))


def _check_may_start(actor: User, request: DataSubjectRequest | None, subject: User) -> None:
    own = actor.pk == subject.pk and (request is None
                                      or request.channel == RequestChannel.PORTAL)
    if own:
        if request is not None and not request.is_open:
            raise ValidationError(_("Diese Anfrage ist bereits abgeschlossen."))
        return
    if role_of(actor) not in EXPORT_HANDLER_ROLES:
        raise PermissionDenied(_("Den Datenexport einer anderen Person starten nur der "
                                 "Datenschutzbeauftragte und die Administratoren des "
                                 "Anbieters."))
    if request is None:
        raise ValidationError(_("Der Datenexport einer anderen Person beantwortet eine "
                                "Anfrage: Bitte wählen Sie die Anfrage."))
    if request.state not in EXPORTABLE_STATES:
        raise ValidationError(_("Der Export kann erst nach der Identitätsprüfung und nur für "
                                "eine offene Anfrage erstellt werden."))


def _customer_of(subject: User):
    membership = membership_of(subject)
    if membership and membership.organisation.kind == OrganisationKind.CUSTOMER:
        return membership.organisation
    return None


def _stale_before():
    """An export waiting or running since before this is lost: django-q2 kills a task after
    its timeout, and its claim fails once the row is failed (portal/jobs.py's limit)."""
    return timezone.now() - timedelta(seconds=settings.PORTAL_JOB_STALE_SECONDS)


@transaction.atomic
def person_export_start(*, actor: User, request: DataSubjectRequest | None = None,
                        subject: User | None = None, ip: str | None = None) -> PersonExport:
    """Queue the export of ``request.subject`` (or of ``subject``, the actor themself, without
    a request); the job is sent after the commit. An export of the same person by the same
    actor that is still waiting or running is returned instead of a second one."""
    if request is not None:
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        _check_request(request)
        subject = request.subject
    if subject is None:
        raise ValidationError(_("Bitte nennen Sie die Anfrage oder die Person."))
    _check_may_start(actor, request, subject)
    if request is not None and request.state == RequestState.IDENTITY_CHECKED \
            and request.channel != RequestChannel.PORTAL:
        request = dsr_start(actor=actor, request=request)  # the handler works on it now
    pending = PersonExport.objects.filter(
        subject=subject, requested_by=actor, state__in=(ExportState.QUEUED, ExportState.RUNNING))
    for lost in pending.filter(created_at__lt=_stale_before()):
        _fail(lost, _("Der Export wurde nicht fertig (die Hintergrundverarbeitung wurde "
                      "unterbrochen); er wurde neu angefordert."))
    running = pending.filter(created_at__gte=_stale_before()).order_by("-pk").first()
    if running is not None:
        return running
    export = PersonExport(request=request, subject=subject, customer=_customer_of(subject),
                          requested_by=actor, entries_total=len(entries))
    export.full_clean()
    export.save()
    audit_event_record(actor=actor, action="person_export.requested", target=export,
                       organisation=export.customer, ip=ip,
                       details={"request": request.pk if request else None,
                                "subject": subject.pk})
    transaction.on_commit(lambda: _send(export.pk))
    return export


@transaction.atomic
def person_export_self_service(*, actor: User, ip: str | None = None) -> PersonExport:
    """"Meine Daten anfordern": the person's open self-service access request (or a new one,
    ``dsr_self_service``) and its export. The request stays open for the DPO to close."""
    request = (DataSubjectRequest.objects.filter(
        subject=actor, kind=RequestKind.ACCESS, channel=RequestChannel.PORTAL,
        state__in=EXPORTABLE_STATES).order_by("-pk").first()
        or dsr_self_service(actor=actor, kind=RequestKind.ACCESS))
    return person_export_start(actor=actor, request=request, ip=ip)


def _send(export_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, export_id, task_name=f"{TASK}:{export_id}")


def _claim(export_id: int) -> bool:
    """Take the export from ``queued`` to ``running``; only one worker wins."""
    return bool(PersonExport.objects.filter(pk=export_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, entries_done=0, entries_total=len(entries), error=""))


def _fail(export: PersonExport, error: str) -> None:
    with transaction.atomic():
        PersonExport.objects.filter(pk=export.pk).update(
            state=ExportState.FAILED, error=error[:2000], file="", finished_at=timezone.now())
        audit_event_record(actor=None, action="person_export.failed", target=export,
                           organisation=export.customer, details={"error": error[:200]})


def person_export_build(*, export_id: int) -> PersonExport | None:
    """The job: build, store and finish the export; ``None`` when another worker has it or
    it is not waiting (done, failed). On an error it is failed with the message, no file."""
    if not _claim(export_id):
        return None
    export = PersonExport.objects.select_related("subject", "customer").get(pk=export_id)
    now = timezone.now()
    stored = ""
    try:
        data = export_archive(export.subject, issued=now, on_entry=lambda done: (
            PersonExport.objects.filter(pk=export_id).update(entries_done=done)))
        name = f"daten-{export.subject_id}-{now:%Y%m%d}.zip"
        export.file.save(name, ContentFile(data), save=False)
        stored = export.file.name
        with transaction.atomic():
            export.state = ExportState.DONE
            export.entries_done = export.entries_total = len(entries)
            export.sha256 = hashlib.sha256(data).hexdigest()
            export.size = len(data)
            export.finished_at = now
            export.expires_at = now + timedelta(days=EXPORT_VALID_DAYS)
            export.full_clean(exclude=("requested_by",))  # may be gone (erased) meanwhile
            export.save()
            audit_event_record(actor=None, action="person_export.finished", target=export,
                               organisation=export.customer,
                               details={"entries": export.entries_total, "size": export.size,
                                        "sha256": export.sha256})
    except Exception as exc:
        logger.exception("person export %s failed", export_id)
        if stored:
            default_storage.delete(stored)
        _fail(export, f"{type(exc).__name__}: {exc}")
        return PersonExport.objects.get(pk=export_id)
    return export


@transaction.atomic
def person_export_download_record(*, actor: User, export: PersonExport,
                                  ip: str | None = None) -> None:
    """The audit event of a download (the access log records it too)."""
    audit_event_record(actor=actor, action="person_export.downloaded", target=export,
                       organisation=export.customer, ip=ip, details={"sha256": export.sha256})


def person_exports_expire(*, now=None) -> int:
    """Daily: delete the files of expired exports after the commit; the row stays (done,
    without file). Returns how many files were deleted."""
    now = now or timezone.now()
    count = 0
    expired = PersonExport.objects.filter(expires_at__lte=now).exclude(file="")
    for export_id in expired.values_list("pk", flat=True):
        with transaction.atomic():
            export = (PersonExport.objects.select_for_update(skip_locked=True)
                      .filter(pk=export_id, expires_at__lte=now).exclude(file="").first())
            if export is None:
                continue
            path = export.file.name
            PersonExport.objects.filter(pk=export.pk).update(file="")
            audit_event_record(actor=None, action="person_export.expired", target=export,
                               organisation=export.customer, details={})
            transaction.on_commit(lambda path=path: default_storage.delete(path))
            count += 1
    return count
