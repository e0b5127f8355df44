"""Property tests for portal.periods over wide date ranges (hypothesis).

The expectations are computed here independently of the module: month arithmetic, term ends and
working days (holidays straight from the ``holidays`` package) have their own small reference
implementations below, written from DOMAIN.md §§ 3-8.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.periods import (
    NoticeRule,
    Period,
    WorkCalendar,
    add_service_hours,
    av_alarm_check,
    billed_months,
    first_month_share,
    gdpr_deadline,
    notice_end,
    objection_deadline,
    purge_schedule,
)

BERLIN = ZoneInfo("Europe/Berlin")
OPENING, CLOSING = time(9), time(18)
D = date

# No example database: nothing is written into the repository, and runs are reproducible.
FAST = settings(max_examples=600, deadline=None, database=None)
MEDIUM = settings(max_examples=300, deadline=None, database=None)

SUBDIVISIONS = (None, "BY", "NW", "BE", "SN", "HH")
CALENDARS = {subdivision: WorkCalendar.germany(subdivision=subdivision)
             for subdivision in SUBDIVISIONS}

dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31))
notice_periods = st.one_of(
    st.integers(1, 120).map(lambda n: Period(days=n)),
    st.integers(1, 12).map(lambda n: Period(weeks=n)),
    st.integers(1, 24).map(lambda n: Period(months=n)),
)
subdivisions = st.sampled_from(SUBDIVISIONS)


# --- Independent reference implementation -----------------------------------------------------

def ref_add_months(day: date, months: int) -> date:
    """Same day number, or the last day of a shorter month."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def ref_after(period: Period, day: date) -> date:
    """The last day of a period that starts the day after ``day`` (single-unit periods)."""
    return ref_add_months(day, period.months) + timedelta(days=period.days + 7 * period.weeks)


def ref_term_end(start: date, months: int = 0, weeks: int = 0) -> date:
    """Last day of a term of ``months`` or ``weeks`` starting on ``start``: the day before the
    day with the start's number, or the month's last day if it has no such day (BGB § 188)."""
    if weeks:
        return start + timedelta(weeks=weeks) - timedelta(days=1)
    moved = ref_add_months(start, months)
    return moved - timedelta(days=1) if moved.day == start.day else moved


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


@cache
def ref_holidays(subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv=subdivision, years=year).keys())


def ref_is_working_day(day: date, subdivision: str | None = None) -> bool:
    return day.weekday() < 5 and day not in ref_holidays(subdivision, day.year)


def first_index(predicate) -> int:
    """The smallest k >= 0 with predicate(k), for a predicate that is monotone in k."""
    high = 1
    while not predicate(high):
        high *= 2
    low = 0
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


# --- Notice rules ------------------------------------------------------------------------------

@FAST
@given(notice=notice_periods, received=dates, start=dates,
       min_months=st.one_of(st.none(), st.integers(1, 36)))
@example(notice=Period(days=15), received=D(2028, 2, 14), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(days=15), received=D(2027, 2, 13), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(months=1), received=D(2028, 1, 31), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(months=3), received=D(2027, 11, 30), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(days=15), received=D(2028, 3, 1), start=D(2028, 2, 29), min_months=12)
@example(notice=Period(days=15), received=D(2026, 6, 1), start=D(2026, 1, 16), min_months=12)
@example(notice=Period(weeks=4), received=D(2099, 12, 31), start=D(1990, 1, 31), min_months=1)
def test_month_end_is_the_earliest_month_end_allowed(notice, received, start, min_months):
    rule = NoticeRule(notice, "month_end",
                      min_term=Period(months=min_months) if min_months else None)
    end = notice_end(rule, received=received, start=start)
    needed = ref_after(notice, received)
    floor = needed
    assert is_month_end(end)
    assert end >= needed
    if min_months:
        min_term_end = ref_term_end(start, months=min_months)
        assert end >= min_term_end
        floor = max(needed, min_term_end)
    # The month end before it does not satisfy both conditions: it is the earliest.
    assert end.replace(day=1) - timedelta(days=1) < floor


