"""A person's credentials: password and e-mail changes, re-authentication, session timeouts,
and the e-mail notice that goes out for every change of a factor or a credential."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.mail import send_templated_mail
from portal.models import User
from portal.services.audit import audit_event_record

ADVICE_OWN_CHANGE = gettext_lazy(
    "Wenn Sie das nicht waren, ist Ihr Konto möglicherweise in fremden Händen: Setzen Sie "
    "sofort über „Passwort vergessen?“ auf der Anmeldeseite ein neues Passwort und bitten "
    "Sie den Administrator Ihres Anbieters, Ihre Zwei-Faktor-Anmeldung zurückzusetzen und "
    "alle Sitzungen zu beenden.")
ADVICE_EMAIL_CHANGED = gettext_lazy(
    "Wenn Sie das nicht waren, wenden Sie sich bitte sofort an den Administrator Ihres "
    "Anbieters: Links zum Zurücksetzen des Passworts gehen jetzt an die neue Adresse.")
ADVICE_ADMIN_RESET = gettext_lazy(
    "Wenn Sie das nicht veranlasst haben, wenden Sie sich bitte sofort an den Administrator "
    "Ihres Anbieters und melden Sie sich erst danach wieder an.")


@dataclass(frozen=True)
class SecurityNotice:
    """What the notice of one audit action says; ``summary`` may use the event's details."""

    subject: Promise
    summary: Promise
    advice: Promise = ADVICE_OWN_CHANGE
    link_url_name: str = "portal:security"


#: One notice per audit action that changes a factor or a credential.
SECURITY_NOTICES: dict[str, SecurityNotice] = {
    "mfa.enrolled": SecurityNotice(
        gettext_lazy("Neue Authenticator-App an Ihrem Konto"),
        gettext_lazy("Zu Ihrem Konto wurde die Authenticator-App „%(device)s“ hinzugefügt. "
                     "Ihre Codes gelten ab jetzt für die Anmeldung.")),
    "mfa.device_removed": SecurityNotice(
        gettext_lazy("Authenticator-App von Ihrem Konto entfernt"),
        gettext_lazy("Die Authenticator-App „%(device)s“ wurde von Ihrem Konto entfernt; "
                     "ihre Codes gelten nicht mehr.")),
    "mfa.backup_codes_regenerated": SecurityNotice(
        gettext_lazy("Neue Backup-Codes für Ihr Konto"),
        gettext_lazy("Für Ihr Konto wurden neue Backup-Codes erzeugt. Die bisherigen "
                     "Backup-Codes gelten nicht mehr.")),
    "user.password_changed": SecurityNotice(
        gettext_lazy("Ihr Passwort wurde geändert"),
        gettext_lazy("Das Passwort Ihres Kontos wurde geändert.")),
    "user.password_reset": SecurityNotice(
        gettext_lazy("Ihr Passwort wurde neu gesetzt"),
        gettext_lazy("Das Passwort Ihres Kontos wurde über „Passwort vergessen?“ neu "
                     "gesetzt.")),
    "user.email_changed": SecurityNotice(
        gettext_lazy("Die E-Mail-Adresse Ihres Kontos wurde geändert"),
        gettext_lazy("Die E-Mail-Adresse Ihres Kontos wurde von %(old)s in %(new)s "
                     "geändert. Nachrichten des Portals gehen ab jetzt an %(new)s."),
        ADVICE_EMAIL_CHANGED),
    "user.email_removed": SecurityNotice(
        gettext_lazy("E-Mail-Adresse von Ihrem Konto entfernt"),
        gettext_lazy("Die E-Mail-Adresse %(email)s wurde von Ihrem Konto entfernt.")),
    "mfa.reset": SecurityNotice(
        gettext_lazy("Ihre Zwei-Faktor-Anmeldung wurde zurückgesetzt"),
        gettext_lazy("Ein Administrator Ihres Anbieters hat alle Authenticator-Apps und "
                     "Backup-Codes Ihres Kontos entfernt und Ihre Sitzungen beendet. Bei der "
                     "nächsten Anmeldung richten Sie die Zwei-Faktor-Anmeldung neu ein."),
        ADVICE_ADMIN_RESET, "account_login"),
}


