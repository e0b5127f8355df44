"""Writes of a person's data export (Art. 15/20 DSGVO): starting it, the job that builds the
ZIP (gdpr/exports.py), recording a download and deleting expired files; each audited.

Who may start one: the DPO or a provider admin handling an access request (identity checked
or in progress), or the person themself for their own self-service request. The job claims
the row with a conditional update (``queued`` → ``running``), so a second worker or a task
delivered twice does nothing, and a finished export is never built again. The ZIP is stored
only when complete: a failed export keeps no half file (gdpr/services/export_jobs.py, shared
with the customer export).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.exports import export_archive
from gdpr.models import DataSubjectRequest, PersonExport
from gdpr.models.requests import RequestChannel, RequestKind, RequestState
from gdpr.services.export_jobs import (  # noqa: F401 - EXPORT_VALID_DAYS is read from here
    EXPORT_VALID_DAYS,
    ExportKind,
    export_build,
    export_download_record,
    export_pending,
    export_queue,
    export_valid,
    exports_expire,
)
from gdpr.services.requests import dsr_self_service, dsr_start
from portal.models import User
from portal.privacy import entries
from portal.roles import OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of, role_of

logger = logging.getLogger(__name__)

#: Who handles access requests received by letter or e-mail and downloads their exports.
EXPORT_HANDLER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.DPO})
#: The states of a request in which its export may be made.
EXPORTABLE_STATES = (RequestState.IDENTITY_CHECKED, RequestState.IN_PROGRESS)
TASK = "gdpr.tasks.person_export_run"
KIND = ExportKind(model=PersonExport, task=TASK, audit_prefix="person_export",
                  done_field="entries_done", total_field="entries_total",
                  count_detail="entries")


def is_self_service(export: PersonExport) -> bool:
    """Requested by the person about themself (no request, or one made in the portal)."""
    return export.requested_by_id == export.subject_id


def export_downloadable(user: User, export: PersonExport, *, now=None) -> bool:
    """Only who started it may download it, while it is valid: the person for a
    self-service export, a DPO or provider admin for the request they handle."""
    if not export_valid(export, now=now) or export.requested_by_id != user.pk:
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


def _send(export_id: int) -> None:
    export_queue(KIND, export_id)


def _customer_of(subject: User):
    membership = membership_of(subject)
    if membership and membership.organisation.kind == OrganisationKind.CUSTOMER:
        return membership.organisation
    return None


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
    running = export_pending(
        KIND, PersonExport.objects.filter(subject=subject, requested_by=actor),
        lost_message=_("Der Export wurde nicht fertig (die Hintergrundverarbeitung wurde "
                       "unterbrochen); er wurde neu angefordert."))
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


def person_export_build(*, export_id: int) -> PersonExport | None:
    """The job: build, store and finish the export; ``None`` when another worker has it or
    it is not waiting (done, failed). On an error it is failed with the message, no file."""
    def write(export: PersonExport, out, progress) -> str:
        now = timezone.now()
        out.write(export_archive(export.subject, issued=now, on_entry=progress))
        return f"daten-{export.subject_id}-{now:%Y%m%d}.zip"

    return export_build(KIND, export_id, total=len(entries), write=write,
                        related=("subject", "customer"))


def person_export_download_record(*, actor: User, export: PersonExport,
                                  ip: str | None = None) -> None:
    export_download_record(KIND, actor=actor, export=export, ip=ip)


def person_exports_expire(*, now=None) -> int:
    """Daily: delete the files of expired exports after the commit; the row stays (done,
    without file). Returns how many files were deleted."""
    return exports_expire(KIND, now=now)
