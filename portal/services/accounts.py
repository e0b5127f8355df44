"""Accounts: invitations, accepting them, deactivation, role changes and login events."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.invitations import invitation_token
from portal.mail import send_templated_mail
from portal.models import Membership, Organisation, PersonSession, User
from portal.roles import INVITABLE_ROLES, ROLE_KIND, STAFF_ROLES, Role, group_name
from portal.services.audit import audit_event_record
from portal.tenancy import forget_membership, membership_of


def _require_may_manage(actor: User, organisation: Organisation, role: str | None = None) -> None:
    """Refuse unless ``actor`` may manage people of ``organisation`` (and hand out ``role``)."""
    membership = membership_of(actor)
    if membership is None:
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Aktion."))
    if not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Organisation."))
    if role is not None and role not in INVITABLE_ROLES.get(membership.role, ()):
        raise PermissionDenied(_("Sie dürfen die Rolle „%(role)s“ nicht vergeben.")
                               % {"role": Role(role).label})
    if role is None and not INVITABLE_ROLES.get(membership.role):
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Aktion."))


def _sync_role_flags(user: User, role: str) -> None:
    """Staff access and the role's permission group follow the role."""
    from django.contrib.auth.models import Group

    user.is_staff = role in STAFF_ROLES
    user.save(update_fields=["is_staff"])
    group, _created = Group.objects.get_or_create(name=group_name(role))
    user.groups.set([group])


def invitation_link(user: User) -> str:
    path = reverse("portal:invitation_accept", kwargs={"token": invitation_token(user)})
    return f"{settings.PORTAL_BASE_URL}{path}"


def _send_invitation(user_id: int, inviter_name: str, organisation_name: str) -> None:
    user = User.objects.get(pk=user_id)
    send_templated_mail(
        to=user.email, template="invitation", language=user.language,
        context={"user": user, "inviter_name": inviter_name,
                 "organisation_name": organisation_name, "link": invitation_link(user),
                 "max_age_days": settings.PORTAL_INVITATION_MAX_AGE_DAYS},
    )


@transaction.atomic
def user_invite(
    *,
    actor: User,
    organisation: Organisation,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    language: str = "de",
    ip: str | None = None,
) -> User:
    """Create a personal account with a role and e-mail an invitation to set a password."""
    _require_may_manage(actor, organisation, role)
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Für diese E-Mail-Adresse gibt es bereits ein Konto. "
                                          "Konten sind persönlich und nicht übertragbar.")})
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip(),
                language=language, invited_by=actor)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    _sync_role_flags(user, role)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    audit_event_record(actor=actor, action="user.invited", target=user, organisation=organisation,
                       ip=ip, details={"role": role, "email": email})
    transaction.on_commit(partial(_send_invitation, user.pk, actor.get_full_name(),
                                  organisation.name))
    return user


@transaction.atomic
def user_resend_invitation(*, actor: User, user: User, ip: str | None = None) -> None:
    organisation = _managed_organisation(actor, user)
    if user.has_usable_password():
        raise ValidationError(_("Diese Person hat ihre Einladung bereits angenommen."))
    audit_event_record(actor=actor, action="user.invitation_resent", target=user,
                       organisation=organisation, ip=ip)
    transaction.on_commit(partial(_send_invitation, user.pk, actor.get_full_name(),
                                  organisation.name if organisation else ""))


@transaction.atomic
def invitation_accept(*, user: User, password: str, ip: str | None = None) -> User:
    """The invited person sets a password; this also confirms the e-mail address."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ValidationError(_("Dieses Konto ist deaktiviert."))
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    audit_event_record(actor=user, action="user.invitation_accepted", target=user, ip=ip)
    return user


def end_sessions(user: User) -> int:
    """Delete every stored session of ``user``."""
    ended, _detail = PersonSession.objects.filter(user_id=user.pk).delete()
    return ended


def _managed_organisation(actor: User, user: User) -> Organisation | None:
    """The organisation of ``user``, after checking that ``actor`` may manage its people."""
    membership = user.memberships.select_related("organisation").first()
    if membership is not None:
        _require_may_manage(actor, membership.organisation)
        return membership.organisation
    if not actor.is_superuser:
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Aktion."))
    return None


@transaction.atomic
def user_deactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    """Revoke a person's access at once (003 §21.2): no login, every session ended."""
    organisation = _managed_organisation(actor, user)
    if user.pk == actor.pk:
        raise ValidationError(_("Sie können sich nicht selbst deaktivieren."))
    if not user.is_active:
        raise ValidationError(_("Diese Person ist bereits deaktiviert."))
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    ended = end_sessions(user)
    audit_event_record(actor=actor, action="user.deactivated", target=user,
                       organisation=organisation, ip=ip, details={"sessions_ended": ended})
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    organisation = _managed_organisation(actor, user)
    if user.is_active:
        raise ValidationError(_("Diese Person ist bereits aktiv."))
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    audit_event_record(actor=actor, action="user.reactivated", target=user,
                       organisation=organisation, ip=ip)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, first_name: str, last_name: str,
                ip: str | None = None) -> User:
    """Correct a person's name (accounts are personal; the e-mail address stays)."""
    if actor.pk != user.pk:
        _managed_organisation(actor, user)
    before = {"first_name": user.first_name, "last_name": user.last_name}
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name"])
    audit_event_record(actor=actor, action="user.updated", target=user, ip=ip,
                       details={"before": before,
                                "after": {"first_name": user.first_name,
                                          "last_name": user.last_name}})
    return user


@transaction.atomic
def membership_change_role(*, actor: User, membership: Membership, role: str,
                           ip: str | None = None) -> Membership:
    """Give a person another role in the same organisation."""
    _require_may_manage(actor, membership.organisation, role)
    if membership.user_id == actor.pk:
        raise ValidationError(_("Sie können Ihre eigene Rolle nicht ändern."))
    if ROLE_KIND.get(role) != membership.organisation.kind:
        raise ValidationError({"role": _("Diese Rolle passt nicht zur Art der Organisation.")})
    previous = membership.role
    if previous == role:
        return membership
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role", "updated_at"])
    _sync_role_flags(membership.user, role)
    forget_membership(membership.user)
    audit_event_record(actor=actor, action="membership.role_changed", target=membership.user,
                       organisation=membership.organisation, ip=ip,
                       details={"from": previous, "to": role})
    return membership


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> None:
    """Remember the person's language for e-mails; German and English are offered."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Diese Sprache wird nicht angeboten."))
    if actor.language == language:
        return
    previous = actor.language
    actor.language = language
    actor.save(update_fields=["language"])
    audit_event_record(actor=actor, action="user.language_changed", target=actor,
                       details={"from": previous, "to": language})


@transaction.atomic
def auth_login_record(*, user: User, ip: str | None) -> None:
    audit_event_record(actor=user, action="auth.login", target=user, ip=ip)


@transaction.atomic
def auth_logout_record(*, user: User, ip: str | None) -> None:
    audit_event_record(actor=user, action="auth.logout", target=user, ip=ip)


@transaction.atomic
def auth_login_failed_record(*, email: str, ip: str | None, rate_limited: bool = False) -> None:
    """A failed password login (or one refused by the rate limit before the password was
    checked); the target is the account if one exists for the address."""
    user = User.objects.filter(email__iexact=email.strip()).first() if email else None
    audit_event_record(actor=None, action="auth.login_failed", target=user, ip=ip,
                       details={"email": email[:254], "rate_limited": rate_limited})
