"""Micro-benchmark of portal/periods.py: 100,000 notice_end and 10,000 add_service_hours calls.

Reported as ratios against a baseline measured in the same run (plain ``date``/``datetime``
arithmetic that does the least any correct implementation must do), never as timed assertions.
"""

from __future__ import annotations

import calendar
import random
import time
import tracemalloc
from datetime import date, datetime, timedelta

from portal.periods import BERLIN, NoticeRule, Period, WorkCalendar, add_service_hours, notice_end

NOTICE_CALLS = 100_000
SERVICE_HOUR_CALLS = 10_000


def _receipts(count: int, seed: int = 7) -> list[date]:
    rng = random.Random(seed)
    first = date(2020, 1, 1).toordinal()
    return [date.fromordinal(first + rng.randrange(0, 365 * 15)) for _ in range(count)]


def _moments(count: int, seed: int = 11) -> list[datetime]:
    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=BERLIN)
    return [base + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 2)) for _ in range(count)]


def _timed(func, repeat: int = 3) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs, then the peak of traced memory in one more run
    (tracing slows the code down, so it is never part of the timing)."""
    elapsed = min(_once(func) for _ in range(repeat))
    tracemalloc.start()
    func()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak


def _once(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench_notice_end() -> dict:
    receipts = _receipts(NOTICE_CALLS)
    start = date(2019, 12, 16)
    rules = [
        NoticeRule(Period.parse("15d"), "month_end", min_term=Period.parse("12m")),
        NoticeRule(Period.parse("3m"), "term_end", min_term=Period.parse("12m"),
                   renewal=Period.parse("12m")),
        NoticeRule(Period.parse("3m"), "any_day"),
    ]
    fifteen = timedelta(days=15)

    def baseline():
        for received in receipts:
            day = received + fifteen
            date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])

    results = {}
    base_s, base_mem = _timed(baseline)
    for rule in rules:
        def run(rule=rule):
            for received in receipts:
                notice_end(rule, received=received, start=start)

        elapsed, peak = _timed(run)
        results[rule.anchor] = (elapsed, peak)
    return {"baseline": (base_s, base_mem), **results}


def bench_service_hours() -> dict:
    moments = _moments(SERVICE_HOUR_CALLS)
    cal = WorkCalendar.germany()
    hours = [4, 24, 0.5, 60]

    def baseline():
        for moment in moments:
            moment.astimezone(BERLIN) + timedelta(hours=4)

    def run():
        for index, moment in enumerate(moments):
            add_service_hours(cal, start=moment, hours=hours[index % len(hours)])

    return {"baseline": _timed(baseline), "add_service_hours": _timed(run)}


def main() -> None:
    print(f"periods: {NOTICE_CALLS:,} notice_end calls per rule")
    notice = bench_notice_end()
    base_s = notice.pop("baseline")[0]
    print(f"  baseline (date + 15 days, month end)  {base_s * 1e3:8.1f} ms"
          f"  {base_s / NOTICE_CALLS * 1e6:6.2f} µs/call")
    for anchor, (elapsed, peak) in notice.items():
        print(f"  notice_end {anchor:10}               {elapsed * 1e3:8.1f} ms"
              f"  {elapsed / NOTICE_CALLS * 1e6:6.2f} µs/call  ratio {elapsed / base_s:5.1f}x"
              f"  peak {peak / 1024:6.1f} KiB")
    print(f"periods: {SERVICE_HOUR_CALLS:,} add_service_hours calls (4 h, 24 h, 0.5 h, 60 h)")
    hours = bench_service_hours()
    base_s = hours["baseline"][0]
    elapsed, peak = hours["add_service_hours"]
    print(f"  baseline (astimezone + 4 hours)        {base_s * 1e3:8.1f} ms"
          f"  {base_s / SERVICE_HOUR_CALLS * 1e6:6.2f} µs/call")
    print(f"  add_service_hours                      {elapsed * 1e3:8.1f} ms"
          f"  {elapsed / SERVICE_HOUR_CALLS * 1e6:6.2f} µs/call  ratio {elapsed / base_s:5.1f}x"
          f"  peak {peak / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
