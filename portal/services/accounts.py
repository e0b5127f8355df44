"""Accounts: invitations, accepting them, deactivation, role changes and login events.

Acting on another person follows the order of roles in ``portal.roles``: ``require_may_act_on``
refuses a person who ranks above the actor, ``_require_may_manage`` a role above the actor's,
and ``_require_not_last_provider_admin`` keeps the last active provider admin.
"""

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
from portal.roles import INVITABLE_ROLES, ROLE_KIND, STAFF_ROLES, Role, group_name, outranks
from portal.services.audit import audit_event_record
from portal.tenancy import forget_membership, membership_of, role_of


def _acting_role(actor: User) -> str | None:
    """The role the order of roles uses for the actor; a superuser ranks as a provider admin."""
    return Role.PROVIDER_ADMIN if actor.is_superuser else role_of(actor)


def _held_role(person: User) -> str | None:
    """The role of a person acted on, whether active or not (uses prefetched memberships)."""
    if person.is_superuser:
        return Role.PROVIDER_ADMIN
    membership = next(iter(person.memberships.all()), None)
    return membership.role if membership else None


def rank_refusal(*, actor: User, target: User) -> str | None:
    """Why ``actor`` may not act on ``target`` by the order of roles, or ``None`` if they may."""
    target_role = _held_role(target)
    if outranks(target_role, _acting_role(actor)):
        return _("Die Rolle „%(role)s“ steht über Ihrer eigenen Rolle; Sie dürfen für diese "
                 "Person nichts ändern.") % {"role": Role(target_role).label}
    return None


def require_may_act_on(*, actor: User, target: User) -> None:
    """Refuse when ``target``'s role ranks above the actor's (``portal.roles.ROLE_RANK``)."""
    refusal = rank_refusal(actor=actor, target=target)
    if refusal:
        raise PermissionDenied(refusal)


def _require_may_manage(actor: User, organisation: Organisation) -> None:
    """Refuse unless ``actor`` may manage people at all, and those of ``organisation``."""
    if membership_of(actor) is None or not INVITABLE_ROLES.get(_acting_role(actor)):
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Aktion."))
    if not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Organisation."))


def _require_may_give(actor: User, role: str) -> None:
    """Refuse a role the actor may not hand out; never one above the actor's own."""
    acting_role = _acting_role(actor)
    if role not in INVITABLE_ROLES.get(acting_role, ()) or outranks(role, acting_role):
        raise PermissionDenied(_("Sie dürfen die Rolle „%(role)s“ nicht vergeben.")
                               % {"role": Role(role).label})


def _require_not_last_provider_admin(membership: Membership) -> None:
    """Somebody must always be able to manage the provider: the last active provider admin can
    be neither deactivated nor given another role (not by themselves, not by a superuser)."""
    if membership.role != Role.PROVIDER_ADMIN or not membership.user.is_active:
        return
    # Lock the provider's admin memberships, so two admins deactivating each other at the same
    # time cannot both pass this check (the second one waits and then sees the first's change).
    admin_ids = list(Membership.objects.select_for_update()
                     .filter(organisation_id=membership.organisation_id,
                             role=Role.PROVIDER_ADMIN)
                     .values_list("user_id", flat=True))
    others = User.objects.filter(pk__in=admin_ids, is_active=True).exclude(pk=membership.user_id)
    if not others.exists():
        raise ValidationError(_("%(name)s ist die letzte aktive Person mit der Rolle "
                                "„%(role)s“ und kann weder deaktiviert werden noch eine andere "
                                "Rolle erhalten. Ernennen Sie zuerst eine weitere Person zum "
                                "Administrator des Anbieters.")
                              % {"name": membership.user.get_full_name(),
                                 "role": Role.PROVIDER_ADMIN.label})


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


def _send_existing_account_notice(user_id: int, email: str, organisation_name: str) -> None:
    user = User.objects.get(pk=user_id)
    send_templated_mail(
        to=email, template="invitation_existing_account", language=user.language,
        context={"user": user, "organisation_name": organisation_name},
    )


def invitation_sent_message(*, first_name: str, last_name: str) -> str:
    """What the inviter is told after an accepted invitation, in the portal and the admin; it
    is the same whether or not the address already had an account the inviter may not see."""
    return _("%(name)s wurde eingeladen und erhält eine E-Mail.") % {
        "name": f"{first_name.strip()} {last_name.strip()}".strip()}


