"""The append-only audit trail and the access log of page views and downloads.

The trail is append-only with exactly two deliberate exceptions (ADR 0016), each an explicit
queryset method that goes around the refusal on purpose:

- :meth:`AuditEventQuerySet.pseudonymise_people`: erasure of a person (Art. 17 DSGVO) and the
  purge of a customer keep the events but not the person;
- :meth:`AuditEventQuerySet.purge_expired`: events past the audit trail's retention go.

``save()`` of a stored event, ``update()`` and ``delete()`` keep refusing everything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_label
from portal.tenancy import TenantManager, TenantQuerySet


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@dataclass(frozen=True)
class PersonPseudonym:
    """A person to take out of the trail: their account's id, the pseudonym the account gets
    (the same text, so an event still says *which* account acted, not who that was) and the
    texts that named them (e-mail addresses and full names, current and former)."""

    user_id: int
    pseudonym: str
    identifiers: tuple[str, ...]
    #: Words that name the person only in context (a first or a last name alone, e.g. in the
    #: details of a name correction): redacted as whole words in the events they took or that
    #: are about their account, nowhere else (another "Jürgen" is someone else).
    own_words: tuple[str, ...] = ()


#: The fields of an event that can name a person in free text.
_TEXT_FIELDS = ("actor_label", "target_repr", "details")


def _substitute(value: Any, pairs: Sequence[tuple[str, str]], *, words: bool = False) -> Any:
    """``value`` (text, or JSON of lists, dicts and text) with each text of ``pairs`` replaced
    by its replacement, case-insensitively (``words``: only as a whole word); dict keys stay
    (they are the declared detail keys, portal/audit_actions.py)."""
    if isinstance(value, str):
        for text, replacement in pairs:
            pattern = rf"(?<!\w){re.escape(text)}(?!\w)" if words else re.escape(text)
            value = re.sub(pattern, lambda _m, r=replacement: r, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_substitute(item, pairs, words=words) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, pairs, words=words) for key, item in value.items()}
    return value


def _naming(texts: Iterable[str]) -> models.Q:
    """Events whose free-text fields contain one of ``texts`` (case-insensitive). A JSON field
    may store "Müller" as ``M\\u00fcller`` (SQLite keeps Django's ASCII-escaped JSON text), so
    that form is searched as well (like portal.privacy.mentions)."""
    condition = models.Q(pk__in=[])
    for text in texts:
        for form in {text, json.dumps(text)[1:-1]}:
            for name in _TEXT_FIELDS:
                condition |= models.Q(**{f"{name}__icontains": form})
    return condition


class AuditEventQuerySet(TenantQuerySet):
    """No bulk updates or deletes either: the trail only grows, except through the two
    methods below (ADR 0016)."""

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")

    def _unguarded(self) -> models.QuerySet:
        """The same rows as a plain QuerySet whose ``update()`` and ``delete()`` are Django's:
        only the two exceptions below use it."""
        return models.QuerySet(self.model, query=self.query.chain(), using=self._db)

    def pseudonymise_people(self, people: Iterable[PersonPseudonym], *,
                            substitutions: Sequence[tuple[str, str]] = (),
                            batch_size: int = 500) -> int:
        """Exception (a) to append-only: keep these events but not the ``people``.

        On the events they took, ``actor_label`` becomes their pseudonym and ``ip_address``
        NULL; on events about their account, ``target_repr`` becomes the pseudonym (and the IP
        NULL when nobody was logged in, e.g. a failed login: the address was most likely
        theirs); their e-mail addresses and names are redacted from ``target_repr``,
        ``details`` and ``actor_label`` of every event in this queryset, whoever it is about
        (a data-subject request names the requester). ``substitutions`` are further
        (text, replacement) pairs, e.g. a purged company's name and its customer number. The
        ``actor`` reference stays: it points to the pseudonymised account.

        Returns how many of the events concerned the people or named a substituted text,
        counted before the change; memory stays flat (rows in batches of ``batch_size``)."""
        from portal.privacy_strategies import REDACTED

        people = list(people)
        pairs = sorted({(text, REDACTED) for p in people for text in p.identifiers
                        if text} | {(t, r) for t, r in substitutions if t},
                       key=lambda pair: -len(pair[0]))  # "Anna Müller" before "Anna"
        concerned = _naming(text for text, _r in pairs)
        for person in people:
            concerned |= models.Q(actor_id=person.user_id) | self._about(person)
        touched = self.filter(concerned).count()
        for person in people:
            self.filter(actor_id=person.user_id)._unguarded().update(
                actor_label=person.pseudonym, ip_address=None)
            self.filter(self._about(person))._unguarded().update(target_repr=person.pseudonym)
            self.filter(self._about(person), actor__isnull=True)._unguarded().update(
                ip_address=None)
        if pairs:
            self._redact(self.filter(_naming(text for text, _r in pairs)), pairs,
                         batch_size=batch_size)
        for person in people:
            if person.own_words:
                own = self.filter(models.Q(actor_id=person.user_id) | self._about(person))
                self._redact(own, [(word, REDACTED) for word in sorted(
                    person.own_words, key=len, reverse=True)], batch_size=batch_size,
                    words=True)
        return touched

    @staticmethod
    def _about(person: PersonPseudonym) -> models.Q:
        return models.Q(target_type="portal.user", target_id=str(person.user_id))

    def _redact(self, rows: models.QuerySet, pairs: Sequence[tuple[str, str]], *,
                batch_size: int, words: bool = False) -> None:
        rows = rows.order_by("pk").only("pk", *_TEXT_FIELDS)
        plain = models.QuerySet(self.model, using=self._db)
        batch: list[AuditEvent] = []
        for event in rows.iterator(chunk_size=batch_size):
            before = [getattr(event, name) for name in _TEXT_FIELDS]
            for name in _TEXT_FIELDS:
                setattr(event, name, _substitute(getattr(event, name), pairs, words=words))
            if [getattr(event, name) for name in _TEXT_FIELDS] != before:
                event.target_repr = event.target_repr[:255]
                event.actor_label = event.actor_label[:254]
                batch.append(event)
            if len(batch) >= batch_size:
                plain.bulk_update(batch, _TEXT_FIELDS)
                batch = []
        if batch:
            plain.bulk_update(batch, _TEXT_FIELDS)

    def purge_expired(self, *, before: datetime, batch_size: int = 1000) -> int:
        """Exception (b) to append-only: delete the events created before ``before`` (the
        caller computes it from the retention, portal/audit_retention.py), in batches of
        ``batch_size`` ids so memory stays flat. Returns how many were deleted."""
        expired = self.filter(created_at__lt=before).order_by("pk").values_list("pk", flat=True)
        plain = models.QuerySet(self.model, using=self._db)
        deleted = 0
        while True:
            ids = list(expired[:batch_size])
            if not ids:
                return deleted
            count = plain.filter(pk__in=ids).delete()[0]
            deleted += count
            if len(ids) < batch_size or not count:
                return deleted


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor_label = models.CharField(
        _("Handelnde Person"), max_length=254, blank=True,
        help_text=_("E-Mail-Adresse zum Zeitpunkt der Handlung, oder 'system'."),
    )
    organisation = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    action = models.CharField(_("Aktion"), max_length=64, db_index=True)
    target_type = models.CharField(_("Objektart"), max_length=100, blank=True)
    target_id = models.CharField(_("Objekt-ID"), max_length=64, blank=True)
    target_repr = models.CharField(_("Objekt"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    details = models.JSONField(_("Details"), default=dict, blank=True)

    objects = models.Manager.from_queryset(AuditEventQuerySet)()
    tenant_lookup = "organisation"

    class Meta:
        verbose_name = _("Audit-Ereignis")
        verbose_name_plural = _("Audit-Ereignisse")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        # Shown as the admin's page title: local time (Europe/Berlin), and the action's label.
        when = timezone.localtime(self.created_at) if self.created_at else None
        return " ".join(part for part in (f"{when:%d.%m.%Y %H:%M}" if when else "",
                                          audit_action_label(self.action),
                                          self.target_repr) if part)

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")


class AccessLogEntry(models.Model):
    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Person"), null=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    organisation = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    method = models.CharField(_("Methode"), max_length=8)
    path = models.CharField(_("Pfad"), max_length=500)
    view_name = models.CharField(_("Seite"), max_length=200, blank=True)
    status_code = models.PositiveSmallIntegerField(_("Status"))
    is_download = models.BooleanField(_("Download"), default=False)
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    user_agent = models.CharField(_("Browser"), max_length=300, blank=True)

    objects = TenantManager()
    tenant_lookup = "organisation"

    class Meta:
        verbose_name = _("Zugriffsprotokoll")
        verbose_name_plural = _("Zugriffsprotokoll")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.method} {self.path}"