def security_notice_context(*, user: User, action: str, when: datetime, details: dict | None = None,
                            ip: str | None = None) -> dict:
    """What the ``security_notice`` e-mail of ``action`` says, in the person's language (also
    used by the notification rule of an MFA reset, which the outbox sends)."""
    notice = SECURITY_NOTICES[action]
    with translation.override(user.language):
        return {
            "user": user, "when": when, "ip": ip,
            "subject": str(notice.subject),
            "summary": str(notice.summary) % (details or {}),
            "advice": str(notice.advice),
            "link": f"{settings.PORTAL_BASE_URL}{reverse(notice.link_url_name)}",
        }


def _send_security_notice(user_id: int, action: str, recipients: tuple[str, ...],
                          details: dict, ip: str | None, when: datetime) -> None:
    user = User.objects.get(pk=user_id)
    context = security_notice_context(user=user, action=action, when=when, details=details,
                                      ip=ip)
    for address in recipients:
        send_templated_mail(to=address, template="security_notice", context=context,
                            language=user.language)


def security_notice_on_commit(*, user: User, action: str, details: dict | None = None,
                              ip: str | None = None, to: tuple[str, ...] = ()) -> None:
    """E-mail the person about ``action`` once the transaction commits (to ``user.email``
    unless other addresses are given)."""
    if action not in SECURITY_NOTICES:
        raise KeyError(f"no security notice for {action!r}")
    recipients = tuple(dict.fromkeys(to or (user.email,)))
    transaction.on_commit(partial(_send_security_notice, user.pk, action, recipients,
                                  dict(details or {}), ip, timezone.now()))


@transaction.atomic
def user_password_change(*, actor: User, user: User, password: str, reset: bool = False,
                         ip: str | None = None) -> None:
    """Set a person's own new password (the change page, or a reset link from an e-mail)."""
    if actor.pk != user.pk:
        raise PermissionDenied(_("Sie können nur Ihr eigenes Passwort ändern."))
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    action = "user.password_reset" if reset else "user.password_changed"
    audit_event_record(actor=actor, action=action, target=user, ip=ip)
    security_notice_on_commit(user=user, action=action, ip=ip)


@transaction.atomic
def user_email_change_record(*, actor: User, old_email: str, new_email: str,
                             ip: str | None = None) -> None:
    """allauth made another verified address the primary one; both addresses are told."""
    details = {"old": old_email, "new": new_email}
    audit_event_record(actor=actor, action="user.email_changed", target=actor, ip=ip,
                       details=details)
    security_notice_on_commit(user=actor, action="user.email_changed", details=details, ip=ip,
                              to=(old_email, new_email))


@transaction.atomic
def user_email_remove_record(*, actor: User, email: str, ip: str | None = None) -> None:
    """allauth removed a secondary address; the primary one is told."""
    details = {"email": email}
    audit_event_record(actor=actor, action="user.email_removed", target=actor, ip=ip,
                       details=details)
    security_notice_on_commit(user=actor, action="user.email_removed", details=details, ip=ip)


@transaction.atomic
def reauthentication_record(*, actor: User, succeeded: bool, method: str,
                            ip: str | None = None) -> None:
    """A password-and-code confirmation before a security change, or a failed one."""
    audit_event_record(actor=actor, target=actor, ip=ip, details={"method": method},
                       action="auth.reauthenticated" if succeeded else "auth.reauth_failed")


@transaction.atomic
def session_timeout_record(*, actor: User, reason: str, ip: str | None = None,
                           details: dict | None = None) -> None:
    """The session ended without a logout: ``idle`` or ``absolute`` (its maximum age)."""
    audit_event_record(actor=actor, action="auth.session_timeout", target=actor, ip=ip,
                       details={"reason": reason, **(details or {})})
