"""Credits (domain.md §8.2): 1 credit = RB_USD_PER_CREDIT of list price ($0.001).

A model without a known price charges None, never a silent zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from tasks_app.models import LLMModel

_MILLION = Decimal(1_000_000)
_CENTS = Decimal("0.01")


def credits_for(
    *, model: LLMModel, input_tokens: int, output_tokens: int
) -> Decimal | None:
    if model.input_price_per_mtok is None or model.output_price_per_mtok is None:
        return None
    usd = (
        Decimal(input_tokens) * model.input_price_per_mtok
        + Decimal(output_tokens) * model.output_price_per_mtok
    ) / _MILLION
    credits = usd / Decimal(str(settings.RB_USD_PER_CREDIT))
    return credits.quantize(_CENTS, rounding=ROUND_HALF_UP)
