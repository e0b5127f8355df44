"""A draft AVV version with one measure per TOM category, and publishing it."""

from __future__ import annotations

import pytest

from gdpr.models import AvvVersion, TomCategory, TomMeasure


def draft_version(label: str = "2026-1", *, extra: str = "") -> AvvVersion:
    version = AvvVersion.objects.create(label=label)
    for order, category in enumerate(TomCategory):
        TomMeasure.objects.create(version=version, category=category, order=order,
                                  text=f"Maßnahme {category.value}{extra}")
    return version


@pytest.fixture
def published(db):
    from django.db import transaction

    from gdpr.services import avv_version_publish

    with transaction.atomic():
        return avv_version_publish(actor=None, version=draft_version())
