"""Run callables at the same moment in threads, each with its own database connection (the
PostgreSQL race tests: two workers starting one job at once)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call in its own thread behind one barrier and wait for all; returns their
    results in the order they finished and raises the first error any of them hit."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        from django.db import connection

        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
