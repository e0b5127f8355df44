"""portal.money: the one home of rounding (half up, to cents) and of showing euro amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from portal.money import eur, money


@pytest.mark.parametrize(("value", "cents"), [
    (Decimal("2.675"), Decimal("2.68")),   # half up, not banker's rounding (2.67 or 2.68)
    (Decimal("2.665"), Decimal("2.67")),
    (Decimal("-2.675"), Decimal("-2.68")),
    (Decimal("12.6"), Decimal("12.60")),
    (2.675, Decimal("2.68")),              # a float as written, not its binary 2.67499…
    (5, Decimal("5.00")),
    ("149", Decimal("149.00")),
])
def test_money_rounds_half_up_to_cents(value, cents):
    result = money(value)
    assert result == cents and result.as_tuple().exponent == -2


@pytest.mark.parametrize(("language", "value", "shown"), [
    ("de", Decimal("12.6"), "12,60 €"),
    ("de", Decimal("1234.5"), "1.234,50 €"),
    ("de", Decimal("0.005"), "0,01 €"),
    ("en", Decimal("12.6"), "€12.60"),
    ("en", Decimal("1234.5"), "€1,234.50"),
    ("de", None, "–"),
    ("en", "", "–"),
])
def test_eur_shows_the_amount_for_the_current_language(language, value, shown):
    with translation.override(language):
        assert eur(value) == shown
        # The template filter is a thin alias of the same function.
        rendered = Template("{% load contract_terms %}{{ value|eur }}").render(
            Context({"value": value}))
        assert rendered == shown
