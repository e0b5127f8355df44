"""Money, one home (DESIGN "Style": money as ``Decimal`` with explicit rounding): amounts
are rounded half up to cents, and shown in the reader's language ("12,60 €" in German,
"€12.60" in English). Every app rounds and formats through here; templates use the thin
``eur`` filter over :func:`eur` (contracts/templatetags/contract_terms.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

CENT = Decimal("0.01")


def money(value: Decimal | int | str | float) -> Decimal:
    """``value`` rounded to cents, half up: ``Decimal("2.675")`` → ``Decimal("2.68")``. A
    float is read by its shortest text (``2.675`` as written, not as its binary value)."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def eur(value) -> str:
    """An amount in euros for the current language, to the cent and grouped by thousands:
    ``8.5`` → "8,50 €" (de) / "€8.50" (en); nothing (``None``, "") → "–"."""
    if value is None or value == "":
        return "–"
    return _("%(amount)s €") % {"amount": floatformat(money(value), "2g")}
