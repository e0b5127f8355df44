"""The strategies of the privacy registry (portal/privacy.py, the public API, re-exports them):
what erasure for a person or the purge for a customer does to one entry's rows, and what it
reports back (:class:`Outcome`, counts only).

A strategy is a callable ``(entry, rows, *, subject, actor) -> Outcome``; ``subject`` is the
person (erasure) or the customer (purge).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models
from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from portal.privacy import PrivacyEntry, Retention


@dataclass(frozen=True)
class Outcome:
    """What one strategy did to one entry's rows, in counts only: the deletion certificate
    (issue 11) lists it and must not repeat the data. ``files`` are storage paths the driver
    deletes after the commit (a rolled-back purge must not lose files)."""

    model: str
    deleted: int = 0
    pseudonymised: int = 0
    retained: int = 0
    retention: Retention | None = None
    files: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"deleted": self.deleted, "pseudonymised": self.pseudonymised,
                                "retained": self.retained, "files": len(self.files)}
        if self.retention is not None:
            data["retention"] = str(self.retention)
        return data


class Strategy(Protocol):
    def __call__(self, entry: PrivacyEntry, rows: QuerySet, *, subject: models.Model,
                 actor) -> Outcome: ...


def strategy_label(strategy: Strategy) -> str:
    """How the listing (``manage.py privacy_registry``) names a strategy: the label the
    factories below give it, or a custom function's name and the first line of its docstring."""
    label = getattr(strategy, "label", None)
    if label:
        return label
    doc = (strategy.__doc__ or "").strip().split("\n\n")[0]
    name = strategy.__name__.lstrip("_")
    return f"{name}: {' '.join(doc.split())}" if doc else name


def _labelled(strategy, label: str):
    strategy.label = label
    return strategy


