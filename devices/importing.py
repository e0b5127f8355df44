"""The inventory import: validate every row, compare with the inventory, then write in bulk.

``plan_import`` is a dry run: it reads nothing but the customer's own devices (serials are
unique per customer only, so nothing about other customers is looked up or told; ADR 0007) and
returns what would happen to each row.
``apply_plan`` writes a valid plan with ``bulk_create``/``bulk_update`` inside the caller's
transaction. The rules (all-or-nothing, match by serial, idempotent) are in docs/adr/0005.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device, DeviceKind
from devices.spreadsheets import Sheet, unescape_formula
from devices.validators import is_after_today, validate_hostname, validate_not_after_today
from portal.models import Organisation, User

NEW, CHANGED, UNCHANGED, INVALID = "new", "changed", "unchanged", "invalid"
#: Device fields an import may set, by column.
FIELD_OF_COLUMN = {
    "hostname": "hostname", "serial": "serial_number", "kind": "kind", "os": "operating_system",
    "location": "location", "agent_id": "agent_id", "last_seen": "last_seen",
    "av_signature_date": "av_signature_date", "notes": "notes",
}
COLUMN_OF_FIELD = {name: column for column, name in FIELD_OF_COLUMN.items()}
MAX_LENGTH = {"hostname": 253, "serial_number": 100, "operating_system": 100, "location": 200,
              "agent_id": 100, "notes": 2000}
KIND_WORDS = {
    "workstation": DeviceKind.WORKSTATION, "arbeitsplatz": DeviceKind.WORKSTATION,
    "arbeitsplatz-pc": DeviceKind.WORKSTATION, "pc": DeviceKind.WORKSTATION,
    "client": DeviceKind.WORKSTATION, "notebook": DeviceKind.WORKSTATION,
    "laptop": DeviceKind.WORKSTATION,
    "server": DeviceKind.SERVER,
    "network": DeviceKind.NETWORK, "netzwerkgerät": DeviceKind.NETWORK,
    "netzwerkgeraet": DeviceKind.NETWORK, "network device": DeviceKind.NETWORK,
    "switch": DeviceKind.NETWORK, "router": DeviceKind.NETWORK, "firewall": DeviceKind.NETWORK,
    "access point": DeviceKind.NETWORK,
}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")
#: The shapes nearly every file uses (ISO as the export writes it, German dates), parsed without
#: ``strptime``, which dominates the time of a large import otherwise. Anything else, and
#: anything these shapes reject, still goes through the formats above: same results.
QUICK_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
QUICK_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
PROGRESS_EVERY = 1000
#: Fields that hold a date (or time) of the past: last seen, the AV signature.
DATE_FIELDS = ("last_seen", "av_signature_date")


@dataclass
class RowResult:
    line: int
    status: str
    serial: str = ""
    hostname: str = ""
    errors: list[str] = field(default_factory=list)
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    device_id: int | None = None


@dataclass
class ImportPlan:
    rows: list[RowResult]

    @property
    def counts(self) -> dict[str, int]:
        counts = {NEW: 0, CHANGED: 0, UNCHANGED: 0, INVALID: 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not any(row.status == INVALID for row in self.rows)


# --- Values ------------------------------------------------------------------------------------

def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape_formula(str(value).strip())


def _quick_date(text: str) -> date | None:
    """``text`` as YYYY-MM-DD or DD.MM.YYYY, else None (then ``strptime`` decides)."""
    match = QUICK_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, german_day, german_month, german_year = match.groups()
    try:
        if year:
            return date(int(year), int(month), int(day))
        return date(int(german_year), int(german_month), int(german_day))
    except ValueError:
        return None


def _quick_datetime(text: str) -> datetime | None:
    """``text`` as YYYY-MM-DD[ T]HH:MM[:SS] or as a date alone (midnight), else None."""
    match = QUICK_DATETIME.fullmatch(text)
    if match is None:
        day = _quick_date(text)
        return None if day is None else datetime.combine(day, time(0))
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second or 0))
    except ValueError:
        return None


def _parse_date(value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    quick = _quick_date(text)
    if quick is not None:
        return quick
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _parse_datetime(value: object, tz: tzinfo | None = None) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    else:
        text = _text(value)
        moment = _quick_datetime(text)
        if moment is None:
            for pattern in DATETIME_FORMATS + DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            else:
                try:
                    moment = datetime.fromisoformat(text)
                except ValueError:
                    raise ValueError(text) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, tz)  # times in files are Europe/Berlin
    return moment.replace(microsecond=0)


def _after_today_check() -> Callable[[date | datetime], bool]:
    """:func:`devices.validators.is_after_today` for the many values of one plan, without its
    cost per row: a time not later than the plan's start cannot lie after today, and each
    date is asked once."""
    started = timezone.now()
    dates: dict[date, bool] = {}

    def after_today(value: date | datetime) -> bool:
        if isinstance(value, datetime):
            return value > started and is_after_today(value)
        if value not in dates:
            dates[value] = is_after_today(value)
        return dates[value]
    return after_today


def _future_date_error(value: date | datetime, column: str, line: int) -> str | None:
    """The validator's message for a date after today, naming the line and the column (None
    if the day changed meanwhile and the value is today's now)."""
    try:
        validate_not_after_today(value)
    except ValidationError as exc:  # the rule and its words live in the validator
        return (_("Zeile %(line)s, Spalte %(column)s: %(problem)s")
                % {"line": line, "column": column, "problem": exc.messages[0]})
    return None


