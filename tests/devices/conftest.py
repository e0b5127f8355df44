"""Fixtures of the device tests that several modules share."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from devices.models import DeviceImport

CLOCK_START = timezone.make_aware(datetime(2026, 11, 18, 9, 0))


@pytest.fixture
def clock(time_machine):
    """Time stands still at CLOCK_START and moves only by ``clock.shift``."""
    time_machine.move_to(CLOCK_START, tick=False)
    return time_machine


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def admin(world):
    return world["people"]["customer_admin"]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service and then its on-commit work (the inline preview/apply, file deletion)."""
    def _run(func, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = func(**kwargs)
        return DeviceImport.objects.get(pk=result.pk)
    return _run