@FAST
@given(notice=notice_periods, received=dates, start=dates,
       min_months=st.one_of(st.none(), st.integers(1, 36)))
@example(notice=Period(months=1), received=D(2028, 1, 31), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(months=12), received=D(2028, 2, 29), start=D(2028, 1, 1), min_months=None)
@example(notice=Period(months=3), received=D(2028, 3, 1), start=D(2028, 2, 29), min_months=12)
def test_any_day_is_notice_or_minimum_term_end(notice, received, start, min_months):
    rule = NoticeRule(notice, "any_day",
                      min_term=Period(months=min_months) if min_months else None)
    expected = ref_after(notice, received)
    if min_months:
        expected = max(expected, ref_term_end(start, months=min_months))
    assert notice_end(rule, received=received, start=start) == expected


term_lengths = st.one_of(
    st.tuples(st.just("months"), st.integers(1, 36), st.integers(1, 24)),
    st.tuples(st.just("weeks"), st.integers(1, 10), st.integers(1, 8)),
)


def make_term_rule(notice: Period, lengths: tuple[str, int, int], cap: bool) -> NoticeRule:
    unit, first, renewal = lengths
    return NoticeRule(notice, "term_end", min_term=Period(**{unit: first}),
                      renewal=Period(**{unit: renewal}), cap_at_term_length=cap)


def ref_term_end_k(start: date, lengths: tuple[str, int, int], k: int) -> date:
    unit, first, renewal = lengths
    return ref_term_end(start, **{unit: first + k * renewal})


@MEDIUM
@given(notice=notice_periods, start=dates, received=dates, lengths=term_lengths,
       cap=st.booleans())
@example(notice=Period(months=3), start=D(2026, 1, 1), received=D(2026, 10, 1),
         lengths=("months", 12, 12), cap=False)
@example(notice=Period(months=3), start=D(2028, 2, 29), received=D(2031, 11, 29),
         lengths=("months", 12, 12), cap=False)
@example(notice=Period(months=3), start=D(2001, 5, 31), received=D(2083, 11, 30),
         lengths=("months", 12, 3), cap=False)
@example(notice=Period(months=1), start=D(1990, 1, 15), received=D(2100, 12, 31),
         lengths=("months", 24, 1), cap=False)
@example(notice=Period(days=30), start=D(2026, 1, 1), received=D(2026, 1, 30),
         lengths=("months", 1, 1), cap=True)
@example(notice=Period(days=30), start=D(2025, 10, 31), received=D(2026, 1, 31),
         lengths=("months", 1, 1), cap=True)
@example(notice=Period(days=30), start=D(2026, 1, 29), received=D(2026, 1, 30),
         lengths=("months", 1, 1), cap=True)
@example(notice=Period(days=30), start=D(2026, 3, 2), received=D(2026, 3, 15),
         lengths=("weeks", 2, 2), cap=True)
def test_term_end_is_the_earliest_term_end_reached(notice, start, received, lengths, cap):
    """The result is a term end (start + min_term + k * renewal, last day) and the earliest one
    the notice reaches; with 002 § 4.6 a term shorter than the notice needs only its length."""
    result = notice_end(make_term_rule(notice, lengths, cap), received=received, start=start)
    needed = ref_after(notice, received)

    def reaches(k: int) -> bool:
        end = ref_term_end_k(start, lengths, k)
        if needed <= end:
            return True
        term_start = start if k == 0 else ref_term_end_k(start, lengths, k - 1) + timedelta(1)
        length = end - term_start + timedelta(days=1)
        return cap and received + length <= end

    k = first_index(reaches)
    assert result == ref_term_end_k(start, lengths, k)
    if not cap:
        assert result >= needed
    if k:
        assert not reaches(k - 1)


