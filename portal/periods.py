"""Legal periods: every date the portal shows or acts on is computed here.

Pure Python (no ORM). The rules and their sources are in ``docs/periods.md``; in short:

* Months follow BGB §§ 187, 188: a period starts the day after the event and a period of
  months ends on the same day number, or on the last day of a shorter month. A term of N months
  from S ends on S + N months - 1 day, and on the month's last day where the month has no day
  with S's number (§ 188(3): 2026-01-31 + 1 month ends 2026-02-28). Month arithmetic is always
  done from the original date, never month by month.
* Notice periods are not moved off weekends or holidays. Deadlines for declarations (objections,
  BGB § 193) and GDPR answers (Regulation 1182/71) are moved to the next working day.
* Working days are Monday to Friday without public holidays (the ``holidays`` package;
  nationwide by default, a German state by ``subdivision``), in Europe/Berlin.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as _holidays

BERLIN = ZoneInfo("Europe/Berlin")

Anchor = Literal["month_end", "term_end", "any_day", "none"]
ANCHORS: tuple[str, ...] = ("month_end", "term_end", "any_day", "none")

_PERIOD_PART = re.compile(r"(\d+)\s*([dwmy])")
_PERIOD_FULL = re.compile(r"^(\s*\d+\s*[dwmy]\s*)+$")


class CancellationNotAllowed(Exception):  # noqa: N818 - the public name is fixed
    """Ordinary cancellation is excluded for this rule; the message can be shown as it is."""


def _(text: str) -> str:
    """The person's language when Django is set up (the portal); the German text otherwise."""
    try:
        from django.utils.translation import gettext

        return gettext(text)
    except Exception:  # noqa: BLE001 - no Django settings: plain Python use of this module
        return text


# --- Small helpers ---------------------------------------------------------------------------

def _require_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date (datetime.date), not {type(value).__name__}.")
    return value


def _require_aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. Europe/Berlin), not naive.")
    return value


def add_months(day: date, months: int) -> date:
    """Same day number ``months`` later, or the last day of a shorter month (BGB § 188(3))."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ValueError("The date lies outside the supported range (years 1 to 9999).")
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    """The last day of ``day``'s calendar month."""
    return date(day.year, day.month, _calendar.monthrange(day.year, day.month)[1])


