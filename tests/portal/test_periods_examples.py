"""portal.periods against the worked examples of DOMAIN.md and further hand-computed cases.

Every expected date below was worked out by hand from the rules as DOMAIN.md states them (not by
running the module); the comment next to a case shows the arithmetic. Conventions used:

* ``+ N months`` lands on the same day number, or on the last day of a shorter month, and is
  always counted from the original date (BGB §§ 187, 188, Regulation 1182/71).
* A term of N months from S ends on ``S + N months - 1 day``, i.e. the day before the day with
  S's number; where the last month has no day with S's number, the term ends on that month's
  last day (BGB § 188(3)): 2026-01-31 + 1 month ends 2026-02-28, 2028-02-29 + 12 months ends
  2029-02-28. (Read literally, DOMAIN.md's formula would give 02-27 here; the module follows
  the BGB, which DOMAIN.md names as the convention. The cases that depend on this are marked
  "§ 188(3)".)
* Notice ends are not moved off weekends or holidays; objection and GDPR deadlines are moved to
  the next working day (BGB § 193, Regulation 1182/71 Art. 3(4)).

German public holidays used (nationwide unless noted): 2025-10-03 Fri; 2026: 01-01 Thu,
01-06 Tue (BY only), 04-03 Good Friday, 04-06 Easter Monday, 05-01 Fri, 05-14 Ascension,
05-25 Whit Monday, 06-04 Corpus Christi (NW, BY, ... only), 12-25 Fri, 12-26 Sat; 2027: 01-01 Fri,
01-06 Wed (BY only), 03-26 Good Friday, 03-29 Easter Monday. 24 December is a working day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.periods import (
    CancellationNotAllowed,
    NoticeRule,
    Period,
    PurgeSchedule,
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
D = date


def rule(notice: str, anchor: str, min_term: str | None = None, renewal: str | None = None,
         cap: bool = False) -> NoticeRule:
    return NoticeRule(
        Period.parse(notice), anchor,
        min_term=Period.parse(min_term) if min_term else None,
        renewal=Period.parse(renewal) if renewal else None,
        cap_at_term_length=cap,
    )


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def nationwide() -> WorkCalendar:
    return WorkCalendar.germany()


# --- Periods -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("15d", Period(days=15)),
    ("4w", Period(weeks=4)),
    ("3m", Period(months=3)),
    ("12m", Period(months=12)),
    ("1y", Period(months=12)),
    ("1m15d", Period(months=1, days=15)),
    (" 2W ", Period(weeks=2)),
])
def test_period_parse(text, expected):
    assert Period.parse(text) == expected


# --- Notice rules: DOMAIN.md § 3 worked examples -----------------------------------------------

DOMAIN_NOTICE_EXAMPLES = [
    pytest.param(rule("15d", "month_end"), None, D(2026, 11, 15), D(2026, 11, 30),
                 id="month_end-15d-received-15th"),
    pytest.param(rule("15d", "month_end"), None, D(2026, 11, 16), D(2026, 12, 31),
                 id="month_end-15d-received-16th"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 16), D(2026, 6, 1),
                 D(2027, 1, 31), id="month_end-15d-min-12m"),
    pytest.param(rule("4w", "month_end"), None, D(2026, 11, 2), D(2026, 11, 30),
                 id="month_end-4w-003-11.2"),
    pytest.param(rule("3m", "month_end"), None, D(2026, 9, 30), D(2026, 12, 31),
                 id="month_end-3m-provider-000-12.2"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2026, 1, 1), D(2026, 9, 30),
                 D(2026, 12, 31), id="term_end-12+12-in-time"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2026, 1, 1), D(2026, 10, 1),
                 D(2027, 12, 31), id="term_end-12+12-one-day-late"),
]


@pytest.mark.parametrize(("notice_rule", "start", "received", "expected"),
                         DOMAIN_NOTICE_EXAMPLES)
def test_domain_notice_examples(notice_rule, start, received, expected):
    assert notice_end(notice_rule, received=received, start=start) == expected


# --- Notice rules: further hand-computed cases ---------------------------------------------------

MONTH_END_CASES = [
    # 2028-02-14 + 15 d = 02-29, a month end in a leap year.
    pytest.param(rule("15d", "month_end"), None, D(2028, 2, 14), D(2028, 2, 29), id="leap-29feb"),
    # 2027-02-13 + 15 d = 02-28; one day later it is 03-01 and the end moves to 03-31.
    pytest.param(rule("15d", "month_end"), None, D(2027, 2, 13), D(2027, 2, 28), id="feb-28"),
    pytest.param(rule("15d", "month_end"), None, D(2027, 2, 14), D(2027, 3, 31), id="feb-late"),
    # Across the year end: 2026-12-17 + 15 d = 2027-01-01.
    pytest.param(rule("15d", "month_end"), None, D(2026, 12, 16), D(2026, 12, 31), id="dec-16"),
    pytest.param(rule("15d", "month_end"), None, D(2026, 12, 17), D(2027, 1, 31), id="dec-17"),
    # 4 weeks = 28 days: 2026-11-03 + 28 d = 12-01.
    pytest.param(rule("4w", "month_end"), None, D(2026, 11, 3), D(2026, 12, 31), id="4w-late"),
    # 31 Jan + 1 month = 28 Feb (29 Feb in a leap year); 30 Jan too.
    pytest.param(rule("1m", "month_end"), None, D(2026, 1, 31), D(2026, 2, 28), id="1m-31jan"),
    pytest.param(rule("1m", "month_end"), None, D(2028, 1, 31), D(2028, 2, 29),
                 id="1m-31jan-leap"),
    pytest.param(rule("1m", "month_end"), None, D(2026, 1, 30), D(2026, 2, 28), id="1m-30jan"),
    pytest.param(rule("1m", "month_end"), None, D(2026, 3, 31), D(2026, 4, 30), id="1m-31mar"),
    pytest.param(rule("1m", "month_end"), None, D(2026, 2, 28), D(2026, 3, 31), id="1m-28feb"),
    # The provider's own notice (000 § 12.2): 3 months to the end of a calendar month.
    pytest.param(rule("3m", "month_end"), None, D(2026, 10, 1), D(2027, 1, 31),
                 id="provider-1oct"),
    pytest.param(rule("3m", "month_end"), None, D(2026, 8, 31), D(2026, 11, 30),
                 id="provider-31aug-to-30nov"),
    pytest.param(rule("3m", "month_end"), None, D(2026, 11, 29), D(2027, 2, 28),
                 id="provider-29nov-to-28feb"),
    pytest.param(rule("3m", "month_end"), None, D(2026, 11, 30), D(2027, 2, 28),
                 id="provider-30nov-to-28feb"),
    pytest.param(rule("3m", "month_end"), None, D(2026, 12, 1), D(2027, 3, 31),
                 id="provider-1dec"),
    pytest.param(rule("3m", "month_end"), None, D(2027, 11, 30), D(2028, 2, 29),
                 id="provider-30nov-to-29feb-leap"),
    # Minimum term 12 months from 2026-01-16 ends 2027-01-15; month end on or after: 2027-01-31.
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 16), D(2026, 12, 31),
                 D(2027, 1, 31), id="min-term-received-31dec"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 16), D(2027, 1, 16),
                 D(2027, 1, 31), id="min-term-over-in-time"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 16), D(2027, 1, 17),
                 D(2027, 2, 28), id="min-term-over-late"),
    # Minimum term from 2026-01-01 ends 2026-12-31 (itself a month end).
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 1), D(2026, 12, 16),
                 D(2026, 12, 31), id="min-term-ends-31dec"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2026, 1, 1), D(2026, 12, 17),
                 D(2027, 1, 31), id="min-term-ends-31dec-late"),
    # Minimum term from 2028-02-29 ends 2029-02-28 (§ 188(3)); either way the month end is 02-28.
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2028, 2, 29), D(2028, 3, 1),
                 D(2029, 2, 28), id="min-term-from-29feb"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2028, 2, 29), D(2029, 2, 13),
                 D(2029, 2, 28), id="min-term-from-29feb-13feb"),
    pytest.param(rule("15d", "month_end", "12m", "1m"), D(2028, 2, 29), D(2029, 2, 14),
                 D(2029, 3, 31), id="min-term-from-29feb-14feb"),
]

ANY_DAY_CASES = [
    # 004 § 4.3: 3 months at any time.
    pytest.param(rule("3m", "any_day"), None, D(2026, 5, 15), D(2026, 8, 15), id="3m"),
    pytest.param(rule("3m", "any_day"), None, D(2026, 11, 30), D(2027, 2, 28), id="3m-to-28feb"),
    pytest.param(rule("3m", "any_day"), None, D(2027, 11, 30), D(2028, 2, 29), id="3m-to-29feb"),
    pytest.param(rule("1m", "any_day"), None, D(2026, 1, 31), D(2026, 2, 28), id="1m-31jan"),
    pytest.param(rule("1m", "any_day"), None, D(2026, 1, 29), D(2026, 2, 28), id="1m-29jan"),
    pytest.param(rule("1m", "any_day"), None, D(2028, 1, 31), D(2028, 2, 29), id="1m-31jan-leap"),
    pytest.param(rule("1m", "any_day"), None, D(2028, 1, 29), D(2028, 2, 29), id="1m-29jan-leap"),
    pytest.param(rule("12m", "any_day"), None, D(2028, 2, 29), D(2029, 2, 28), id="12m-29feb"),
    pytest.param(rule("12m", "any_day"), None, D(2027, 2, 28), D(2028, 2, 28), id="12m-28feb"),
    pytest.param(rule("15d", "any_day"), None, D(2026, 12, 20), D(2027, 1, 4), id="15d-year-end"),
    # With a minimum term of 12 months from 2026-01-01 (ends 2026-12-31).
    pytest.param(rule("3m", "any_day", "12m"), D(2026, 1, 1), D(2026, 3, 1), D(2026, 12, 31),
                 id="min-term-binds"),
    pytest.param(rule("3m", "any_day", "12m"), D(2026, 1, 1), D(2026, 9, 30), D(2026, 12, 31),
                 id="min-term-binds-by-one-day"),
    pytest.param(rule("3m", "any_day", "12m"), D(2026, 1, 1), D(2026, 10, 1), D(2027, 1, 1),
                 id="notice-binds"),
    pytest.param(rule("3m", "any_day", "12m"), D(2026, 1, 1), D(2026, 10, 15), D(2027, 1, 15),
                 id="notice-binds-mid-month"),
    # § 188(3): the minimum term from 2028-02-29 ends 2029-02-28.
    pytest.param(rule("3m", "any_day", "12m"), D(2028, 2, 29), D(2028, 3, 1), D(2029, 2, 28),
                 id="min-term-from-29feb"),
]

TERM_END_CASES = [
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2026, 1, 1), D(2027, 9, 30),
                 D(2027, 12, 31), id="second-term-in-time"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2026, 1, 1), D(2027, 10, 1),
                 D(2028, 12, 31), id="second-term-late"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2026, 1, 1), D(2025, 12, 1),
                 D(2026, 12, 31), id="received-before-start"),
    # § 188(3): terms from 2028-02-29 end on the day before the 29th, or on the last day of a
    # February without a 29th: 2029-02-28, 2030-02-28, 2031-02-28, 2032-02-28 (2032-02-29
    # exists), 2033-02-28 - counted from the start, never month by month.
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2028, 2, 29), D(2028, 11, 28),
                 D(2029, 2, 28), id="leap-start-first-term"),
    # 2028-11-30 + 3 months = 2029-02-28 (no 30 Feb): still in time.
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2028, 2, 29), D(2028, 11, 30),
                 D(2029, 2, 28), id="leap-start-first-term-30nov"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2028, 2, 29), D(2028, 12, 1),
                 D(2030, 2, 28), id="leap-start-first-term-late"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2028, 2, 29), D(2031, 11, 28),
                 D(2032, 2, 28), id="leap-start-leap-term"),
    # 2031-11-29 + 3 months = 2032-02-29 > 2032-02-28.
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2028, 2, 29), D(2031, 11, 29),
                 D(2033, 2, 28), id="leap-start-leap-term-late"),
    # Far in the future: 90 renewals.
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2000, 1, 1), D(2090, 9, 30),
                 D(2090, 12, 31), id="far-future-in-time"),
    pytest.param(rule("3m", "term_end", "12m", "12m"), D(2000, 1, 1), D(2090, 10, 1),
                 D(2091, 12, 31), id="far-future-late"),
    # 24 months, then monthly, from 2000-01-15: every term ends on a 14th.
    pytest.param(rule("1m", "term_end", "24m", "1m"), D(2000, 1, 15), D(2095, 6, 14),
                 D(2095, 7, 14), id="monthly-far-future-in-time"),
    pytest.param(rule("1m", "term_end", "24m", "1m"), D(2000, 1, 15), D(2095, 6, 20),
                 D(2095, 8, 14), id="monthly-far-future-late"),
    # § 188(3): 12 months then quarterly from 2001-05-31: ends fall in Feb/May/Aug/Nov, on the
    # 30th where the 31st exists, else on the month's last day: 2080-11-30, 2081-02-28,
    # 2081-05-30; in leap year 2084: 2084-02-29.
    pytest.param(rule("3m", "term_end", "12m", "3m"), D(2001, 5, 31), D(2080, 11, 1),
                 D(2081, 2, 28), id="quarterly-31st"),
    pytest.param(rule("3m", "term_end", "12m", "3m"), D(2001, 5, 31), D(2080, 11, 30),
                 D(2081, 2, 28), id="quarterly-31st-last-day"),
    pytest.param(rule("3m", "term_end", "12m", "3m"), D(2001, 5, 31), D(2080, 12, 1),
                 D(2081, 5, 30), id="quarterly-31st-late"),
    pytest.param(rule("3m", "term_end", "12m", "3m"), D(2001, 5, 31), D(2083, 11, 29),
                 D(2084, 2, 29), id="quarterly-31st-leap"),
    pytest.param(rule("3m", "term_end", "12m", "3m"), D(2001, 5, 31), D(2083, 12, 1),
                 D(2084, 5, 30), id="quarterly-31st-leap-late"),
    # § 188(3): monthly from 2026-01-31: 2026-02-28, 2026-03-30, 2026-04-30, 2026-05-30.
    pytest.param(rule("1m", "term_end", "1m", "1m"), D(2026, 1, 31), D(2026, 1, 31),
                 D(2026, 2, 28), id="monthly-31jan-first"),
    pytest.param(rule("1m", "term_end", "1m", "1m"), D(2026, 1, 31), D(2026, 2, 1),
                 D(2026, 3, 30), id="monthly-31jan-second"),
    pytest.param(rule("1m", "term_end", "1m", "1m"), D(2026, 1, 31), D(2026, 3, 31),
                 D(2026, 4, 30), id="monthly-31jan-third"),
    pytest.param(rule("1m", "term_end", "1m", "1m"), D(2026, 1, 31), D(2026, 4, 1),
                 D(2026, 5, 30), id="monthly-31jan-fourth"),
]

# 002 § 4.6: 30 days before the end of the current term, or the length of the term if that is
# shorter than 30 days. One-month terms from 2026-01-01: February (28 days) is shorter than 30
# days, so a notice received before February starts is in time for 28 Feb.
CAP = rule("30d", "term_end", "1m", "1m", cap=True)
NO_CAP = rule("30d", "term_end", "1m", "1m")
CAP_CASES = [
    pytest.param(CAP, D(2026, 1, 1), D(2026, 1, 15), D(2026, 2, 28), id="30d-suffice"),
    # 01-30 + 30 d = 03-01 > 02-28, but 01-30 + 28 d (February's length) = 02-27 <= 02-28.
    pytest.param(CAP, D(2026, 1, 1), D(2026, 1, 30), D(2026, 2, 28), id="feb-capped-30jan"),
    pytest.param(NO_CAP, D(2026, 1, 1), D(2026, 1, 30), D(2026, 3, 31), id="feb-uncapped-30jan"),
    pytest.param(CAP, D(2026, 1, 1), D(2026, 1, 31), D(2026, 2, 28), id="feb-capped-31jan"),
    pytest.param(NO_CAP, D(2026, 1, 1), D(2026, 1, 31), D(2026, 3, 31), id="feb-uncapped-31jan"),
    # Received in February: too late for February (02-01 + 28 d = 03-01); March has 31 days,
    # so the 30 days apply: 02-01 + 30 d = 03-03 <= 03-31.
    pytest.param(CAP, D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 31), id="mar-from-1feb"),
    pytest.param(CAP, D(2026, 1, 1), D(2026, 3, 1), D(2026, 3, 31), id="mar-on-1mar"),
    pytest.param(CAP, D(2026, 1, 1), D(2026, 3, 2), D(2026, 4, 30), id="apr-from-2mar"),
    pytest.param(CAP, D(2026, 1, 1), D(2026, 3, 31), D(2026, 4, 30), id="apr-on-31mar"),
    pytest.param(CAP, D(2026, 1, 1), D(2026, 4, 1), D(2026, 5, 31), id="may-from-1apr"),
    # Leap February (29 days): 2028-01-31 + 29 d = 02-29.
    pytest.param(CAP, D(2028, 1, 1), D(2028, 1, 31), D(2028, 2, 29), id="leap-feb-capped"),
    pytest.param(NO_CAP, D(2028, 1, 1), D(2028, 1, 31), D(2028, 3, 31), id="leap-feb-uncapped"),
    # § 188(3): monthly terms from 2025-10-31: ..., 2025-12-31 - 2026-01-30,
    # 2026-01-31 - 2026-02-28 (29 days), 2026-03-01 - 2026-03-30 (30 days).
    # Received before the 29-day term starts: in time for 02-28.
    pytest.param(CAP, D(2025, 10, 31), D(2026, 1, 30), D(2026, 2, 28), id="31st-start-capped"),
    pytest.param(NO_CAP, D(2025, 10, 31), D(2026, 1, 30), D(2026, 3, 30),
                 id="31st-start-uncapped"),
    # Received on the first day of the 29-day term: 01-31 + 29 d = 03-01 > 02-28, too late
    # (a "one month" notice from 01-31 would only be 28 days, shorter than the term);
    # next term: 01-31 + 30 d = 03-02 <= 03-30.
    pytest.param(CAP, D(2025, 10, 31), D(2026, 1, 31), D(2026, 3, 30), id="31st-start-late"),
    # § 188(3): monthly terms from 2026-01-29: 2026-01-29 - 2026-02-28 (31 days, so the
    # 30 days apply), 2026-03-01 - 2026-03-28 (28 days). 01-29 + 30 d = 02-28: in time;
    # 01-30 + 30 d = 03-01 > 02-28: too late for February (29 days' notice for a 31-day term).
    pytest.param(CAP, D(2026, 1, 29), D(2026, 1, 29), D(2026, 2, 28), id="29th-start-in-time"),
    pytest.param(CAP, D(2026, 1, 29), D(2026, 1, 30), D(2026, 3, 28), id="29th-start-late"),
    # Two-week terms from Mon 2026-03-02 (14 days < 30): ends 03-15, 03-29, 04-12, ...
    pytest.param(rule("30d", "term_end", "2w", "2w", cap=True), D(2026, 3, 2), D(2026, 3, 15),
                 D(2026, 3, 29), id="2w-terms-capped"),
    pytest.param(rule("30d", "term_end", "2w", "2w", cap=True), D(2026, 3, 2), D(2026, 3, 16),
                 D(2026, 4, 12), id="2w-terms-capped-late"),
    pytest.param(rule("30d", "term_end", "2w", "2w"), D(2026, 3, 2), D(2026, 3, 15),
                 D(2026, 4, 26), id="2w-terms-uncapped"),
]


@pytest.mark.parametrize(("notice_rule", "start", "received", "expected"),
                         MONTH_END_CASES + ANY_DAY_CASES + TERM_END_CASES + CAP_CASES)
def test_notice_end_hand_computed(notice_rule, start, received, expected):
    assert notice_end(notice_rule, received=received, start=start) == expected


@pytest.mark.parametrize("start", [None, D(2026, 1, 1)])
def test_anchor_none_cannot_be_cancelled(start):
    fixed = rule("3m", "none", "36m")
    with pytest.raises(CancellationNotAllowed) as info:
        notice_end(fixed, received=D(2026, 6, 1), start=start)
    message = str(info.value)
    assert message.strip()
    assert "Kündigung" in message  # German, for the portal to show as it is


# --- Objection windows (DOMAIN.md § 4, BGB § 193) -----------------------------------------------

OBJECTION_CASES = [
    # 2026-11-02 + 4 w = 11-30, a Monday: not moved.
    pytest.param("4w", D(2026, 11, 2), None, D(2026, 11, 30), id="4w-working-day"),
    # 2026-11-07 + 2 w = 11-21 Saturday -> Monday 11-23.
    pytest.param("2w", D(2026, 11, 7), None, D(2026, 11, 23), id="2w-saturday"),
    # 2026-10-25 + 4 w = 11-22 Sunday -> Monday 11-23.
    pytest.param("4w", D(2026, 10, 25), None, D(2026, 11, 23), id="4w-sunday"),
    # 2026-11-27 + 4 w = 12-25 (Christmas, Fri), 26 (Sat, holiday), 27 (Sun) -> 12-28.
    pytest.param("4w", D(2026, 11, 27), None, D(2026, 12, 28), id="4w-christmas"),
    # 2026-12-12 + 2 w = 12-26 (Sat, holiday) -> 12-28.
    pytest.param("2w", D(2026, 12, 12), None, D(2026, 12, 28), id="2w-boxing-day"),
    # 2027-02-27 + 30 d = 03-29 (Easter Monday) -> Tuesday 03-30.
    pytest.param("30d", D(2027, 2, 27), None, D(2027, 3, 30), id="30d-easter-monday"),
    # 2027-02-24 + 30 d = 03-26 (Good Friday), then Sat, Sun, Easter Monday -> 03-30.
    pytest.param("30d", D(2027, 2, 24), None, D(2027, 3, 30), id="30d-good-friday"),
    # 2026-04-01 + 30 d = 05-01 (Labour Day, Friday) -> Monday 05-04.
    pytest.param("30d", D(2026, 4, 1), None, D(2026, 5, 4), id="30d-labour-day"),
    # 2026-12-04 + 4 w = 2027-01-01 (New Year, Friday) -> Monday 2027-01-04.
    pytest.param("4w", D(2026, 12, 4), None, D(2027, 1, 4), id="4w-new-year"),
    # 2025-09-19 + 2 w = 2025-10-03 (German Unity Day, Friday) -> Monday 10-06.
    pytest.param("2w", D(2025, 9, 19), None, D(2025, 10, 6), id="2w-unity-day"),
    # 2026-04-30 + 2 w = 05-14 (Ascension) -> 05-15.
    pytest.param("2w", D(2026, 4, 30), None, D(2026, 5, 15), id="2w-ascension"),
    # 2026-01-31 + 1 month = 02-28 (Saturday) -> Monday 03-02.
    pytest.param("1m", D(2026, 1, 31), None, D(2026, 3, 2), id="1m-month-end-saturday"),
    # 2026-03-02 + 2 months = 05-02 (Saturday) -> Monday 05-04 (03-04 etc. irrelevant).
    pytest.param("2m", D(2026, 3, 2), None, D(2026, 5, 4), id="2m-saturday"),
    # State holidays: Epiphany 2026-01-06 (Tue) in Bavaria only.
    pytest.param("2w", D(2025, 12, 23), None, D(2026, 1, 6), id="epiphany-nationwide"),
    pytest.param("2w", D(2025, 12, 23), "BY", D(2026, 1, 7), id="epiphany-BY"),
    # Corpus Christi 2026-06-04 (Thu) in North Rhine-Westphalia, not nationwide, not in Berlin.
    pytest.param("4w", D(2026, 5, 7), None, D(2026, 6, 4), id="corpus-christi-nationwide"),
    pytest.param("4w", D(2026, 5, 7), "NW", D(2026, 6, 5), id="corpus-christi-NW"),
    pytest.param("4w", D(2026, 5, 7), "BE", D(2026, 6, 4), id="corpus-christi-BE"),
]


@pytest.mark.parametrize(("period", "received", "subdivision", "expected"), OBJECTION_CASES)
def test_objection_deadline(period, received, subdivision, expected):
    calendar = WorkCalendar.germany(subdivision=subdivision)
    assert objection_deadline(received=received, period=Period.parse(period),
                              calendar=calendar) == expected


# --- GDPR data-subject requests (DOMAIN.md § 6) --------------------------------------------------

GDPR_CASES = [
    # DOMAIN.md example: 2026-01-31 + 1 month = 02-28 (Saturday) -> Monday 03-02.
    pytest.param(D(2026, 1, 31), False, None, D(2026, 3, 2), id="domain-example"),
    pytest.param(D(2026, 3, 31), False, None, D(2026, 4, 30), id="31mar-to-30apr"),
    # 04-03 Good Friday, 04-04/05 weekend, 04-06 Easter Monday -> 04-07.
    pytest.param(D(2026, 3, 3), False, None, D(2026, 4, 7), id="good-friday"),
    pytest.param(D(2026, 3, 6), False, None, D(2026, 4, 7), id="easter-monday"),
    pytest.param(D(2028, 1, 31), False, None, D(2028, 2, 29), id="leap-29feb-tuesday"),
    pytest.param(D(2028, 2, 29), False, None, D(2028, 3, 29), id="from-29feb"),
    pytest.param(D(2026, 11, 26), False, None, D(2026, 12, 28), id="boxing-day-saturday"),
    pytest.param(D(2026, 11, 30), False, None, D(2026, 12, 30), id="30nov"),
    # Extended by two further months: three months from the receipt.
    pytest.param(D(2026, 1, 31), True, None, D(2026, 4, 30), id="extended-31jan"),
    pytest.param(D(2026, 2, 1), True, None, D(2026, 5, 4), id="extended-labour-day"),
    pytest.param(D(2025, 11, 30), True, None, D(2026, 3, 2), id="extended-28feb-saturday"),
    pytest.param(D(2027, 11, 30), True, None, D(2028, 2, 29), id="extended-leap"),
    # 2026-10-06 + 3 months = 2027-01-06 (Wednesday): Epiphany in Bavaria only.
    pytest.param(D(2026, 10, 6), True, None, D(2027, 1, 6), id="extended-epiphany-nationwide"),
    pytest.param(D(2026, 10, 6), True, "BY", D(2027, 1, 7), id="extended-epiphany-BY"),
]


@pytest.mark.parametrize(("received", "extended", "subdivision", "expected"), GDPR_CASES)
def test_gdpr_deadline(received, extended, subdivision, expected):
    calendar = WorkCalendar.germany(subdivision=subdivision)
    assert gdpr_deadline(received=received, calendar=calendar, extended=extended) == expected


def test_gdpr_deadline_is_one_month_by_default():
    assert gdpr_deadline(received=D(2026, 1, 31), calendar=nationwide()) == D(2026, 3, 2)


# --- End of contract (DOMAIN.md § 5) ------------------------------------------------------------

PURGE_CASES = [
    # DOMAIN.md example; reminder end - 28 d, provision order end - 30 d.
    pytest.param(D(2026, 12, 31), D(2027, 2, 25), D(2027, 2, 26), D(2026, 12, 3), D(2026, 12, 1),
                 id="domain-example"),
    # 2028-01-31 + 56 d: + 29 = 02-29, + 27 = 03-27 (leap year).
    pytest.param(D(2028, 1, 31), D(2028, 3, 27), D(2028, 3, 28), D(2028, 1, 3), D(2028, 1, 1),
                 id="leap-year"),
    pytest.param(D(2027, 1, 31), D(2027, 3, 28), D(2027, 3, 29), D(2027, 1, 3), D(2027, 1, 1),
                 id="common-year"),
    # 2028-03-01 - 28 d = 02-02, - 30 d = 01-31 (across 29 Feb).
    pytest.param(D(2028, 3, 1), D(2028, 4, 26), D(2028, 4, 27), D(2028, 2, 2), D(2028, 1, 31),
                 id="before-across-29feb"),
]


@pytest.mark.parametrize(("end", "kept", "purge", "reminder", "provision"), PURGE_CASES)
def test_purge_schedule(end, kept, purge, reminder, provision):
    schedule = purge_schedule(contract_end=end)
    assert isinstance(schedule, PurgeSchedule)
    assert schedule.kept_through == kept
    assert schedule.purge_on == purge
    assert schedule.export_reminder_on == reminder
    assert schedule.provision_order_by == provision


# --- Service hours and monitoring (DOMAIN.md § 7) ------------------------------------------------

SERVICE_HOURS_CASES = [
    # DOMAIN.md example: critical, Fri 17:00 + 4 h: 1 h Friday, 3 h Monday -> Mon 12:00.
    pytest.param(berlin(2026, 11, 20, 17), 4, None, berlin(2026, 11, 23, 12), id="domain-example"),
    # Non-critical 24 h: Fri 1 h, Mon 9 h, Tue 9 h, Wed 5 h -> Wed 14:00.
    pytest.param(berlin(2026, 11, 20, 17), 24, None, berlin(2026, 11, 25, 14),
                 id="non-critical-24h"),
    pytest.param(berlin(2026, 11, 23, 7, 30), 4, None, berlin(2026, 11, 23, 13),
                 id="before-opening"),
    pytest.param(berlin(2026, 11, 21, 10), 4, None, berlin(2026, 11, 23, 13), id="saturday"),
    pytest.param(berlin(2026, 11, 23, 14), 4, None, berlin(2026, 11, 23, 18),
                 id="lands-on-closing"),
    pytest.param(berlin(2026, 11, 23, 18), 1, None, berlin(2026, 11, 24, 10), id="at-closing"),
    pytest.param(berlin(2026, 11, 20, 17, 45), 0.5, None, berlin(2026, 11, 23, 9, 15),
                 id="half-hour-over-weekend"),
    pytest.param(berlin(2026, 11, 23, 10, 30), 0, None, berlin(2026, 11, 23, 10, 30),
                 id="zero-inside"),
    pytest.param(berlin(2026, 11, 22, 12), 0, None, berlin(2026, 11, 23, 9), id="zero-sunday"),
    # 24 Dec is a working day; 25/26 Dec holidays, 27 Sunday: Thu 2 h + Mon 2 h.
    pytest.param(berlin(2026, 12, 24, 16), 4, None, berlin(2026, 12, 28, 11), id="christmas"),
    # Thu 2026-04-02 15:00 + 9 h: 3 h Thursday, Good Friday ... Easter Monday, 6 h Tuesday.
    pytest.param(berlin(2026, 4, 2, 15), 9, None, berlin(2026, 4, 7, 15), id="easter"),
    # Bavaria: Epiphany (Tue 2026-01-06) is no service day there.
    pytest.param(berlin(2026, 1, 5, 17), 4, None, berlin(2026, 1, 6, 12), id="epiphany-DE"),
    pytest.param(berlin(2026, 1, 5, 17), 4, "BY", berlin(2026, 1, 7, 12), id="epiphany-BY"),
    # Clocks change on Sun 2026-03-29 and Sun 2026-10-25: service hours stay 09:00-18:00 local.
    pytest.param(berlin(2026, 3, 27, 16), 4, None, berlin(2026, 3, 30, 11), id="dst-start"),
    pytest.param(berlin(2026, 10, 23, 16), 4, None, berlin(2026, 10, 26, 11), id="dst-end"),
    # Received in UTC: 16:00 UTC = 17:00 Berlin in November.
    pytest.param(datetime(2026, 11, 20, 16, tzinfo=UTC), 4, None,
                 berlin(2026, 11, 23, 12), id="utc-input"),
    # 20:00 UTC = 22:00 Berlin in summer: the clock starts at 09:00 the next day.
    pytest.param(datetime(2026, 7, 1, 20, tzinfo=UTC), 1, None, berlin(2026, 7, 2, 10),
                 id="utc-evening-summer"),
]


@pytest.mark.parametrize(("start", "hours", "subdivision", "expected"), SERVICE_HOURS_CASES)
def test_add_service_hours(start, hours, subdivision, expected):
    calendar = WorkCalendar.germany(subdivision=subdivision)
    result = add_service_hours(calendar, start=start, hours=hours)
    assert result.tzinfo is not None
    assert result == expected
    # Same wall-clock time and offset in Berlin, not just the same instant.
    local = result.astimezone(BERLIN)
    assert (local.replace(tzinfo=None), local.utcoffset()) == (
        expected.replace(tzinfo=None), expected.utcoffset())


def test_service_hours_offsets_across_dst():
    calendar = nationwide()
    spring = add_service_hours(calendar, start=berlin(2026, 3, 27, 16), hours=4)
    autumn = add_service_hours(calendar, start=berlin(2026, 10, 23, 16), hours=4)
    assert spring.astimezone(UTC) == datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert autumn.astimezone(UTC) == datetime(2026, 10, 26, 10, tzinfo=UTC)


def test_custom_service_hours():
    calendar = WorkCalendar.germany(hours=(time(7), time(19)))
    # Fri 18:00 + 4 h with 07:00-19:00: 1 h Friday, 3 h Monday -> Mon 10:00.
    assert add_service_hours(calendar, start=berlin(2026, 11, 20, 18), hours=4) == berlin(
        2026, 11, 23, 10)


AV_CASES = [
    # DOMAIN.md example: Wed 11-18; Thu 19, Fri 20 (2 working days old), alarm Mon 11-23.
    pytest.param(D(2026, 11, 18), 2, None, D(2026, 11, 23), id="domain-example"),
    pytest.param(D(2026, 11, 20), 2, None, D(2026, 11, 25), id="friday"),
    pytest.param(D(2026, 11, 21), 2, None, D(2026, 11, 25), id="saturday"),
    # 22, 23, 24 Dec are working days.
    pytest.param(D(2026, 12, 21), 2, None, D(2026, 12, 24), id="christmas-eve"),
    # 23, 24, then 25/26 holidays, 27 Sunday: 28 Dec.
    pytest.param(D(2026, 12, 22), 2, None, D(2026, 12, 28), id="over-christmas"),
    # Thu 04-02, then Good Friday to Easter Monday, Tue 04-07, Wed 04-08.
    pytest.param(D(2026, 4, 1), 2, None, D(2026, 4, 8), id="over-easter"),
    pytest.param(D(2026, 11, 18), 0, None, D(2026, 11, 19), id="max-age-0"),
    pytest.param(D(2026, 11, 18), 5, None, D(2026, 11, 26), id="max-age-5"),
    # Fri 2026-01-02: Mon 5, Tue 6, Wed 7 nationwide; Tue 6 is Epiphany in Bavaria.
    pytest.param(D(2026, 1, 2), 2, None, D(2026, 1, 7), id="epiphany-DE"),
    pytest.param(D(2026, 1, 2), 2, "BY", D(2026, 1, 8), id="epiphany-BY"),
]


@pytest.mark.parametrize(("signature", "max_age", "subdivision", "alarm_day"), AV_CASES)
def test_av_alarm_check(signature, max_age, subdivision, alarm_day):
    calendar = WorkCalendar.germany(subdivision=subdivision)
    alarm = av_alarm_check(calendar, signature_date=signature, max_age_working_days=max_age)
    assert alarm == berlin(alarm_day.year, alarm_day.month, alarm_day.day, 9)
    local = alarm.astimezone(BERLIN)
    assert (local.date(), local.time()) == (alarm_day, time(9))


def test_av_alarm_default_max_age_is_two_working_days():
    assert av_alarm_check(nationwide(), signature_date=D(2026, 11, 18)) == berlin(
        2026, 11, 23, 9)


# --- Billing (DOMAIN.md § 8) ---------------------------------------------------------------------

BILLED_CASES = [
    pytest.param(D(2026, 11, 20), None, D(2027, 2, 10),
                 [(2026, 11), (2026, 12), (2027, 1), (2027, 2)], id="across-year-end"),
    pytest.param(D(2026, 3, 1), D(2026, 5, 15), D(2026, 12, 31),
                 [(2026, 3), (2026, 4), (2026, 5)], id="ends-mid-month"),
    pytest.param(D(2026, 3, 10), D(2026, 8, 20), D(2026, 5, 1),
                 [(2026, 3), (2026, 4), (2026, 5)], id="through-before-end"),
    pytest.param(D(2026, 2, 28), D(2026, 2, 28), D(2026, 12, 31), [(2026, 2)], id="one-day"),
    pytest.param(D(2026, 1, 31), D(2026, 2, 1), D(2026, 12, 31), [(2026, 1), (2026, 2)],
                 id="two-days-two-months"),
    pytest.param(D(2025, 12, 31), D(2027, 1, 1), D(2027, 6, 30),
                 [(2025, 12)] + [(2026, m) for m in range(1, 13)] + [(2027, 1)],
                 id="two-year-ends"),
    pytest.param(D(2026, 5, 1), None, D(2026, 4, 30), [], id="not-yet-active"),
]


@pytest.mark.parametrize(("active_from", "active_until", "through", "expected"), BILLED_CASES)
def test_billed_months(active_from, active_until, through, expected):
    assert billed_months(active_from=active_from, active_until=active_until,
                         through=through) == expected


SHARE_CASES = [
    # (first active day, remaining days including it, days in month)
    (D(2026, 2, 1), 28, 28), (D(2026, 2, 16), 13, 28), (D(2026, 2, 28), 1, 28),
    (D(2028, 2, 1), 29, 29), (D(2028, 2, 16), 14, 29), (D(2028, 2, 29), 1, 29),
    (D(2026, 4, 1), 30, 30), (D(2026, 4, 16), 15, 30), (D(2026, 4, 30), 1, 30),
    (D(2026, 1, 1), 31, 31), (D(2026, 1, 16), 16, 31), (D(2026, 1, 31), 1, 31),
]


@pytest.mark.parametrize(("active_from", "days", "month_days"), SHARE_CASES,
                         ids=[str(case[0]) for case in SHARE_CASES])
def test_first_month_share(active_from, days, month_days):
    share = first_month_share(active_from=active_from)
    assert isinstance(share, Decimal)
    assert share == Decimal(days) / Decimal(month_days)


@pytest.mark.parametrize(("active_from", "expected"), [
    (D(2026, 4, 16), Decimal("0.5")),
    (D(2026, 4, 1), Decimal(1)),
    (D(2026, 2, 22), Decimal("0.25")),
    (D(2028, 2, 29), Decimal(1) / Decimal(29)),
])
def test_first_month_share_exact_values(active_from, expected):
    assert first_month_share(active_from=active_from) == expected


# --- Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "15", "d", "15 days", "15x", "-3d", "1.5m", "3m-1d",
                                  "m3", None, 15])
def test_unparsable_period(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        Period.parse(text)


@pytest.mark.parametrize("kwargs", [{"days": -1}, {"weeks": -2}, {"months": -3, "days": 5}])
def test_negative_period(kwargs):
    with pytest.raises(ValueError, match="negative"):
        Period(**kwargs)


@pytest.mark.parametrize("make", [
    lambda: Period(),
    lambda: Period(days=0, weeks=0, months=0),
    lambda: Period.parse("0d"),
    lambda: Period.parse("0m0w"),
], ids=["no-arguments", "zeros", "0d", "0m0w"])
def test_empty_period(make):
    with pytest.raises(ValueError, match="empty"):
        make()


@pytest.mark.parametrize("anchor", ["quarter_end", "end_of_month", "monthend", ""])
def test_unknown_anchor(anchor):
    with pytest.raises(ValueError, match=f"[Uu]nknown anchor {re.escape(repr(anchor))}"):
        NoticeRule(Period.parse("15d"), anchor)


def test_naive_start_for_service_hours():
    with pytest.raises(ValueError, match="naive"):
        add_service_hours(nationwide(), start=datetime(2026, 11, 20, 17), hours=4)


def test_booking_end_before_start():
    with pytest.raises(ValueError, match="before"):
        billed_months(active_from=D(2026, 5, 10), active_until=D(2026, 5, 9),
                      through=D(2026, 12, 31))


@pytest.mark.parametrize("hours", [(time(18), time(9)), (time(9), time(9))])
def test_service_hours_closing_not_after_opening(hours):
    with pytest.raises(ValueError, match="before they close"):
        WorkCalendar.germany(hours=hours)


def test_unknown_state():
    with pytest.raises(ValueError, match="XX"):
        WorkCalendar.germany(subdivision="XX")


def test_datetime_instead_of_date():
    with pytest.raises(ValueError, match="received must be a date"):
        notice_end(rule("15d", "month_end"), received=datetime(2026, 11, 15, 12))


def test_minimum_term_needs_start():
    with pytest.raises(ValueError, match="start"):
        notice_end(rule("15d", "month_end", "12m"), received=D(2026, 6, 1))


def test_term_end_needs_minimum_term():
    with pytest.raises(ValueError, match="minimum term"):
        rule("3m", "term_end")


@pytest.mark.parametrize("hours", [-1, -0.5, float("nan"), float("inf")])
def test_bad_service_hours_amount(hours):
    with pytest.raises(ValueError, match="hours"):
        add_service_hours(nationwide(), start=berlin(2026, 11, 20, 17), hours=hours)


def test_negative_av_max_age():
    with pytest.raises(ValueError, match="max_age_working_days"):
        av_alarm_check(nationwide(), signature_date=D(2026, 11, 18), max_age_working_days=-1)


def test_purge_needs_a_date():
    with pytest.raises(ValueError, match="contract_end"):
        purge_schedule(contract_end=datetime(2026, 12, 31, 0, tzinfo=BERLIN))


def test_timedelta_sanity_of_constants():
    """The purge gap is exactly 8 weeks and the reminder 4 weeks (003 § 24.1, § 24.2)."""
    schedule = purge_schedule(contract_end=D(2026, 6, 30))
    assert schedule.contract_end == D(2026, 6, 30)
    assert schedule.kept_through - schedule.contract_end == timedelta(weeks=8)
    assert schedule.purge_on - schedule.kept_through == timedelta(days=1)
    assert schedule.contract_end - schedule.export_reminder_on == timedelta(weeks=4)
    assert schedule.contract_end - schedule.provision_order_by == timedelta(days=30)
