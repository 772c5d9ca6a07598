"""`{{ value|credits }}`: credits as pages show them, two places rounded half
up (runs_app/credits.py). None (an unknown price) stays None, for the page's
own `default_if_none`."""

from __future__ import annotations

from decimal import Decimal

from django import template

from runs_app.credits import credits_shown

register = template.Library()


@register.filter
def credits(value: Decimal | None) -> str | None:
    return credits_shown(value)
