"""The personal data the portal core holds, and that of the third-party apps it runs (allauth,
django-otp, the Django admin), registered in the privacy registry (portal/privacy.py).

Imported by portal/plugins.py. Other core modules with personal data (documents,
notifications) append their own ``register(...)`` block here.

Decisions per entry, in short (each entry's ``why`` says more; docs/privacy.md lists them all):

- The person's account is pseudonymised, not deleted: bookings, contracts and the audit trail
  keep pointing to a row that no longer says who it was, and cannot log in.
- Sessions, e-mail addresses, second factors and memberships are deleted.
- Audit trail: the events stay (accountability, Art. 5(2) DSGVO, for
  ``PORTAL_AUDIT_RETENTION_YEARS``), the person does not: erasure and purge replace them by
  their account's pseudonym and redact their e-mail and name (ADR 0016).
- Access log: on erasure the rows stay for their 90 days (the evidence of who accessed
  personal data, AVV TOM d) without IP address and browser; deleted with the customer at the
  purge.
- Legal holds: none of these entries can be held record by record (``holdable=False``): their
  strategies work on the person, the trail or the whole customer rather than on the rows they
  are given, and the access log and the audit trail are deleted by their own jobs. A hold of
  the whole customer keeps them all (gdpr/services/holds.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf
from django.utils import timezone

from portal.audit_retention import audit_retention
from portal.privacy import (
    DELETE,
    INVOICE_RETENTION,
    RETAIN,
    Category,
    Outcome,
    PrivacyEntry,
    Retention,
    days,
    delete_in_batches,
    exempt,
    json_rows,
    mentions,
    person_identifiers,
    pseudonymise,
    register,
)

#: The pseudonym an erased account keeps: stable (it is derived from the id), unique, and an
#: address that can never receive mail (RFC 2606 reserves ``.invalid``).
PSEUDONYM_EMAIL = Concat(Value("geloescht-"), Cast("pk", CharField()), Value("@invalid.invalid"))


def pseudonym_email(pk: int) -> str:
    """:data:`PSEUDONYM_EMAIL` of the account ``pk``, in Python: the audit trail writes the
    same text into the events of the person (ADR 0016)."""
    return f"geloescht-{pk}@invalid.invalid"


#: Derived from PORTAL_AUDIT_RETENTION_YEARS (portal/audit_retention.py).
AUDIT_RETENTION = audit_retention()
ACCESS_LOG_RETENTION = Retention(
    basis="Art. 32 DSGVO, AVV TOM d (Zugriffskontrolle)",
    period=days(settings.ACCESS_LOG_RETENTION_DAYS), starts="Zugriff")


def members_of(customer, lookup: str = "memberships__organisation") -> Q:
    return Q(**{lookup: customer})


def _member_ids(customer) -> list[int]:
    from portal.models import Membership

    return list(Membership.objects.filter(organisation=customer).values_list("user_id",
                                                                            flat=True))


def _account_pseudonymise(entry, rows, *, subject, actor) -> Outcome:
    """Overwrite name and address with the pseudonym, make the account unusable, drop its
    groups and permissions."""
    user_model = rows.model
    ids = list(rows.values_list("pk", flat=True))
    user_model.groups.through.objects.filter(user_id__in=ids).delete()
    user_model.user_permissions.through.objects.filter(user_id__in=ids).delete()
    count = user_model._default_manager.filter(pk__in=ids).update(
        email=PSEUDONYM_EMAIL, first_name="", last_name="", password=make_password(None),
        is_active=False, is_staff=False, is_superuser=False, last_login=None, invited_by=None,
        deactivated_at=timezone.now())
    return Outcome(entry.model, pseudonymised=count)


register(PrivacyEntry(
    model="portal.User",
    fields={"email": Category.CONTACT, "first_name": Category.IDENTITY,
            "last_name": Category.IDENTITY, "password": Category.CREDENTIAL,
            "last_login": Category.USAGE, "invited_by": Category.REFERENCE},
    export_fields=("pk", "email", "first_name", "last_name", "language", "date_joined",
                   "last_login", "deactivated_at", "invited_by"),
    person=lambda user: Q(pk=user.pk),
    customer=members_of,
    erase=_account_pseudonymise,
    purge=_account_pseudonymise,
    order=900,
    holdable=False,
    why="Pseudonymised, not deleted: retained bookings and the audit trail keep a valid "
        "reference that no longer names the person; the account cannot log in any more.",
))

register(PrivacyEntry(
    model="portal.Membership",
    fields={"user": Category.REFERENCE, "role": Category.CONTRACT},
    export_fields=("pk", "organisation__name", "role", "created_at"),
    person=lambda user: Q(user=user),
    customer=lambda customer: Q(organisation=customer),
    # Last: the purge finds the customer's people (their account, sessions, addresses,
    # second factors) through these memberships.
    erase=DELETE, purge=DELETE, order=1100,
    holdable=False,
    why="The role in an organisation ends with the account.",
))

register(PrivacyEntry(
    model="portal.PersonSession",
    fields={"user_id": Category.REFERENCE, "session_data": Category.ONLINE_ID},
    # The session key is a secret that logs in: never exported.
    export_fields=("expire_date",),
    person=lambda user: Q(user_id=user.pk),
    customer=lambda customer: Q(user_id__in=_member_ids(customer)),
    erase=DELETE, purge=DELETE, order=10,
    holdable=False,
    why="Deleting the sessions logs the person out everywhere.",
))

def _former_names(user) -> tuple[set[str], set[str]]:
    """What named ``user`` in the trail before, as (identifiers, words): the addresses their
    events were taken under (``actor_label``), the addresses the events about their account
    recorded (an e-mail change, an invitation) and the names of a name correction, whole and
    as single words. The current ones come from the account; the pseudonym and 'system' are
    none."""
    from portal.models import AuditEvent
    from portal.services.audit import SYSTEM

    found = set(AuditEvent.objects.filter(actor=user).values_list("actor_label", flat=True)
                .distinct())
    words = {user.first_name, user.last_name}
    about = AuditEvent.objects.filter(
        target_type="portal.user", target_id=str(user.pk),
        action__in=("user.email_changed", "user.email_removed", "user.invited",
                    "user.invitation_to_existing_account", "user.updated"))
    for details in about.values_list("details", flat=True):
        details = details if isinstance(details, dict) else {}
        found |= {details.get(key) for key in ("old", "new", "email")}
        for key in ("before", "after"):
            names = details.get(key)
            if isinstance(names, dict):
                parts = [names.get("first_name"), names.get("last_name")]
                found.add(" ".join(part for part in parts if isinstance(part, str) and part))
                words |= set(parts)
    return ({text for text in found if isinstance(text, str) and len(text) >= 3
             and text != SYSTEM and not text.endswith("@invalid.invalid")},
            {word for word in words if isinstance(word, str) and len(word.strip()) >= 2})


def trail_pseudonym(user):
    """The account ``user`` as the audit trail's pseudonymisation takes it out: the account's
    pseudonym, and every text that named them (current and former)."""
    from portal.models.audit import PersonPseudonym

    former, words = _former_names(user)
    pseudonym = pseudonym_email(user.pk)
    identifiers = {text for text in person_identifiers(user) if text != pseudonym} | former
    return PersonPseudonym(user_id=user.pk, pseudonym=pseudonym,
                           identifiers=tuple(sorted(identifiers)),
                           own_words=tuple(sorted(word.strip() for word in words)))


def _audit_pseudonymise(entry, rows, *, subject, actor) -> Outcome:
    """Keep the person's events, not the person: their account's pseudonym as actor and
    target, no IP address, their e-mail addresses and names redacted from every event."""
    from portal.models import AuditEvent

    touched = AuditEvent.objects.all().pseudonymise_people([trail_pseudonym(subject)])
    return Outcome(entry.model, pseudonymised=touched)


def _audit_purge(entry, rows, *, subject, actor) -> Outcome:
    """Keep the customer's events for their retention; every member is pseudonymised in the
    whole trail, and the company's name in the customer's events becomes its customer number
    (the tombstone's name)."""
    from portal.models import AuditEvent, User

    people = [trail_pseudonym(user) for user in
              User.objects.filter(pk__in=_member_ids(subject)).order_by("pk")]
    touched = AuditEvent.objects.all().pseudonymise_people(people)
    tombstone = subject.customer_number or f"#{subject.pk}"
    if len(subject.name) >= 3 and subject.name != tombstone:
        AuditEvent.objects.filter(
            Q(organisation=subject)
            | Q(target_type="portal.organisation", target_id=str(subject.pk))
        ).pseudonymise_people((), substitutions=[(subject.name, tombstone)])
    return Outcome(entry.model, pseudonymised=touched, retained=rows.count(),
                   retention=entry.retention)


register(PrivacyEntry(
    model="portal.AuditEvent",
    fields={"actor": Category.REFERENCE, "actor_label": Category.CONTACT,
            "target_repr": Category.IDENTITY, "ip_address": Category.ONLINE_ID,
            "details": Category.FREE_TEXT},
    export_fields=("pk", "created_at", "action", "actor_label", "target_type", "target_id",
                   "target_repr", "ip_address", "details"),
    person=lambda user: (Q(actor=user) | Q(target_type="portal.user", target_id=str(user.pk))
                         | mentions(user, "target_repr", "details")),
    customer=lambda customer: Q(organisation=customer),
    erase=_audit_pseudonymise, purge=_audit_purge, retention=AUDIT_RETENTION,
    # Before portal.User (900): the names and addresses to redact are read from the accounts
    # (and the trail) before the accounts are pseudonymised.
    order=890,
    holdable=False,
    why="The evidence of who changed what (ADR 0016): the events stay for their retention, "
        "the person does not. Erasure and purge give the person's events their account's "
        "pseudonym (geloescht-<id>@invalid.invalid) as actor and target, clear the IP "
        "address, and redact their e-mail addresses and names from every event; the "
        "reference to the (pseudonymised) account stays. At the purge the company's name "
        "becomes its customer number. The daily job portal.purge_audit_trail deletes events "
        "PORTAL_AUDIT_RETENTION_YEARS after the end of their calendar year.",
))

register(PrivacyEntry(
    model="portal.AccessLogEntry",
    fields={"user": Category.REFERENCE, "ip_address": Category.ONLINE_ID,
            "user_agent": Category.ONLINE_ID, "path": Category.USAGE},
    export_fields=("pk", "created_at", "method", "path", "status_code", "is_download",
                   "ip_address", "user_agent"),
    person=lambda user: Q(user=user),
    # The members' own rows too, wherever they were logged (the account is pseudonymised).
    customer=lambda customer: Q(organisation=customer) | Q(user_id__in=_member_ids(customer)),
    erase=pseudonymise(lambda user: {"ip_address": None, "user_agent": ""}),
    purge=DELETE, retention=ACCESS_LOG_RETENTION, order=890,
    holdable=False,
    why="On erasure the rows stay for their 90 days (who accessed personal data is the "
        "evidence the log exists for) but lose IP address and browser; the reference to the "
        "pseudonymised account stays. The daily purge_access_log job deletes them after "
        "ACCESS_LOG_RETENTION_DAYS; at the customer purge they are deleted with the customer.",
))


def _organisation_tombstone(entry, rows, *, subject, actor) -> Outcome:
    """Replace the name by the customer number (or ``#<id>``), clear address and VAT ID,
    detach the partner, deactivate and mark it purged: a tombstone that retained records
    still point to, restricted to the DPO from now on (portal/tenancy.py)."""
    count = rows.update(
        name=Coalesce(NullIf("customer_number", Value("")),
                      Concat(Value("#"), Cast("pk", CharField()))),
        street="", postal_code="", city="", vat_id="", partner=None, is_active=False,
        purged_at=timezone.now())
    return Outcome(entry.model, pseudonymised=count)


register(PrivacyEntry(
    model="portal.Organisation",
    fields={"name": Category.IDENTITY, "street": Category.CONTACT,
            "postal_code": Category.CONTACT, "city": Category.CONTACT},
    export_fields=("pk", "name", "street", "postal_code", "city", "country", "vat_id",
                   "customer_number"),
    person=lambda user: Q(memberships__user=user),
    customer=lambda customer: Q(pk=customer.pk),
    erase=RETAIN, purge=_organisation_tombstone, retention=INVOICE_RETENTION, order=1000,
    holdable=False,
    why="The company, not the person (a sole trader's name may identify one): master data of "
        "the invoices, kept on erasure. At the purge it becomes a tombstone (ADR 0017): the "
        "customer number stays so that retained records keep a valid reference.",
))



def _addressed_to(user) -> Q:
    return Q(recipient=user) | Q(email__iexact=user.email)


_NOTIFICATION_EXPORT = ("pk", "created_at", "event", "template", "email", "language", "state",
                        "sent_at", "context", "actor", "recipient")


def _notifications_export(entry, rows, *, subject) -> list[dict]:
    """The person's own e-mails in full; of the e-mails their actions caused to others only
    what happened, not to whom (another person's address is not theirs to receive)."""
    own = rows.filter(_addressed_to(subject))
    return (json_rows(own, _NOTIFICATION_EXPORT)
            + json_rows(rows.exclude(pk__in=own.values("pk")), ("pk", "created_at", "event",
                                                                "actor")))


def _notifications_erase(entry, rows, *, subject, actor) -> Outcome:
    """The person's own outbox rows go (queued ones are not sent any more); on the rows of
    e-mails their actions caused to others, the reference to them is cleared."""
    per_model = delete_in_batches(rows.filter(_addressed_to(subject)))
    cleared = rows.filter(actor=subject).update(actor=None)
    return Outcome(entry.model, deleted=per_model.get(entry.model, 0), pseudonymised=cleared)


register(PrivacyEntry(
    model="portal.Notification",
    fields={"recipient": Category.REFERENCE, "actor": Category.REFERENCE,
            "email": Category.CONTACT, "last_error": Category.FREE_TEXT},
    not_personal={"context": "ids of the rows the e-mail is built from and flags, no text "
                             "(portal/notifications/service.py notify())",
                  "document_ids": "ids of attached documents (registered on their own)"},
    export=_notifications_export,
    person=lambda user: _addressed_to(user) | Q(actor=user),
    customer=lambda customer: (Q(customer=customer)
                               | Q(recipient__memberships__organisation=customer)),
    erase=_notifications_erase, purge=DELETE, order=600,
    holdable=False,
    why="The outbox keeps ids, not the text of an e-mail, so it is no copy of a business "
        "letter (§ 257 HGB): what was confirmed lives in the bookings, contracts and "
        "documents, each with its own retention, and the audit event notification.sent "
        "(retained with the audit trail) proves the delivery. No retention of its own, "
        "therefore: erasure deletes the person's e-mails and clears them as the cause of "
        "others', the purge deletes the customer's. Sent rows are not yet cleaned up "
        "automatically; issue 11 adds the job.",
))

def _log_entries_about_people(user_ids: list[int]) -> Q:
    from django.contrib.contenttypes.models import ContentType

    from portal.models import User

    return Q(content_type=ContentType.objects.get_for_model(User),
             object_id__in=[str(pk) for pk in user_ids])


register(PrivacyEntry(
    model="admin.LogEntry",
    fields={"user": Category.REFERENCE, "object_repr": Category.IDENTITY,
            "change_message": Category.FREE_TEXT},
    not_personal={"object_id": "the id of the changed row"},
    export_fields=("pk", "action_time", "content_type__model", "object_id", "object_repr",
                   "action_flag", "change_message"),
    person=lambda user: Q(user=user) | _log_entries_about_people([user.pk]),
    customer=lambda customer: (Q(user__memberships__organisation=customer)
                               | _log_entries_about_people(_member_ids(customer))),
    erase=DELETE, purge=DELETE, order=700,
    holdable=False,
    why="The Django admin's own history; every admin change is also in the audit trail "
        "(portal/admin/base.py), which is the record that is kept.",
))

register(PrivacyEntry(
    model="account.EmailAddress",
    fields={"user": Category.REFERENCE, "email": Category.CONTACT},
    export_fields=("pk", "email", "verified", "primary"),
    person=lambda user: Q(user=user),
    customer=lambda customer: members_of(customer, "user__memberships__organisation"),
    erase=DELETE, purge=DELETE, order=20,
    holdable=False,
    why="allauth's copy of the login address; deleted (its confirmations go with it).",
))

register(PrivacyEntry(
    model="account.EmailConfirmation",
    fields={"email_address": Category.REFERENCE, "key": Category.CREDENTIAL},
    export_fields=("pk", "created", "sent"),  # the key confirms an address: never exported
    person=lambda user: Q(email_address__user=user),
    customer=lambda customer: members_of(
        customer, "email_address__user__memberships__organisation"),
    erase=DELETE, purge=DELETE, order=15,
    holdable=False,
    why="Pending confirmations of an address; deleted.",
))

_OTP_EXPORT = ("pk", "name", "confirmed", "created_at", "last_used_at")

for _label, _secret, _why in (
        ("otp_totp.TOTPDevice", {"key": Category.CREDENTIAL},
         "The person's authenticator app (its secret key); deleted."),
        ("otp_static.StaticDevice", {},
         "The person's backup codes device; deleted (its tokens go with it).")):
    register(PrivacyEntry(
        model=_label,
        fields={"user": Category.REFERENCE, "name": Category.CREDENTIAL, **_secret},
        export_fields=_OTP_EXPORT,  # the secret itself is never exported
        person=lambda user: Q(user=user),
        customer=lambda customer: members_of(customer, "user__memberships__organisation"),
        erase=DELETE, purge=DELETE, order=20,
        holdable=False,
        why=_why,
    ))


def _export_token_count(entry, rows, *, subject) -> list[dict]:
    """How many backup codes are left per device, never the codes."""
    from django.db.models import Count

    return list(rows.order_by("device").values("device").annotate(tokens=Count("pk")))


register(PrivacyEntry(
    model="otp_static.StaticToken",
    fields={"token": Category.CREDENTIAL},
    export=_export_token_count,
    person=lambda user: Q(device__user=user),
    customer=lambda customer: members_of(customer, "device__user__memberships__organisation"),
    erase=DELETE, purge=DELETE, order=15,
    holdable=False,
    why="Backup codes of the person's second factor; deleted.",
))

exempt("auth.Permission", "names of permissions, not of people")
exempt("auth.Group", "names of permission groups (roles), not of people")
for _label in ("django_q.Task", "django_q.Success", "django_q.Failure", "django_q.Schedule",
               "django_q.OrmQ"):
    exempt(_label, "django-q2 job records: jobs take ids only (DESIGN 6), never names, "
                   "addresses or text; results are capped by Q_CLUSTER save_limit")

