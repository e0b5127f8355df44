"""The AVV's writes and its selectors: publishing a version, a customer admin's acceptance, and
which version a customer has accepted (DOMAIN §6, issue 10)."""

from __future__ import annotations

from enum import Enum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.avv import avv_render, avv_sha256, tom_snapshot
from gdpr.models import AvvAcceptance, AvvStatus, AvvVersion, TomMeasure
from gdpr.selectors.subprocessors import subprocessors_for_avv
from portal.roles import Role
from portal.services.audit import audit_event_record
from portal.tenancy import membership_of


class AvvState(Enum):
    ACCEPTED_CURRENT = "current"
    ACCEPTED_OLDER = "older"
    NEVER = "never"


def current_avv() -> AvvVersion | None:
    """The version in force: the one published last."""
    return (AvvVersion.objects.filter(status=AvvStatus.PUBLISHED)
            .order_by("-published_at", "-id").first())


def avv_version_publish(*, actor, version: AvvVersion) -> AvvVersion:
    """Render the draft, freeze its text, TOM snapshot and SHA-256; from now on it is current.
    Only a provider admin publishes (``actor=None``: the system, e.g. the demo seed)."""
    _require_provider_admin(actor, _("AVV-Versionen veröffentlicht nur ein Administrator des "
                                     "Anbieters."))
    with transaction.atomic():
        version = AvvVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_published:
            raise ValidationError(_("AVV %(label)s ist bereits veröffentlicht.")
                                  % {"label": version.label})
        toms = tom_snapshot(version)
        empty = [category["category"] for category in toms if not category["measures"]]
        if empty:
            raise ValidationError(_("Ohne Maßnahmen: TOM-Kategorie %(categories)s.")
                                  % {"categories": ", ".join(empty)})
        text = avv_render(label=version.label, toms=toms,
                          subprocessors=subprocessors_for_avv(timezone.localdate()))
        version.text_de, version.sha256, version.toms = text, avv_sha256(text), toms
        version.status, version.published_at = AvvStatus.PUBLISHED, timezone.now()
        version.published_by = actor
        version.full_clean()
        version.save()
        audit_event_record(actor=actor, action="avv.published", target=version,
                           details={"label": version.label, "sha256": version.sha256})
    return version


def _require_provider_admin(actor, message: str) -> None:
    membership = membership_of(actor) if actor is not None else None
    if actor is not None and (membership is None or membership.role != Role.PROVIDER_ADMIN):
        raise PermissionDenied(message)


def avv_version_draft_from(*, actor, source: AvvVersion, label: str) -> AvvVersion:
    """A new draft ``label`` with the TOMs of ``source`` (its frozen snapshot when published),
    to be edited and published as the next version. Only a provider admin."""
    _require_provider_admin(actor, _("AVV-Entwürfe legt nur ein Administrator des Anbieters "
                                     "an."))
    label = (label or "").strip()
    toms = source.toms if source.is_published else tom_snapshot(source)
    with transaction.atomic():
        draft = AvvVersion(label=label)
        draft.full_clean()
        draft.save()
        measures = []
        for category in toms:
            english = category.get("measures_en") or []
            for order, text in enumerate(category["measures"]):
                measures.append(TomMeasure(
                    version=draft, category=category["category"], order=order, text=text,
                    text_en=(english[order] if order < len(english) else "") or None))
        TomMeasure.objects.bulk_create(measures)
        audit_event_record(actor=actor, action="avv.drafted", target=draft,
                           details={"label": label, "from": source.label})
    return draft


def avv_may_accept(actor, customer) -> bool:
    membership = membership_of(actor)
    return (membership is not None and membership.role == Role.CUSTOMER_ADMIN
            and membership.organisation_id == customer.pk)


def avv_accept(*, actor, customer, version: AvvVersion, sha256_seen: str, ip: str | None,
               user_agent: str) -> AvvAcceptance:
    """Record that ``actor``, an admin of ``customer``, accepted ``version`` as shown to them
    (``sha256_seen``). Refused: anyone but the customer's admins (partner support, members);
    a version that is not current (the page was opened before a newer one was published); a
    text that is not the version's; a second acceptance of the same version by the person."""
    if not avv_may_accept(actor, customer):
        raise PermissionDenied(_("Die AVV nimmt nur ein Administrator des Kunden an."))
    current = current_avv()
    if current is None or current.pk != version.pk:
        raise ValidationError(
            _("AVV %(label)s ist nicht mehr aktuell; bitte nehmen Sie die aktuelle Version "
              "%(current)s an.") % {"label": version.label,
                                    "current": current.label if current else "–"},
            code="not_current")
    if sha256_seen != current.sha256:
        raise ValidationError(_("Der angezeigte Text entspricht nicht AVV %(label)s; bitte "
                                "laden Sie die Seite neu.") % {"label": current.label},
                              code="stale")
    duplicate = ValidationError(_("Sie haben AVV %(label)s bereits angenommen.")
                                % {"label": current.label}, code="duplicate")
    with transaction.atomic():
        if AvvAcceptance.objects.filter(person=actor, version=current).exists():
            raise duplicate
        acceptance = AvvAcceptance(customer=customer, version=current, person=actor,
                                   accepted_at=timezone.now(), ip=ip or None,
                                   user_agent=(user_agent or "")[:500], sha256=sha256_seen)
        acceptance.full_clean(validate_constraints=False)
        try:
            # Two requests of the same person at once: the unique constraint decides.
            with transaction.atomic():
                acceptance.save()
        except IntegrityError:
            raise duplicate from None
        audit_event_record(actor=actor, action="avv.accepted", target=acceptance,
                           organisation=customer, ip=ip,
                           details={"label": current.label, "sha256": sha256_seen,
                                    "user_agent": acceptance.user_agent})
    return acceptance


def avv_state_for(customer) -> AvvState:
    """Whether any admin of ``customer`` accepted the current version, only an older one, or
    none."""
    accepted = AvvAcceptance.objects.filter(customer=customer)
    current = current_avv()
    if current is not None and accepted.filter(version=current).exists():
        return AvvState.ACCEPTED_CURRENT
    if accepted.exists():
        return AvvState.ACCEPTED_OLDER
    return AvvState.NEVER