def _account_with_address(email: str) -> User | None:
    """The account that uses ``email`` as its login or as another of its addresses."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        address = EmailAddress.objects.select_related("user").filter(email__iexact=email).first()
        user = address.user if address else None
    return user


def _invitation_of_existing_account(*, actor: User, organisation: Organisation, existing: User,
                                    email: str, role: str, ip: str | None) -> None:
    """Somebody tries to invite an address that already has an account. Accounts are personal
    (000 §5), so nothing is created or changed. An inviter who may see that person is told; to
    anybody else the answer is the one of a new invitation (no account enumeration), and the
    account's holder learns by e-mail which organisation tried to invite them."""
    if User.objects.visible_to(actor).filter(pk=existing.pk).exists():
        raise ValidationError({"email": _("Für diese E-Mail-Adresse gibt es bereits ein Konto. "
                                          "Konten sind persönlich und nicht übertragbar.")})
    audit_event_record(actor=actor, action="user.invitation_to_existing_account",
                       target=existing, organisation=organisation, ip=ip,
                       details={"role": role, "email": email})
    transaction.on_commit(partial(_send_existing_account_notice, existing.pk, email,
                                  organisation.name))


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
) -> User | None:
    """Create a personal account with a role and e-mail an invitation to set a password.

    Returns the new account, or ``None`` when the address already has an account that the
    inviter may not see (see ``_invitation_of_existing_account``): the inviter then gets the
    same answer as for a new invitation, so every check that could fail comes first.
    """
    _require_may_manage(actor, organisation)
    _require_may_give(actor, role)
    email = User.objects.normalize_email(email.strip()).lower()
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip(),
                language=language, invited_by=actor)
    user.set_unusable_password()
    user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    membership = Membership(organisation=organisation, role=role)
    membership.full_clean(exclude=["user"])
    existing = _account_with_address(email)
    if existing is not None:
        _invitation_of_existing_account(actor=actor, organisation=organisation,
                                        existing=existing, email=email, role=role, ip=ip)
        return None
    user.full_clean(exclude=["password"])
    user.save()
    membership.user = user
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
    organisation = _managed_organisation(actor, user)[0]
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


def _managed_organisation(actor: User, user: User,
                          ) -> tuple[Organisation | None, Membership | None]:
    """The organisation and membership of ``user``, after checking that ``actor`` may manage
    the organisation's people and ranks at least as high as ``user``."""
    membership = user.memberships.select_related("organisation").first()
    if membership is not None:
        _require_may_manage(actor, membership.organisation)
        require_may_act_on(actor=actor, target=user)
        return membership.organisation, membership
    if not actor.is_superuser:
        raise PermissionDenied(_("Sie haben keine Berechtigung für diese Aktion."))
    return None, None


@transaction.atomic
def user_deactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    """Revoke a person's access at once (003 §21.2): no login, every session ended."""
    organisation, membership = _managed_organisation(actor, user)
    if user.pk == actor.pk:
        raise ValidationError(_("Sie können sich nicht selbst deaktivieren."))
    if not user.is_active:
        raise ValidationError(_("Diese Person ist bereits deaktiviert."))
    if membership is not None:
        _require_not_last_provider_admin(membership)
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    ended = end_sessions(user)
    audit_event_record(actor=actor, action="user.deactivated", target=user,
                       organisation=organisation, ip=ip, details={"sessions_ended": ended})
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    """Give a deactivated person access again; like deactivating, only for people who do not
    rank above the actor (a deactivated provider admin or DPO is no business of staff)."""
    organisation = _managed_organisation(actor, user)[0]
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
    """Correct a person's name (accounts are personal; the e-mail address stays). Another
    person's name only if they do not rank above the actor: the logs identify people by it."""
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
    """Give a person another role in the same organisation (up to the actor's own rank, for a
    person who does not rank above the actor; never away from the last active provider admin)."""
    _require_may_manage(actor, membership.organisation)
    if membership.user_id == actor.pk:
        raise ValidationError(_("Sie können Ihre eigene Rolle nicht ändern."))
    require_may_act_on(actor=actor, target=membership.user)
    _require_may_give(actor, role)
    if ROLE_KIND.get(role) != membership.organisation.kind:
        raise ValidationError({"role": _("Diese Rolle passt nicht zur Art der Organisation.")})
    previous = membership.role
    if previous == role:
        return membership
    _require_not_last_provider_admin(membership)
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
    checked). The target is the account if one exists for the address; the typed address
    itself is not kept, because for an unknown one it is personal data of someone who has no
    account here (often a typo of another person's address), ADR 0003."""
    user = User.objects.filter(email__iexact=email.strip()).first() if email else None
    audit_event_record(actor=None, action="auth.login_failed", target=user, ip=ip,
                       details={"known_account": user is not None, "rate_limited": rate_limited})
