"""The personal-data registry (DESIGN "Personal data registry"): every model that holds personal
data declares here, once, what it holds and how the portal exports, erases and purges it.

Why a registry: data-subject requests (export Art. 15/20, erasure Art. 17) and the purge eight
weeks after a contract ends (DOMAIN §5) must reach every personal datum, and nothing under a
legal retention duty may be lost. If each request had its own list of tables, a new model would
silently escape all of them; here a test walks every model and fails when one that can hold
personal data is neither registered nor exempted with a reason (:func:`unregistered_models`).

An entry names its model (``"devices.Device"``) and:

- ``fields``: the personal fields and their :class:`Category`;
- ``person`` / ``customer``: which rows concern a person, or belong to a customer (``Q``);
- ``export``: rows of the person, JSON-serialisable (default: the declared fields);
- ``erase``: what erasure for a person does to those rows, ``purge``: what the end-of-contract
  purge does to the customer's rows. Both are strategies ``(entry, rows, *, subject, actor)
  -> Outcome``: :data:`DELETE`, :func:`pseudonymise` (update with expressions), a custom
  callable, or :data:`RETAIN` when a law requires keeping the rows (then ``retention`` says
  the legal basis, the standard period and the event that starts it, DIN 66398 style). The
  strategies live in portal/privacy_strategies.py and are re-exported here.
- ``holdable``: whether a legal hold may name one of its rows (not where the strategies work
  on the person or the trail instead of the rows; then only the whole customer is held).

The drivers :func:`export_for_person`, :func:`erase_for_person` and :func:`purge_for_customer`
iterate the entries; gdpr/ (issue 11) adds requests, jobs and deletion certificates on top.
Feature apps register in ``<app>/privacy.py`` (autodiscovered), the core in
``portal/privacy_entries.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from portal.periods import Period
from portal.privacy_strategies import (
    DELETE,
    REDACTED,
    RETAIN,
    DeletionLedger,
    Outcome,
    Strategy,
    delete_in_batches,
    delete_unless_protected,
    deletion_ledger,
    erase_mentions,
    mentions,
    person_identifiers,
    protected_condition,
    pseudonymise,
    redact,
    strategy_label,
)
from portal.registries import Registry

__all__ = [
    "DELETE", "INVOICE_RETENTION", "REDACTED", "RETAIN", "Category", "DeletionLedger",
    "FileSink", "Outcome", "PrivacyEntry", "Retention", "Strategy", "days",
    "delete_files_after_commit", "delete_in_batches", "delete_unless_protected",
    "deletion_ledger", "entries", "erase_for_person", "erase_mentions", "exempt", "exemptions",
    "export_for_person", "json_rows", "mentions", "person_identifiers", "protected_condition",
    "pseudonymise", "purge_for_customer", "redact", "register", "strategy_label",
    "suspect_fields", "unregistered_models", "years",
]


class Category(models.TextChoices):
    """Kinds of personal data, after the categories of the AVV (DOMAIN §6)."""

    IDENTITY = "identity", _("Identität (Name)")
    CONTACT = "contact", _("Kontaktdaten (E-Mail, Anschrift)")
    ONLINE_ID = "online_id", _("Online-Kennung (IP-Adresse, Browser, Sitzung)")
    CREDENTIAL = "credential", _("Anmeldedaten (Passwort, zweiter Faktor)")
    REFERENCE = "reference", _("Verweis auf eine Person (wer hat gehandelt)")
    USAGE = "usage", _("Nutzungs- und Protokolldaten")
    FREE_TEXT = "free_text", _("Freitext (kann Personen nennen)")
    CONTRACT = "contract", _("Vertrags- und Abrechnungsdaten")


def years(count: int) -> Period:
    return Period(months=12 * count)


def days(count: int) -> Period:
    return Period(days=count)


@dataclass(frozen=True)
class Retention:
    """What must be kept, DIN 66398 style: legal basis, standard period, start event.

    ``at_year_end``: the period starts at the end of the calendar year of the start event
    (§ 147 Abs. 4 AO, § 257 Abs. 5 HGB)."""

    basis: str
    period: Period
    starts: str
    at_year_end: bool = False

    def ends_after(self, event: date) -> date:
        """The last day of the retention period for a record whose start event is ``event``."""
        start = date(event.year, 12, 31) if self.at_year_end else event
        return self.period.after(start)

    def __str__(self) -> str:
        return f"{self.basis}: {self.period} ab {self.starts}"


#: Issued invoices and the data behind them (DOMAIN §5): the customer's master data, the
#: bookings, the devices and contract they refer to.
INVOICE_RETENTION = Retention(
    basis="§ 147 Abs. 1 Nr. 4, Abs. 3 AO, § 257 Abs. 4 HGB, § 14b UStG (Rechnungen und die "
          "Buchungsdaten dahinter)",
    period=years(8), starts="Ende des Kalenderjahres der Rechnung", at_year_end=True)


@dataclass(frozen=True)
class PrivacyEntry:
    """The personal data of one model; see the module docstring. ``order``: erasure and
    purge run in ascending order, so rows that others protect (``on_delete=PROTECT``) or
    reference come last."""

    model: str
    fields: Mapping[str, Category]
    person: Callable[[Any], Q]
    erase: Strategy
    purge: Strategy
    customer: Callable[[Any], Q] | None = None
    retention: Retention | None = None
    export_fields: tuple[str, ...] | None = None
    #: ``export(entry, rows, *, subject)``: the rows as JSON types, when the declared
    #: ``export_fields`` are not enough (e.g. counts instead of secrets).
    export: Callable[..., list[dict]] | None = None
    files: Callable[[QuerySet], Iterable[str]] | None = None
    not_personal: Mapping[str, str] = field(default_factory=dict)
    order: int = 100
    why: str = ""
    #: A legal hold may name one row (see the module docstring; gdpr/services/holds.py).
    holdable: bool = True

    def __post_init__(self) -> None:
        if RETAIN in (self.erase, self.purge) and self.retention is None:
            raise ValueError(f"{self.model}: RETAIN needs a retention (legal basis, period)")
        if self.customer is None and self.purge is not RETAIN:
            raise ValueError(f"{self.model}: a purge needs the customer's rows (customer=)")

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows_of_person(self, user) -> QuerySet:
        return self._rows(self.person(user))

    def rows_of_customer(self, customer) -> QuerySet:
        if self.customer is None:
            return self.model_class._default_manager.none()
        return self._rows(self.customer(customer))

    def _rows(self, condition: Q) -> QuerySet:
        # A subquery instead of distinct(): conditions across relations may repeat a row, and
        # Django refuses delete() after distinct().
        manager = self.model_class._default_manager
        return manager.filter(pk__in=manager.filter(condition).values("pk"))

    def export_rows(self, user) -> list[dict]:
        rows = self.rows_of_person(user)
        if self.export is not None:
            return self.export(self, rows, subject=user)
        return json_rows(rows, self.export_fields or ("pk", *self.fields))


def json_rows(rows: QuerySet, fields: Iterable[str]) -> list[dict]:
    """``values(*fields)`` as plain JSON types (dates, decimals and UUIDs become strings)."""
    return json.loads(json.dumps(list(rows.order_by("pk").values(*fields)),
                                 cls=DjangoJSONEncoder))


entries: Registry[PrivacyEntry] = Registry(
    "privacy", key=lambda e: e.model, order=lambda e: (e.order, e.model))

#: Models that match the personal-data heuristics but hold none, with the reason.
exemptions: dict[str, str] = {}


def register(entry: PrivacyEntry) -> PrivacyEntry:
    """Add an entry; its model and fields must exist (a typo would hide a field)."""
    model = apps.get_model(entry.model)
    names = {f.name for f in model._meta.get_fields()}
    unknown = (set(entry.fields) | set(entry.not_personal)) - names
    if unknown:
        raise ValueError(f"{entry.model}: no such fields {sorted(unknown)}")
    if entry.model in exemptions:
        raise ValueError(f"{entry.model} is exempted and cannot be registered as well")
    return entries.register(entry)


def exempt(model: str, reason: str) -> None:
    """Declare that ``model`` holds no personal data although a field looks like it might."""
    apps.get_model(model)
    if model in exemptions or model in entries:
        raise ValueError(f"{model} is already registered or exempted")
    exemptions[model] = reason


# --- completeness ---------------------------------------------------------------------------

#: Field names that suggest personal data whatever their type.
PERSONAL_NAMES = frozenset({"name", "first_name", "last_name", "email", "ip", "ip_address",
                            "user_agent", "notes", "location", "comment"})
PERSONAL_TYPES = (models.EmailField, models.GenericIPAddressField, models.TextField,
                  models.JSONField)


def suspect_fields(model: type[models.Model]) -> list[str]:
    """Fields of ``model`` that can hold personal data: a reference to a person, an e-mail or
    IP address, a name-like field, free text or free structured data."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = []
    for f in model._meta.concrete_fields:
        if (f.name in PERSONAL_NAMES or isinstance(f, PERSONAL_TYPES)
                or (f.is_relation and f.related_model is user_model)):
            found.append(f.name)
    return found