# --- Periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A legal period of days, weeks and months (``"15d"``, ``"4w"``, ``"3m"``, ``"1y"``)."""

    days: int = 0
    weeks: int = 0
    months: int = 0

    def __post_init__(self) -> None:
        for name in ("days", "weeks", "months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Period {name} must be a whole number, not {value!r}.")
            if value < 0:
                raise ValueError(f"A period cannot be negative ({name}={value}).")
        if not (self.days or self.weeks or self.months):
            raise ValueError("A period must not be empty (e.g. 15d, 4w, 3m).")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"15d"``, ``"4w"``, ``"3m"``, ``"12m"``, ``"1y"`` (= 12 months) or combinations
        such as ``"1m15d"``."""
        if not isinstance(text, str) or not _PERIOD_FULL.match(text.strip().lower()):
            raise ValueError(
                f"{text!r} is not a period. Write a number and a unit: d (days), w (weeks), "
                "m (months) or y (years), e.g. 15d, 4w, 3m, 12m."
            )
        totals = {"d": 0, "w": 0, "m": 0}
        for amount, unit in _PERIOD_PART.findall(text.lower()):
            if unit == "y":
                totals["m"] += 12 * int(amount)
            else:
                totals[unit] += int(amount)
        return cls(days=totals["d"], weeks=totals["w"], months=totals["m"])

    def __str__(self) -> str:
        parts = [f"{v}{u}" for v, u in ((self.months, "m"), (self.weeks, "w"), (self.days, "d"))
                 if v]
        return "".join(parts)

    def after(self, day: date) -> date:
        """The day on which the period ends when it starts after ``day`` (BGB §§ 187, 188)."""
        result = add_months(day, self.months) if self.months else day
        return result + timedelta(days=self.days + 7 * self.weeks)

    def before(self, day: date) -> date:
        """The latest event day whose period still ends on or before ``day``."""
        if not self.months:
            return day - timedelta(days=self.days + 7 * self.weeks)
        # add_months is monotonic but not invertible at month ends: search near the estimate.
        candidate = add_months(day - timedelta(days=self.days + 7 * self.weeks), -self.months)
        while self.after(candidate + timedelta(days=1)) <= day:
            candidate += timedelta(days=1)
        while self.after(candidate) > day:
            candidate -= timedelta(days=1)
        return candidate


def _corresponding_day(start: date, months: int) -> date:
    """The day ``months`` after ``start`` with the same day number; where the month is too
    short, the day after its last day (so the term ends on that last day, BGB § 188(3))."""
    if not months:
        return start
    moved = add_months(start, months)
    return moved if moved.day == start.day else moved + timedelta(days=1)


def _term_end_of(start: date, months: int, days: int) -> date:
    return _corresponding_day(start, months) + timedelta(days=days - 1)


def term_end(start: date, length: Period) -> date:
    """The last day of a term of ``length`` that starts on ``start`` (BGB §§ 187(2), 188(2),
    188(3)): the day before the day with the start's number, e.g. 2026-01-16 + 12 months ends
    2027-01-15; where that day does not exist, the month's last day (2026-01-31 + 1 month ends
    2026-02-28, not 02-27)."""
    _require_date(start, "start")
    return _term_end_of(start, length.months, length.days + 7 * length.weeks)


# --- Notice rules ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeRule:
    """How a service can be cancelled: notice period, anchor, minimum term and renewal."""

    notice: Period
    anchor: str
    min_term: Period | None = None
    renewal: Period | None = None
    cap_at_term_length: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.notice, Period):
            raise ValueError("The notice must be a Period, e.g. Period.parse('15d').")
        if self.anchor not in ANCHORS:
            raise ValueError(f"Unknown anchor {self.anchor!r}; use one of {', '.join(ANCHORS)}.")
        for name in ("min_term", "renewal"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Period):
                raise ValueError(f"{name} must be a Period or None.")
        if self.anchor == "term_end" and self.min_term is None:
            raise ValueError("The anchor term_end needs a minimum term (the first term).")
        if self.cap_at_term_length and self.anchor != "term_end":
            raise ValueError("cap_at_term_length applies to the anchor term_end only.")


def _term_end_k(start: date, rule: NoticeRule, k: int) -> date:
    """End of the k-th term (0 = the minimum term), always computed from the start."""
    first = rule.min_term
    assert first is not None
    renewal = rule.renewal or first
    months = first.months + k * renewal.months
    days = first.days + k * renewal.days + 7 * (first.weeks + k * renewal.weeks)
    return _term_end_of(start, months, days)


def _notice_reaches(rule: NoticeRule, received: date, needed: date, start: date, k: int) -> bool:
    """Whether a notice received on ``received`` (ending on ``needed``) reaches term ``k``."""
    end = _term_end_k(start, rule, k)
    if needed <= end:
        return True
    if not rule.cap_at_term_length:
        return False
    # 002 § 4.6: the notice is the term's length when the term is shorter than the notice. The
    # length is the term's real number of days (one month from 1 Feb 2027 runs to 28 Feb: 28 days),
    # not "one month" counted again from the receipt.
    term_start = start if k == 0 else _term_end_k(start, rule, k - 1) + timedelta(days=1)
    return received + (end - term_start + timedelta(days=1)) <= end


def _earliest_term(rule: NoticeRule, received: date, start: date) -> date:
    renewal = rule.renewal or rule.min_term
    assert renewal is not None
    k = 0
    first_end = _term_end_k(start, rule, 0)
    needed = rule.notice.after(received)
    if needed > first_end:
        # Jump close to the answer instead of walking term by term.
        span_days = renewal.months * 30.436875 + renewal.weeks * 7 + renewal.days
        k = max(0, int((needed - first_end).days / span_days))
    while k > 0 and _notice_reaches(rule, received, needed, start, k - 1):
        k -= 1
    while not _notice_reaches(rule, received, needed, start, k):
        k += 1
    return _term_end_k(start, rule, k)


def notice_end(rule: NoticeRule, *, received: date, start: date | None = None) -> date:
    """The day a service ends when its cancellation is received on ``received``.

    ``start`` is the first day of the term; it is needed for a minimum term and for
    ``term_end``. Raises :class:`CancellationNotAllowed` for the anchor ``none``.
    """
    if not isinstance(rule, NoticeRule):
        raise ValueError("rule must be a NoticeRule.")
    _require_date(received, "received")
    if start is not None:
        _require_date(start, "start")
    if rule.anchor == "none":
        raise CancellationNotAllowed(_(
            "Eine ordentliche Kündigung ist für diese Leistung ausgeschlossen. Eine "
            "außerordentliche Kündigung ist nur über Ihren Ansprechpartner beim Anbieter möglich."
        ))
    if (rule.min_term is not None or rule.anchor == "term_end") and start is None:
        raise ValueError("This rule has a minimum term: the start of the term is needed.")
    if rule.anchor == "term_end":
        return _earliest_term(rule, received, start)
    earliest = rule.notice.after(received)
    if rule.min_term is not None:
        earliest = max(earliest, term_end(start, rule.min_term))
    if rule.anchor == "any_day":
        return earliest
    return month_end(earliest)


# --- Working days, holidays and service hours --------------------------------------------------

@dataclass
class WorkCalendar:
    """Working days (Mon-Fri without public holidays) and daily service hours, Europe/Berlin."""

    subdivision: str | None = None
    hours: tuple[time, time] = (time(9), time(18))
    country: str = "DE"
    _years: dict[int, frozenset[date]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        opening, closing = self.hours
        if not (isinstance(opening, time) and isinstance(closing, time)):
            raise ValueError("Service hours must be two datetime.time values.")
        if opening.tzinfo is not None or closing.tzinfo is not None:
            raise ValueError("Service hours are local times in Europe/Berlin; give naive times.")
        if not opening < closing:
            raise ValueError("Service hours must open before they close (e.g. 09:00-18:00).")
        try:
            _holidays.country_holidays(self.country, subdiv=self.subdivision, years=2000)
        except NotImplementedError as exc:
            raise ValueError(f"Unknown country or state {self.country}/{self.subdivision}.") \
                from exc

    @classmethod
    def germany(cls, subdivision: str | None = None,
                hours: tuple[time, time] = (time(9), time(18))) -> WorkCalendar:
        """Nationwide German holidays, or those of one state (``"BY"``, ``"NW"``, ...)."""
        return cls(subdivision=subdivision, hours=hours)

    def holidays_in(self, year: int) -> frozenset[date]:
        if year not in self._years:
            found = _holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
            self._years[year] = frozenset(found.keys())
        return self._years[year]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays_in(day.year)

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one (BGB § 193)."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day``."""
        if count < 0:
            raise ValueError("The number of working days cannot be negative.")
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def window(self, day: date) -> tuple[datetime, datetime]:
        """Service hours of ``day`` as aware datetimes in Europe/Berlin."""
        return (datetime.combine(day, self.hours[0], tzinfo=BERLIN),
                datetime.combine(day, self.hours[1], tzinfo=BERLIN))


