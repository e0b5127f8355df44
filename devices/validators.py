"""Field validators of the device inventory (one home for each rule; forms, services and the
import engine all call them)."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _


def is_after_today(value: date | datetime) -> bool:
    """Whether ``value`` lies after today (Europe/Berlin); times count by their local date."""
    today = timezone.localdate()
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date() > today
    return value > today


def validate_not_after_today(value: date | datetime | None) -> None:
    """A last-seen time or a signature date cannot lie in the future."""
    if value is not None and is_after_today(value):
        raise ValidationError(
            _("Das Datum %(value)s liegt in der Zukunft; erlaubt ist höchstens das heutige "
              "Datum.") % {"value": _shown(value)}, code="future")


def _shown(value: date | datetime) -> str:
    """The date as the reader's language writes it (18.11.2026, 18/11/2026)."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")
