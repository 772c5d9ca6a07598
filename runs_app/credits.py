"""Credits (domain.md §8.2): 1 credit = RB_USD_PER_CREDIT of list price ($0.001).

A run's credits are kept to a millionth of a credit (STORED_PLACES), and every
sum (the rollups, the reports, the monthly spend a budget is held to) adds
those exact values. Rounding each run to a hundredth first would make a
thousand runs of 0.004 credits add up to 0.00 instead of 4.00. Figures are
rounded half up to two places only where they are shown: API strings, pages,
CSV exports and charts (`credits_shown`).

A model without a known price charges None, never a silent zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import overload

from django.conf import settings

from tasks_app.models import LLMModel

STORED_PLACES = 6
_MILLION = Decimal(1_000_000)
_STORED = Decimal(1).scaleb(-STORED_PLACES)
_SHOWN = Decimal("0.01")


def credits_for(
    *, model: LLMModel, input_tokens: int, output_tokens: int
) -> Decimal | None:
    if model.input_price_per_mtok is None or model.output_price_per_mtok is None:
        return None
    usd = (
        Decimal(input_tokens) * model.input_price_per_mtok
        + Decimal(output_tokens) * model.output_price_per_mtok
    ) / _MILLION
    return credits_stored(usd / Decimal(str(settings.RB_USD_PER_CREDIT)))


def credits_stored(credits: Decimal) -> Decimal:
    """`credits` to the millionth a run keeps, half up."""
    return credits.quantize(_STORED, rounding=ROUND_HALF_UP)


@overload
def credits_shown(credits: Decimal) -> str: ...
@overload
def credits_shown(credits: None) -> None: ...
def credits_shown(credits: Decimal | None) -> str | None:
    """`credits` as shown and answered: two places, half up ("0.01" for
    0.005; Python's own `:.2f` would round half to even). None (an unknown
    price) stays None."""
    if credits is None:
        return None
    return format(credits.quantize(_SHOWN, rounding=ROUND_HALF_UP), "f")
