"""Field validators of the device inventory (one home for each rule; forms, services and the
import engine all call them)."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

#: A DNS hostname (RFC 1123 labels, underscores allowed as Windows names have them).
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*$")


def validate_hostname(value: str) -> None:
    """The hostname rule of ``Device.hostname``: the model field, the device forms (portal
    and admin), ``device_create``/``device_update`` (``full_clean``) and the import all call
    it, with this one message."""
    if not HOSTNAME.match(value):
        raise ValidationError(_("„%(value)s“ ist kein gültiger Hostname (Buchstaben, Ziffern, "
                                "Bindestriche, Punkte).") % {"value": value}, code="hostname")


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
