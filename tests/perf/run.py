"""``make bench``: run every ``tests/perf/bench_*.py`` module's ``main()`` in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import tests.perf


def main(selected: list[str]) -> None:
    for module_info in pkgutil.iter_modules(tests.perf.__path__):
        name = module_info.name
        if name.startswith("bench_") and (not selected or name in selected):
            importlib.import_module(f"tests.perf.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
