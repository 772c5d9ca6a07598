"""Query helpers shared by the apps."""

from __future__ import annotations

from django.db.models import Model, QuerySet


def one_or_none[M: Model](queryset: QuerySet[M]) -> M | None:
    """The row of a query on a unique key, or None.

    `.first()` orders by primary key (or the model's default ordering);
    compiling that ORDER BY costs more than the rest of such a query on the hot
    paths (every API request's credential and task lookups), and one row needs
    no order.
    """
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None