@MEDIUM
@given(notice=notice_periods, start=dates, received=dates, lengths=term_lengths)
@example(notice=Period(days=30), start=D(2026, 1, 1), received=D(2026, 1, 30),
         lengths=("months", 1, 1))
def test_cap_never_makes_the_end_later(notice, start, received, lengths):
    capped = notice_end(make_term_rule(notice, lengths, True), received=received, start=start)
    plain = notice_end(make_term_rule(notice, lengths, False), received=received, start=start)
    assert capped <= plain


rule_variants = st.sampled_from(
    ["month_end", "month_end_min", "any_day", "any_day_min", "term_end", "term_end_cap"])


@FAST
@given(variant=rule_variants, notice=notice_periods, start=dates, first=dates,
       delay=st.integers(0, 800), lengths=term_lengths)
@example(variant="term_end_cap", notice=Period(days=30), start=D(2026, 1, 1),
         first=D(2026, 1, 30), delay=2, lengths=("months", 1, 1))
@example(variant="term_end_cap", notice=Period(days=30), start=D(2025, 10, 31),
         first=D(2026, 1, 30), delay=1, lengths=("months", 1, 1))
@example(variant="month_end", notice=Period(months=1), start=D(2026, 1, 1),
         first=D(2026, 1, 30), delay=1, lengths=("months", 1, 1))
@example(variant="term_end", notice=Period(months=3), start=D(2028, 2, 29),
         first=D(2028, 11, 29), delay=1, lengths=("months", 12, 12))
def test_later_receipt_never_ends_earlier(variant, notice, start, first, delay, lengths):
    second = min(first + timedelta(days=delay), D(2100, 12, 31))
    unit, min_length, _ = lengths
    if variant.startswith("term_end"):
        rule = make_term_rule(notice, lengths, cap=variant.endswith("cap"))
    else:
        anchor = variant.removesuffix("_min")
        min_term = Period(**{unit: min_length}) if variant.endswith("_min") else None
        rule = NoticeRule(notice, anchor, min_term=min_term)
    earlier = notice_end(rule, received=first, start=start)
    later = notice_end(rule, received=second, start=start)
    assert earlier <= later


# --- Objection and GDPR deadlines ----------------------------------------------------------------

def assert_first_working_day_on_or_after(result: date, raw: date, subdivision: str | None):
    assert result >= raw
    assert result.weekday() < 5
    assert result not in ref_holidays(subdivision, result.year)
    day = raw
    while day < result:  # every day skipped was a weekend day or a holiday
        assert not ref_is_working_day(day, subdivision), day
        day += timedelta(days=1)


objection_periods = st.one_of(
    st.integers(1, 60).map(lambda n: Period(days=n)),
    st.integers(1, 8).map(lambda n: Period(weeks=n)),
    st.integers(1, 3).map(lambda n: Period(months=n)),
)


@FAST
@given(received=dates, period=objection_periods, subdivision=subdivisions)
@example(received=D(2026, 11, 27), period=Period(weeks=4), subdivision=None)
@example(received=D(2026, 12, 12), period=Period(weeks=2), subdivision=None)
@example(received=D(2027, 2, 27), period=Period(days=30), subdivision=None)
@example(received=D(2025, 12, 23), period=Period(weeks=2), subdivision="BY")
@example(received=D(2026, 5, 7), period=Period(weeks=4), subdivision="NW")
@example(received=D(2100, 12, 1), period=Period(months=1), subdivision=None)
def test_objection_deadline_is_first_working_day(received, period, subdivision):
    result = objection_deadline(received=received, period=period,
                                calendar=CALENDARS[subdivision])
    assert_first_working_day_on_or_after(result, ref_after(period, received), subdivision)