class DeletionLedger:
    """The evidence of which rows a purge or an erasure deleted, without keeping them: a
    SHA-256 over the lines ``"<model label>:<pk>\n"`` in the order of deletion (entries in
    registry order, ids ascending within an entry) and their number. The deletion certificate
    prints the digest; whoever holds a backup can recompute it from the backup's rows."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, label: str, ids: Iterable) -> None:
        for pk in ids:
            self._hash.update(f"{label}:{pk}\n".encode())
            self.count += 1

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


_ledger: ContextVar[DeletionLedger | None] = ContextVar("privacy_deletion_ledger", default=None)


@contextmanager
def deletion_ledger() -> Iterator[DeletionLedger]:
    """Record the ids that :func:`delete_in_batches` deletes while the block runs."""
    ledger = DeletionLedger()
    token = _ledger.set(ledger)
    try:
        yield ledger
    finally:
        _ledger.reset(token)


#: Rows deleted per statement: the collector loads each batch (for cascades and signals), so
#: memory stays flat however many rows a customer has.
DELETE_BATCH = 2000


def delete_in_batches(rows: QuerySet) -> dict[str, int]:
    """``rows.delete()`` in batches of :data:`DELETE_BATCH` primary keys, ascending; the
    deleted ids go to the active :class:`DeletionLedger`. Returns the counts per model (with
    cascades), like ``QuerySet.delete()``."""
    counts: dict[str, int] = {}
    ledger = _ledger.get()
    label = rows.model._meta.label
    base = rows.model._base_manager
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:DELETE_BATCH])
        if not ids:
            return counts
        _total, per_model = base.filter(pk__in=ids).delete()
        for model, count in per_model.items():
            counts[model] = counts.get(model, 0) + count
        if ledger is not None:
            ledger.add(label, ids)


def protected_condition(rows: QuerySet) -> Q:
    """The rows of ``rows`` that another row protects (``on_delete=PROTECT``): generic over
    the protecting models, so an app need not import the app that protects its rows
    (contracts protect devices, devices may not import contracts)."""
    protected = Q(pk__in=[])
    # Hidden reverse relations (related_name="+") protect as well; ``related_objects`` would
    # leave them out, Django's deletion collector does not.
    relations = [f for f in rows.model._meta.get_fields(include_hidden=True)
                 if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)]
    for relation in relations:
        if relation.on_delete is models.PROTECT:
            protected |= Q(pk__in=relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": rows}).values(relation.field.name))
    return protected


def _delete(entry: PrivacyEntry, rows: QuerySet, *, subject, actor) -> Outcome:
    files = tuple(entry.files(rows)) if entry.files else ()
    per_model = delete_in_batches(rows)
    return Outcome(entry.model, deleted=per_model.get(entry.model, 0), files=files)


def _retain(entry: PrivacyEntry, rows: QuerySet, *, subject, actor) -> Outcome:
    return Outcome(entry.model, retained=rows.count(), retention=entry.retention)


#: Delete the rows (cascading to rows that hang off them).
DELETE: Strategy = _labelled(_delete, "DELETE")
#: Keep the rows unchanged: a law requires them (the entry's ``retention`` says which).
RETAIN: Strategy = _labelled(_retain, "RETAIN")


def pseudonymise(values: Callable[[models.Model], Mapping[str, Any]]) -> Strategy:
    """Overwrite the personal fields of the rows with ``values(subject)``: constants or
    expressions (``Value``, ``Concat(…, Cast("pk", …))``), applied in one UPDATE; the rows stay,
    so references to them (bookings, the audit trail) stay valid."""

    def strategy(entry: PrivacyEntry, rows: QuerySet, *, subject, actor) -> Outcome:
        return Outcome(entry.model, pseudonymised=rows.update(**values(subject)))

    return _labelled(strategy, "pseudonymise")


REDACTED = "[entfernt]"


def person_identifiers(user) -> list[str]:
    """What names a person in free text: the e-mail address and the full name. The last name
    alone would also hit companies ("Weber & Partner") and is not used."""
    return [text for text in (user.email, user.get_full_name()) if text and len(text) >= 3]


def mentions(user, *fields: str) -> Q:
    """Rows whose free-text ``fields`` name ``user`` (case-insensitive). A JSON field may
    store "Müller" as ``M\\u00fcller`` (SQLite keeps Django's ASCII-escaped JSON text), so
    that form is searched as well; in plain text it matches nothing. SQLite folds the case
    of ASCII letters only ("MÜLLER" does not find "Müller" there), PostgreSQL folds all."""
    condition = Q(pk__in=[])
    for text in person_identifiers(user):
        forms = {text, json.dumps(text)[1:-1]}
        for name in fields:
            for form in forms:
                condition |= Q(**{f"{name}__icontains": form})
    return condition


def redact(value: Any, identifiers: Iterable[str]) -> Any:
    """``value`` (text, or JSON made of lists, dicts and text) with every identifier replaced
    by ``[entfernt]``, case-insensitively."""
    if isinstance(value, str):
        for text in identifiers:
            value = re.sub(re.escape(text), REDACTED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [redact(item, identifiers) for item in value]
    if isinstance(value, dict):
        return {key: redact(item, identifiers) for key, item in value.items()}
    return value


def erase_mentions(*, references: Iterable[str] = (), free_text: Iterable[str] = ()
                   ) -> Strategy:
    """Erasure for rows that belong to someone else (a customer's device, a booking) but
    mention the person: references to the person become NULL, the person's e-mail address
    and name are redacted from the free text. The rows stay."""
    references, free_text = tuple(references), tuple(free_text)

    def strategy(entry: PrivacyEntry, rows: QuerySet, *, subject, actor) -> Outcome:
        touched = rows.count()
        for name in references:
            rows.filter(**{name: subject}).update(**{name: None})
        identifiers = person_identifiers(subject)
        if free_text and identifiers:
            for row in rows.filter(mentions(subject, *free_text)).only("pk", *free_text):
                for name in free_text:
                    setattr(row, name, redact(getattr(row, name), identifiers))
                row.save(update_fields=list(free_text))
        return Outcome(entry.model, pseudonymised=touched)

    return _labelled(strategy, f"erase_mentions(references={list(references)}, "
                               f"free_text={list(free_text)})")


def delete_unless_protected(rest: Mapping[str, Any]) -> Strategy:
    """Delete the rows that no retained row protects (``on_delete=PROTECT``); on the others
    overwrite the personal fields with ``rest`` and count them as retained. The entry's
    ``retention`` is the reason the protecting rows are kept (:func:`protected_condition`)."""

    def strategy(entry: PrivacyEntry, rows: QuerySet, *, subject, actor) -> Outcome:
        protected = protected_condition(rows)
        kept = rows.filter(protected)
        retained = kept.update(**rest) if rest else kept.count()
        files = tuple(entry.files(rows.exclude(protected))) if entry.files else ()
        per_model = delete_in_batches(rows.exclude(protected))
        return Outcome(entry.model, deleted=per_model.get(entry.model, 0), retained=retained,
                       retention=entry.retention if retained else None, files=files)

    return _labelled(strategy, f"delete_unless_protected(clears {sorted(rest)} on the "
                               "protected rows)")