def objection_deadline(*, received: date, period: Period, calendar: WorkCalendar) -> date:
    """Last day to object to a change notice received on ``received`` (BGB §§ 187, 188, 193)."""
    _require_date(received, "received")
    if not isinstance(period, Period):
        raise ValueError("period must be a Period, e.g. Period.parse('4w').")
    return calendar.next_working_day(period.after(received))


def gdpr_deadline(*, received: date, calendar: WorkCalendar, extended: bool = False) -> date:
    """When a data-subject request must be answered: one month, or three when extended
    (GDPR Art. 12(3)); months and the working-day shift per Regulation 1182/71 Art. 3."""
    _require_date(received, "received")
    return calendar.next_working_day(add_months(received, 3 if extended else 1))


def add_service_hours(calendar: WorkCalendar, *, start: datetime, hours: float) -> datetime:
    """The moment ``hours`` of service time have passed since ``start``.

    Received outside service hours, the clock starts at the next opening. A result that lands
    exactly on a closing time stays there (it is due that evening, not the next morning).
    """
    _require_aware(start, "start")
    if isinstance(hours, bool) or not isinstance(hours, (int, float, Decimal)):
        raise ValueError("hours must be a number.")
    if hours < 0 or hours != hours or hours == float("inf"):
        raise ValueError("hours must be a finite number of zero or more.")
    remaining = timedelta(microseconds=round(Decimal(str(hours)) * 3_600_000_000))
    moment = start.astimezone(BERLIN)
    day = moment.date()
    while True:
        if calendar.is_working_day(day):
            opening, closing = calendar.window(day)
            if moment < closing:
                moment = max(moment, opening)
                available = closing - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0), tzinfo=BERLIN)


