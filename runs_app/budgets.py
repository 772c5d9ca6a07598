"""Monthly credit budgets: a project's and an API key's, held before each run.

A budget is a number of credits per calendar month (UTC); null means none. A
run is refused (402) before it starts once this month's spend has reached a
budget, and nothing of it is recorded. Runs already under way finish and are
charged, so spend can pass a budget by the runs in flight when it was reached.
Runs whose model has no known price charge no credits and never reach one.
Spend is compared exactly, to the millionth of a credit runs are charged
(runs_app/credits.py): a thousand runs of 0.004 credits reach a budget of 4.00.

The spend is read from rollups, never by summing runs: a project's from its
daily usage rows (runs of every kind: API, dashboard, share links), a key's
from its one monthly row. Neither is read when no budget is set.

The project's read grows with its tasks, not its runs: on PostgreSQL, 300
tasks at the end of a month (9,300 daily rows) sum in about 5 ms. A project
monthly row would make it one row, but every run of the project would then
update that one row and queue on its lock until commit; the daily rows are
per task, so runs of different tasks never wait for each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Sum
from django.utils import timezone

from rightbrain.errors import BudgetExhausted
from rightbrain.orgs.models import ApiKey, Project
from runs_app.credits import credits_shown
from runs_app.models import ApiKeyMonthlyUsage, DailyUsage


def month_of(moment: datetime) -> datetime:
    """Midnight UTC on the first day of `moment`'s month."""
    return moment.astimezone(UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )


def month_after(month: datetime) -> datetime:
    if month.month == 12:
        return month.replace(year=month.year + 1, month=1)
    return month.replace(month=month.month + 1)


def project_credits_in_month(*, project_id: UUID, month: datetime) -> Decimal:
    """Credits charged to the project's runs since `month` began: a sum over
    the daily rollup rows (one per task, revision, group and model a day)."""
    total = DailyUsage.objects.filter(
        task__project_id=project_id, day__gte=month
    ).aggregate(total=Sum("credits"))["total"]
    return total or Decimal(0)


def api_key_credits_in_month(*, api_key_id: UUID, month: datetime) -> Decimal:
    credits = (
        ApiKeyMonthlyUsage.objects.filter(api_key_id=api_key_id, month=month)
        .values_list("credits", flat=True)
        .first()
    )
    return credits or Decimal(0)


def api_keys_credits_in_month(
    *, api_key_ids: list[UUID], month: datetime
) -> dict[UUID, Decimal]:
    """Each key's spend this month, in one query (for lists of keys)."""
    return dict(
        ApiKeyMonthlyUsage.objects.filter(
            api_key_id__in=api_key_ids, month=month
        ).values_list("api_key_id", "credits")
    )


@dataclass(frozen=True)
class BudgetStatus:
    budget: Decimal
    spent: Decimal
    resets: datetime

    @property
    def reached(self) -> bool:
        return self.spent >= self.budget


def project_budget_status(
    *, project: Project, now: datetime | None = None
) -> BudgetStatus | None:
    """The project's budget and this month's spend; None (and no query) when
    it has no budget."""
    if project.monthly_credit_budget is None:
        return None
    month = month_of(now or timezone.now())
    return BudgetStatus(
        budget=project.monthly_credit_budget,
        spent=project_credits_in_month(project_id=project.pk, month=month),
        resets=month_after(month),
    )


def budgets_check(
    *, project: Project, api_key: ApiKey | None, now: datetime | None = None
) -> None:
    """BudgetExhausted (402) when the project's or the key's budget for this
    month is spent; otherwise nothing (and no query for an absent budget)."""
    month = month_of(now or timezone.now())
    resets = month_after(month)
    if project.monthly_credit_budget is not None:
        spent = project_credits_in_month(project_id=project.pk, month=month)
        if spent >= project.monthly_credit_budget:
            raise BudgetExhausted(
                f"The project's monthly budget of "
                f"{credits_shown(project.monthly_credit_budget)} credits is spent "
                f"({credits_shown(spent)} credits this month). Runs resume on "
                f"{resets:%Y-%m-%d} at 00:00 UTC, or when an owner or admin raises "
                "the budget.",
                resets=resets,
            )
    if api_key is not None and api_key.monthly_credit_budget is not None:
        spent = api_key_credits_in_month(api_key_id=api_key.pk, month=month)
        if spent >= api_key.monthly_credit_budget:
            raise BudgetExhausted(
                f"This API key's monthly budget of "
                f"{credits_shown(api_key.monthly_credit_budget)} credits is spent "
                f"({credits_shown(spent)} credits this month). Its runs resume on "
                f"{resets:%Y-%m-%d} at 00:00 UTC, or when an owner or admin raises "
                "the budget.",
                resets=resets,
            )