def unregistered_models(app_labels: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Models with suspect fields that no entry declares (or explains in ``not_personal``),
    mapped to those fields. An exempted model is skipped as a whole."""
    missing: dict[str, list[str]] = {}
    for model in apps.get_models():
        label = model._meta.label
        if app_labels is not None and model._meta.app_label not in app_labels:
            continue
        if label in exemptions:
            continue
        suspects = suspect_fields(model)
        if label in entries:
            entry = entries.get(label)
            suspects = [f for f in suspects
                        if f not in entry.fields and f not in entry.not_personal]
        if suspects:
            missing[label] = suspects
    return missing


# --- drivers --------------------------------------------------------------------------------

# The audit codes privacy.person_erased and privacy.customer_purged (details: outcomes) are
# declared with the core's codes in portal/audit_actions.py.


def export_for_person(user) -> dict[str, list[dict]]:
    """Everything the registry holds about ``user``, per model label (Art. 15/20 DSGVO)."""
    return {entry.model: entry.export_rows(user) for entry in entries}


FileSink = Callable[[list[str]], None]


def delete_files_after_commit(paths: list[str]) -> None:
    """The default for stored files of deleted rows: delete them once the transaction has
    committed (a rolled-back purge must not lose files). gdpr/ passes a sink that also
    retries until the storage confirms."""
    from django.core.files.storage import default_storage

    if paths:
        transaction.on_commit(lambda: [default_storage.delete(p) for p in paths])


def _run(strategy_of: Callable[[PrivacyEntry], Strategy],
         rows_of: Callable[[PrivacyEntry], QuerySet], *, subject, actor,
         files: FileSink | None) -> list[Outcome]:
    outcomes = [strategy_of(entry)(entry, rows_of(entry), subject=subject, actor=actor)
                for entry in entries]
    (files or delete_files_after_commit)(
        [path for outcome in outcomes for path in outcome.files])
    return outcomes


def erase_for_person(user, *, actor, files: FileSink | None = None) -> list[Outcome]:
    """Erase (delete, pseudonymise or retain, per entry) what the registry holds about
    ``user`` in one transaction; the audit event keeps counts only. Refusals (the last admin of
    a running contract), the request workflow and the certificate are gdpr/'s."""
    from portal.services.audit import audit_event_record

    with transaction.atomic():
        outcomes = _run(lambda e: e.erase, lambda e: e.rows_of_person(user),
                        subject=user, actor=actor, files=files)
        user.refresh_from_db()
        audit_event_record(actor=actor, action="privacy.person_erased", target=user,
                           details={"outcomes": {o.model: o.as_dict() for o in outcomes}})
    return outcomes


def purge_for_customer(customer, *, actor, held: Mapping[str, Iterable[str]] | None = None,
                       files: FileSink | None = None) -> list[Outcome]:
    """Purge every entry's rows of ``customer`` in one transaction (all or nothing); stored
    files go after the commit. ``held``: ids per model label that a legal hold keeps out of
    the purge. When it is due (end + 57 days), customer-wide holds and the deletion
    certificate are gdpr/'s (gdpr/services/purge.py)."""
    from portal.services.audit import audit_event_record

    held = {label: list(ids) for label, ids in (held or {}).items() if ids}

    def rows_of(entry: PrivacyEntry) -> QuerySet:
        rows = entry.rows_of_customer(customer)
        return rows.exclude(pk__in=held[entry.model]) if entry.model in held else rows

    with transaction.atomic():
        outcomes = _run(lambda e: e.purge, rows_of, subject=customer, actor=actor,
                        files=files)
        customer.refresh_from_db()  # the tombstone: the event must not repeat the name
        audit_event_record(actor=actor, action="privacy.customer_purged", target=customer,
                           organisation=customer,
                           details={"outcomes": {o.model: o.as_dict() for o in outcomes},
                                    "held": {label: len(ids) for label, ids in held.items()}})
    return outcomes
