"""Creating and changing organisations (provider, partners, customers)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from portal.audit_actions import ORGANISATION_FIELDS
from portal.models import Organisation, User
from portal.roles import Role
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

EDITING_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF})
AUDITED_FIELDS = ORGANISATION_FIELDS  # declared once, with the audit vocabulary


def _require_editor(actor: User) -> None:
    if not (actor.is_superuser or role_of(actor) in EDITING_ROLES):
        raise PermissionDenied(_("Nur Mitarbeiter des Anbieters dürfen Organisationen anlegen "
                                 "oder ändern."))


def _snapshot(organisation: Organisation) -> dict:
    return {key: (str(value) if value is not None else None)
            for key, value in model_to_dict(organisation, fields=AUDITED_FIELDS).items()}


@transaction.atomic
def organisation_create(*, actor: User, organisation: Organisation,
                        ip: str | None = None) -> Organisation:
    """Store a new organisation (an unsaved instance, e.g. from a form)."""
    _require_editor(actor)
    organisation.full_clean()
    organisation.save()
    audit_event_record(actor=actor, action="organisation.created", target=organisation,
                       ip=ip, details=_snapshot(organisation))
    return organisation


@transaction.atomic
def organisation_update(*, actor: User, organisation: Organisation,
                        ip: str | None = None) -> Organisation:
    """Store the changed fields of an existing organisation."""
    _require_editor(actor)
    before = _snapshot(Organisation.objects.get(pk=organisation.pk))
    organisation.full_clean()
    after = _snapshot(organisation)
    changed = [field for field in AUDITED_FIELDS if before[field] != after[field]]
    if not changed:
        return organisation
    organisation.save(update_fields=[*changed, "updated_at"])
    audit_event_record(actor=actor, action="organisation.updated", target=organisation, ip=ip,
                       details={"before": {f: before[f] for f in changed},
                                "after": {f: after[f] for f in changed}})
    return organisation
