"""Which devices are under anti-virus management: a hook for the layers above.

Devices do not know what was booked for them (contracts import devices, never the other
way); a layer that knows registers a condition here from its ``plugins`` module
(contracts: a running booking that includes anti-virus management). The rule that uses it,
which devices can have a stale signature, lives in ``devices.selectors.stale_signature``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from portal.registries import Registry


@dataclass(frozen=True)
class AvCoverage:
    key: str
    #: A condition on ``Device`` rows (a ``Q``, or an ``Exists`` over ``OuterRef("pk")``),
    #: built when a query is.
    condition: Callable[[], Q]


av_coverage: Registry[AvCoverage] = Registry("av_coverage", key=lambda entry: entry.key,
                                             order=lambda entry: entry.key)


def av_covered() -> Q:
    """Devices some registered layer puts under anti-virus management (none if none does)."""
    return reduce(or_, (Q(entry.condition()) for entry in av_coverage), Q(pk__in=[]))