def _clean_row(raw: dict[str, object], columns: list[str], errors: list[str],
               tz: tzinfo | None = None, *, line: int = 0,
               after_today: Callable[[date | datetime], bool] = is_after_today,
               ) -> dict[str, object]:
    """Turn one raw row into device field values; problems go to ``errors`` (German/English).

    ``tz`` is the zone of times without one (default: the current time zone); ``line`` is the
    row's line in the file, named by messages that point into the row."""
    values: dict[str, object] = {}
    for column in columns:
        name = FIELD_OF_COLUMN[column]
        raw_value = raw.get(column)
        try:
            if name == "last_seen":
                values[name] = _parse_datetime(raw_value, tz)
            elif name == "av_signature_date":
                values[name] = _parse_date(raw_value)
            else:
                values[name] = _text(raw_value)
        except ValueError:
            errors.append(_("„%(value)s“ in Spalte %(column)s ist kein gültiges Datum "
                            "(erwartet z. B. 2026-11-18 oder 18.11.2026).")
                          % {"value": _text(raw_value), "column": column})
            values[name] = None
            continue
        if name in DATE_FIELDS and values[name] is not None and after_today(values[name]):
            problem = _future_date_error(values[name], column, line)
            if problem:
                errors.append(problem)
    serial = str(values.get("serial_number") or "").upper()
    values["serial_number"] = serial
    if not serial:
        errors.append(_("Die Seriennummer fehlt."))
    hostname = str(values.get("hostname") or "")
    if not hostname:
        errors.append(_("Der Hostname fehlt."))
    else:
        try:
            validate_hostname(hostname)
        except ValidationError as exc:
            errors.extend(exc.messages)
    kind_text = str(values.get("kind") or "")
    kind = KIND_WORDS.get(kind_text.lower())
    if kind is None:
        errors.append(_("„%(value)s“ ist keine gültige Geräteart (workstation, server, "
                        "network).") % {"value": kind_text} if kind_text
                      else _("Die Geräteart fehlt."))
    values["kind"] = kind or kind_text
    for name, limit in MAX_LENGTH.items():
        if name in values and len(str(values[name] or "")) > limit:
            errors.append(_("Spalte %(column)s ist länger als %(limit)s Zeichen.")
                          % {"column": COLUMN_OF_FIELD[name], "limit": limit})
    return values


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


# --- The plan ----------------------------------------------------------------------------------

def _existing(customer: Organisation, fields: list[str]) -> dict[str, dict]:
    rows = Device.objects.filter(customer=customer).values("pk", "retired_at", *fields)
    return {row["serial_number"]: row for row in rows.iterator(chunk_size=5000)}


def _mark_duplicates(results: list[RowResult], key: Callable[[RowResult], str], message: str):
    keys = [key(row) for row in results]
    lines: dict[str, list[int]] = defaultdict(list)
    for row, value in zip(results, keys, strict=True):
        if value:
            lines[value].append(row.line)
    for row, value in zip(results, keys, strict=True):
        where = lines.get(value, [])
        if len(where) > 1:
            row.errors.append(message % {"value": value,
                                         "lines": ", ".join(str(n) for n in where)})


