"""The second factor: TOTP enrolment, backup codes, verification records and resets (django-otp)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import User
from portal.notifications.service import notify
from portal.roles import Role
from portal.services.accounts import end_sessions, require_may_act_on
from portal.services.audit import audit_event_record
from portal.services.security import security_notice_on_commit
from portal.tenancy import membership_of, role_of

BACKUP_DEVICE_NAME = "backup"


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def mfa_enrolment_start(*, actor: User) -> TOTPDevice:
    """Create (or reuse) the unconfirmed authenticator that the enrolment page shows."""
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=_("Authenticator-App"),
                                           confirmed=False)
    return device


def _new_backup_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(settings.PORTAL_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    device.throttle_reset(commit=False)
    device.confirmed = True
    device.save()
    return codes


@transaction.atomic
def mfa_enrolment_confirm(*, actor: User, device: TOTPDevice, token: str,
                          ip: str | None = None) -> list[str]:
    """Confirm the authenticator with a first code; returns the new backup codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=actor)
    if device.confirmed:
        raise ValidationError(_("Dieses Gerät ist bereits eingerichtet."))
    if not device.verify_is_allowed()[0]:
        raise ValidationError(_("Zu viele falsche Codes. Bitte warten Sie kurz und versuchen "
                                "Sie es erneut."))
    if not device.verify_token(token.strip().replace(" ", "")):
        raise ValidationError(_("Der Code ist nicht korrekt. Prüfen Sie die Uhrzeit Ihres "
                                "Geräts und geben Sie den aktuellen Code ein."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    first_device = not TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(
        pk=device.pk).exists()
    codes = _new_backup_codes(actor) if first_device else []
    audit_event_record(actor=actor, action="mfa.enrolled", target=actor, ip=ip,
                       details={"device": device.name, "backup_codes_issued": len(codes)})
    security_notice_on_commit(user=actor, action="mfa.enrolled", details={"device": device.name},
                              ip=ip)
    return codes


@transaction.atomic
def mfa_backup_codes_regenerate(*, actor: User, ip: str | None = None) -> list[str]:
    """Replace every backup code with 10 new ones (the old ones stop working)."""
    if not has_confirmed_device(actor):
        raise ValidationError(_("Richten Sie zuerst eine Authenticator-App ein."))
    codes = _new_backup_codes(actor)
    audit_event_record(actor=actor, action="mfa.backup_codes_regenerated", target=actor, ip=ip)
    security_notice_on_commit(user=actor, action="mfa.backup_codes_regenerated", ip=ip)
    return codes


@transaction.atomic
def mfa_device_remove(*, actor: User, device_id: int, ip: str | None = None) -> None:
    """Remove one of several authenticators; the last one cannot be removed (MFA is mandatory)."""
    devices = TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=True)
    device = devices.filter(pk=device_id).first()
    if device is None:
        raise ValidationError(_("Dieses Gerät gibt es nicht."))
    if devices.count() < 2:
        raise ValidationError(_("Das letzte Gerät kann nicht entfernt werden: Die "
                                "Zwei-Faktor-Anmeldung ist Pflicht."))
    name = device.name
    device.delete()
    audit_event_record(actor=actor, action="mfa.device_removed", target=actor, ip=ip,
                       details={"device": name})
    security_notice_on_commit(user=actor, action="mfa.device_removed", details={"device": name},
                              ip=ip)


@transaction.atomic
def mfa_reset(*, actor: User, user: User, identity_check: str,
              ip: str | None = None) -> int:
    """Provider admins remove every second factor of a person, who must enrol again.

    Whoever asks for a reset may be an attacker with the password: the administrator records
    how the person's identity was checked (``identity_check``, kept in the audit event)."""
    if role_of(actor) != Role.PROVIDER_ADMIN or not actor.has_perm("portal.reset_mfa"):
        raise PermissionDenied(_("Nur Administratoren des Anbieters dürfen die "
                                 "Zwei-Faktor-Anmeldung zurücksetzen."))
    if user.pk == actor.pk:
        raise ValidationError(_("Sie können Ihre eigene Zwei-Faktor-Anmeldung nicht "
                                "zurücksetzen."))
    identity_check = (identity_check or "").strip()
    if not identity_check:
        raise ValidationError({"identity_check": _("Bitte geben Sie an, wie Sie die Identität "
                                                   "der Person geprüft haben.")})
    require_may_act_on(actor=actor, target=user)
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    ended = end_sessions(user)
    audit_event_record(actor=actor, action="mfa.reset", target=user, ip=ip,
                       details={"objects_removed": removed, "sessions_ended": ended,
                                "identity_check": identity_check})
    # The person is told, not the administrator's address: no IP of the administrator either.
    membership = membership_of(user)
    notify(event="mfa.reset", actor=actor, person=user,
           customer=membership.organisation if membership else None)
    return removed


@transaction.atomic
def mfa_verification_record(*, actor: User, method: str, succeeded: bool,
                            ip: str | None = None) -> None:
    audit_event_record(actor=actor, action="mfa.verified" if succeeded else "mfa.failed",
                       target=actor, ip=ip, details={"method": method})