@FAST
@given(received=dates, extended=st.booleans(), subdivision=subdivisions)
@example(received=D(2026, 1, 31), extended=False, subdivision=None)
@example(received=D(2028, 1, 31), extended=False, subdivision=None)
@example(received=D(2027, 11, 30), extended=True, subdivision=None)
@example(received=D(2026, 10, 6), extended=True, subdivision="BY")
def test_gdpr_deadline_is_first_working_day(received, extended, subdivision):
    result = gdpr_deadline(received=received, calendar=CALENDARS[subdivision],
                           extended=extended)
    raw = ref_add_months(received, 3 if extended else 1)
    assert_first_working_day_on_or_after(result, raw, subdivision)


# --- Service hours ------------------------------------------------------------------------------

def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)


near_clock_changes = st.builds(
    lambda year, month, day, minute: datetime(year, month, day, tzinfo=UTC)
    + timedelta(minutes=minute),
    st.integers(1991, 2099), st.sampled_from([3, 10]), st.integers(22, 31),
    st.integers(0, 24 * 60 - 1),
)
starts = st.one_of(
    st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2099, 12, 1),
                 timezones=st.sampled_from([BERLIN, UTC]), allow_imaginary=False),
    near_clock_changes,
)
minutes = st.integers(0, 60 * 60)


def service_time_between(start: datetime, end: datetime, subdivision: str | None) -> timedelta:
    """Service time (Mon-Fri 09:00-18:00 Berlin, no holidays) between two instants."""
    total = timedelta(0)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    day, last = start.astimezone(BERLIN).date(), end.astimezone(BERLIN).date()
    while day <= last:
        if ref_is_working_day(day, subdivision):
            opening = datetime.combine(day, OPENING, tzinfo=BERLIN).astimezone(UTC)
            closing = datetime.combine(day, CLOSING, tzinfo=BERLIN).astimezone(UTC)
            low, high = max(opening, start_utc), min(closing, end_utc)
            if high > low:
                total += high - low
        day += timedelta(days=1)
    return total


@MEDIUM
@given(start=starts, amount=minutes, subdivision=subdivisions)
@example(start=berlin(2026, 11, 20, 17), amount=4 * 60, subdivision=None)
@example(start=berlin(2026, 3, 27, 16), amount=24 * 60, subdivision=None)
@example(start=berlin(2026, 10, 23, 16), amount=24 * 60, subdivision=None)
@example(start=datetime(2026, 3, 29, 1, 30, tzinfo=UTC), amount=90, subdivision=None)
@example(start=berlin(2026, 10, 25, 2, 30, fold=1), amount=9 * 60, subdivision=None)
@example(start=berlin(2026, 11, 23, 14), amount=4 * 60, subdivision=None)
@example(start=berlin(2026, 1, 5, 17), amount=4 * 60, subdivision="BY")
def test_service_hours_result_is_inside_service_hours(start, amount, subdivision):
    result = add_service_hours(CALENDARS[subdivision], start=start, hours=amount / 60)
    assert result.tzinfo is not None
    local = result.astimezone(BERLIN)
    assert ref_is_working_day(local.date(), subdivision)
    assert OPENING <= local.time() <= CLOSING
    if amount:
        # Never at an opening time: the same service time was already reached at the closing
        # time before it.
        assert local.time() > OPENING
    assert result >= start
    # Exactly the requested amount of service time lies between the start and the result.
    assert service_time_between(start, result, subdivision) == timedelta(minutes=amount)


@MEDIUM
@given(start=starts, first=minutes, second=st.integers(1, 60 * 60), subdivision=subdivisions)
@example(start=berlin(2026, 11, 20, 17), first=60, second=3 * 60, subdivision=None)
@example(start=berlin(2026, 11, 23, 14), first=4 * 60, second=1, subdivision=None)
@example(start=berlin(2026, 3, 27, 17), first=60, second=60, subdivision=None)
@example(start=berlin(2026, 10, 23, 17), first=60, second=60, subdivision=None)
def test_service_hours_add_up(start, first, second, subdivision):
    """Adding a then b equals adding a + b. (b >= 1 minute: a result exactly at closing time
    is due that evening, while a start at closing time is outside service hours, so adding
    0 hours to it moves it to the next opening - the same service time, another instant.)"""
    work = CALENDARS[subdivision]
    step = add_service_hours(work, start=start, hours=first / 60)
    twice = add_service_hours(work, start=step, hours=second / 60)
    once = add_service_hours(work, start=start, hours=(first + second) / 60)
    assert twice == once
    assert twice.astimezone(BERLIN).utcoffset() == once.astimezone(BERLIN).utcoffset()