def plan_import(customer: Organisation, sheet: Sheet,
                progress: Callable[[int], None] | None = None) -> ImportPlan:
    """What importing ``sheet`` into ``customer``'s inventory would do, row by row."""
    fields = [FIELD_OF_COLUMN[column] for column in sheet.columns]
    existing = _existing(customer, list({*fields, "hostname", "serial_number"}))
    zone = timezone.get_current_timezone()  # once, not per row: it is a context-local lookup
    after_today = _after_today_check()
    results: list[RowResult] = []
    for index, raw in enumerate(sheet.rows, start=1):
        errors: list[str] = []
        values = _clean_row(raw.values, sheet.columns, errors, zone, line=raw.line,
                            after_today=after_today)
        results.append(RowResult(line=raw.line, status=INVALID if errors else NEW,
                                 serial=values["serial_number"], hostname=values["hostname"],
                                 errors=errors, values=values))
        if progress and index % PROGRESS_EVERY == 0:
            progress(index)
    _mark_duplicates(results, lambda r: r.serial,
                     _("Die Seriennummer %(value)s kommt in der Datei mehrfach vor "
                       "(Zeilen %(lines)s)."))
    _mark_duplicates(results, lambda r: r.hostname.lower(),
                     _("Der Hostname %(value)s kommt in der Datei mehrfach vor "
                       "(Zeilen %(lines)s)."))
    # Hostnames must stay unique among the active devices after the import; clashes inside
    # the file are reported above, clashes with devices the file leaves alone here.
    in_file = {r.serial for r in results if r.serial}
    kept = defaultdict(list)
    for serial, row in existing.items():
        if row["retired_at"] is None and serial not in in_file:
            kept[row["hostname"].lower()].append(serial)
    for row in results:
        clashing = kept.get(row.hostname.lower())
        if row.hostname and clashing:
            row.errors.append(_("Der Hostname %(value)s gehört bereits zum Gerät mit der "
                                "Seriennummer %(other)s.") % {"value": row.hostname,
                                                              "other": clashing[0]})
        _classify(row, existing.get(row.serial), fields)
    return ImportPlan(rows=results)


def _one_line_break(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _same_wall_clock(first: datetime, second: datetime) -> bool:
    local_first, local_second = timezone.localtime(first), timezone.localtime(second)
    return local_first.replace(tzinfo=None, fold=0) == local_second.replace(tzinfo=None, fold=0)


def _classify(row: RowResult, current: dict | None, fields: list[str]) -> None:
    if row.errors:
        row.status = INVALID
        return
    if current is None:
        row.status = NEW
        return
    row.device_id = current["pk"]
    for name in fields:
        before, after = current.get(name), row.values.get(name)
        if isinstance(before, datetime):
            before = before.replace(microsecond=0)
        if isinstance(before, datetime) and isinstance(after, datetime):
            # Compare in UTC: an aware time in the repeated hour of the autumn DST change never
            # equals a time of another zone (PEP 495), so Berlin vs. UTC would always "change".
            before, after = before.astimezone(UTC), after.astimezone(UTC)
            if before != after and _same_wall_clock(before, after):
                # A file carries Berlin wall-clock time; in the repeated autumn hour one wall
                # time stands for two moments. Same wall time: unchanged, keep the stored one.
                row.values[name] = current[name]
                continue
        if isinstance(before, str) and isinstance(after, str):
            # Browsers send line breaks of text areas as CRLF; XLSX (XML) gives them back as LF.
            before, after = _one_line_break(before), _one_line_break(after)
        if (before or None) != (after or None):
            row.changes[name] = (_shown(before), _shown(after))
    if current["retired_at"] is not None:
        row.changes["retired_at"] = (_shown(current["retired_at"]), "")
    row.status = CHANGED if row.changes else UNCHANGED


# --- Writing -------------------------------------------------------------------------------------

def apply_plan(customer: Organisation, plan: ImportPlan, *, actor: User | None,
               batch_size: int = 2000) -> dict[str, int]:
    """Write a valid plan (the caller holds the transaction). Returns the counts."""
    if not plan.is_valid:
        raise ValueError("Only a valid import plan can be applied.")
    now = timezone.now()
    new = [Device(customer=customer, created_by=actor, updated_by=actor, created_at=now,
                  updated_at=now, **row.values) for row in plan.rows if row.status == NEW]
    changed_rows = [row for row in plan.rows if row.status == CHANGED]
    fields = sorted({name for row in changed_rows for name in row.changes}
                    | {"updated_by", "updated_at"})
    renamed = [row for row in changed_rows if "hostname" in row.changes]
    if renamed:
        # Park changed hostnames first, so swaps inside one file never collide.
        Device.objects.bulk_update(
            [Device(pk=row.device_id, hostname=f"~import~{row.device_id}") for row in renamed],
            ["hostname"], batch_size=batch_size)
    updates = []
    for row in changed_rows:
        device = Device(pk=row.device_id, customer=customer, updated_by=actor, updated_at=now,
                        retired_at=None, **row.values)
        updates.append(device)
    if updates:
        Device.objects.bulk_update(updates, fields, batch_size=batch_size)
    Device.objects.bulk_create(new, batch_size=batch_size)
    return plan.counts
