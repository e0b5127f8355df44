"""Template filters of the contract pages: euro amounts (``portal.money.eur``), notice rules
in plain words (``contracts.terms.notice_words``) and months."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.formats import date_format

from contracts.terms import notice_words
from portal.money import eur

register = template.Library()


#: Thin filters over the modules that hold the rules (portal.money, contracts.terms).
register.filter("eur", eur)
register.filter("notice_words", notice_words)


@register.filter
def month_words(value) -> str:
    """A (year, month) pair → "Januar 2027"."""
    if not value:
        return "–"
    year, month = value
    return date_format(date(year, month, 1), "F Y")