# --- Anti-virus alarm -------------------------------------------------------------------------

@FAST
@given(signature=dates, max_age=st.integers(0, 10), subdivision=subdivisions)
@example(signature=D(2026, 11, 18), max_age=2, subdivision=None)
@example(signature=D(2026, 12, 22), max_age=2, subdivision=None)
@example(signature=D(2026, 1, 2), max_age=2, subdivision="BY")
@example(signature=D(2100, 12, 24), max_age=10, subdivision=None)
def test_av_alarm_on_the_right_working_day(signature, max_age, subdivision):
    alarm = av_alarm_check(CALENDARS[subdivision], signature_date=signature,
                           max_age_working_days=max_age)
    assert alarm.tzinfo is not None
    local = alarm.astimezone(BERLIN)
    assert local.time() == time(9)
    assert ref_is_working_day(local.date(), subdivision)
    working_days = 0
    day = signature + timedelta(days=1)
    while day <= local.date():
        working_days += ref_is_working_day(day, subdivision)
        day += timedelta(days=1)
    # The alarm day is a working day and exactly the (max_age + 1)-th after the signature.
    assert working_days == max_age + 1


# --- Purge, billing, periods ---------------------------------------------------------------------

@FAST
@given(end=dates)
@example(end=D(2026, 12, 31))
@example(end=D(2028, 2, 29))
def test_purge_schedule_offsets(end):
    schedule = purge_schedule(contract_end=end)
    assert schedule.contract_end == end
    assert schedule.kept_through == end + timedelta(days=56)
    assert schedule.purge_on == end + timedelta(days=57)
    assert schedule.export_reminder_on == end - timedelta(days=28)
    assert schedule.provision_order_by == end - timedelta(days=30)


@FAST
@given(active_from=dates, length=st.one_of(st.none(), st.integers(0, 4000)), through=dates)
@example(active_from=D(2026, 11, 20), length=None, through=D(2027, 2, 10))
@example(active_from=D(2026, 1, 31), length=1, through=D(2026, 12, 31))
@example(active_from=D(2026, 5, 1), length=None, through=D(2026, 4, 30))
def test_billed_months_are_contiguous(active_from, length, through):
    active_until = None if length is None else active_from + timedelta(days=length)
    months = billed_months(active_from=active_from, active_until=active_until, through=through)
    last = through if active_until is None else min(active_until, through)
    if last < active_from:
        assert months == []
        return
    assert months[0] == (active_from.year, active_from.month)
    assert months[-1] == (last.year, last.month)
    for (year, month), following in zip(months, months[1:], strict=False):
        assert following == ((year, month + 1) if month < 12 else (year + 1, 1))


@FAST
@given(day=dates)
@example(day=D(2028, 2, 29))
@example(day=D(2026, 2, 1))
def test_first_month_share_is_remaining_days_over_month_days(day):
    month_days = calendar.monthrange(day.year, day.month)[1]
    remaining = month_days - day.day + 1
    share = first_month_share(active_from=day)
    assert 0 < share <= 1
    assert (share == 1) == (day.day == 1)
    # Exact to the 28 significant digits of the default Decimal context.
    assert abs(share * month_days - remaining) < 10 ** -25


@FAST
@given(period=st.builds(Period, days=st.integers(0, 400), weeks=st.integers(0, 60),
                        months=st.integers(1, 240))
       | st.builds(Period, days=st.integers(1, 400), weeks=st.integers(0, 60)))
def test_period_text_round_trip(period):
    assert Period.parse(str(period)) == period