def service_hours_between(calendar: WorkCalendar, *, start: datetime,
                          end: datetime) -> timedelta:
    """The service time between ``start`` and ``end`` (zero when ``end`` is not later): the
    parts of each working day's service hours that lie between them, e.g. how long a ticket
    waited for the customer."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    start, end = start.astimezone(BERLIN), end.astimezone(BERLIN)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if calendar.is_working_day(day):
            opening, closing = calendar.window(day)
            lower, upper = max(opening, start), min(closing, end)
            if upper > lower:
                total += upper - lower
        day += timedelta(days=1)
    return total


def av_alarm_check(calendar: WorkCalendar, *, signature_date: date,
                   max_age_working_days: int = 2, check_time: time = time(9)) -> datetime:
    """The first daily check (working days, 09:00) at which an anti-virus signature of
    ``signature_date`` is older than ``max_age_working_days`` working days."""
    _require_date(signature_date, "signature_date")
    if isinstance(max_age_working_days, bool) or not isinstance(max_age_working_days, int) \
            or max_age_working_days < 0:
        raise ValueError("max_age_working_days must be a whole number of zero or more.")
    alarm_day = calendar.add_working_days(signature_date, max_age_working_days + 1)
    return datetime.combine(alarm_day, check_time, tzinfo=BERLIN)


# --- The end of a contract --------------------------------------------------------------------

PURGE_KEEP_DAYS = 56          # 003 § 24.1: data is deleted 8 weeks after the end
EXPORT_REMINDER_DAYS = 28     # 003 § 24.2: take the data out at least 4 weeks before the end
PROVISION_ORDER_DAYS = 30     # 003 § 24.3: order provider-assisted provision 30 days before


@dataclass(frozen=True)
class PurgeSchedule:
    contract_end: date
    kept_through: date
    purge_on: date
    export_reminder_on: date
    provision_order_by: date


def purge_schedule(*, contract_end: date) -> PurgeSchedule:
    """Dates around the end of a contract: reminder, provision order, last kept day, purge."""
    _require_date(contract_end, "contract_end")
    return PurgeSchedule(
        contract_end=contract_end,
        kept_through=contract_end + timedelta(days=PURGE_KEEP_DAYS),
        purge_on=contract_end + timedelta(days=PURGE_KEEP_DAYS + 1),
        export_reminder_on=contract_end - timedelta(days=EXPORT_REMINDER_DAYS),
        provision_order_by=contract_end - timedelta(days=PROVISION_ORDER_DAYS),
    )


# --- Billing ---------------------------------------------------------------------------------

def billed_months(*, active_from: date, active_until: date | None,
                  through: date) -> list[tuple[int, int]]:
    """Full-month billing (000 § 7): every month with at least one active day, up to the
    month of ``through``. ``active_until`` is the last active day (``None``: still active)."""
    _require_date(active_from, "active_from")
    _require_date(through, "through")
    if active_until is not None:
        _require_date(active_until, "active_until")
        if active_until < active_from:
            raise ValueError("The end of a booking cannot lie before its start.")
    last = min(active_until, through) if active_until is not None else through
    if last < active_from:
        return []
    first_index = active_from.year * 12 + active_from.month - 1
    last_index = last.year * 12 + last.month - 1
    return [(index // 12, index % 12 + 1) for index in range(first_index, last_index + 1)]


def first_month_share(*, active_from: date) -> Decimal:
    """Share of the first month billed pro rata from the day of provision (003 § 28.2), e.g.
    provided on the 16th of a 30-day month: 15/30. Multiply first, round money last."""
    _require_date(active_from, "active_from")
    days_in_month = _calendar.monthrange(active_from.year, active_from.month)[1]
    return Decimal(days_in_month - active_from.day + 1) / Decimal(days_in_month)
