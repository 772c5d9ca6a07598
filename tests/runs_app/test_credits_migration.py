"""The migration that keeps credits to a millionth keeps every amount already
stored, however large."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from rightbrain.orgs.services import api_key_create
from runs_app.models import ApiKeyMonthlyUsage, DailyUsage, HourlyUsage, TaskRun
from tests.runs_app.usage_data import make_task, record_run

# The largest amount a run's numeric(12, 2) held, and a rollup amount of
# fifteen digits (numeric(16, 2) held sixteen, but SQLite keeps fifteen).
LARGEST_RUN = Decimal("9999999999.99")
LARGEST_SUM = Decimal("9999999999999.99")


def _migration_and_parent(executor: MigrationExecutor) -> tuple[tuple, tuple]:
    graph = executor.loader.graph
    migration = next(
        node
        for node in graph.nodes
        if node[0] == "runs_app" and node[1].endswith("_credits_to_a_millionth")
    )
    parent = next(
        dependency
        for dependency in graph.nodes[migration].dependencies
        if dependency[0] == "runs_app"
    )
    return migration, parent


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_credits_already_stored(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    key, _secret = api_key_create(
        project=personas.project, user=personas.owner, name="batch"
    )
    now = timezone.now()
    cheap = record_run(task, revision, at=now, credits="0.25", api_key=key)
    dear = record_run(task, revision, at=now, credits="0.50", api_key=key)
    unknown = record_run(task, revision, at=now, credits=None)

    executor = MigrationExecutor(connection)
    migration, parent = _migration_and_parent(executor)
    executor.migrate([parent])
    try:
        # The two-place columns, as the models before the migration knew them.
        before = executor.loader.project_state([parent]).apps
        before.get_model("runs_app", "TaskRun").objects.filter(pk=dear.pk).update(
            charged_credits=LARGEST_RUN
        )
        for name in ("HourlyUsage", "DailyUsage", "ApiKeyMonthlyUsage"):
            before.get_model("runs_app", name).objects.update(credits=LARGEST_SUM)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert migration in MigrationRecorder(connection).applied_migrations()
    credits = dict(TaskRun.objects.values_list("id", "charged_credits"))
    assert credits == {
        cheap.pk: Decimal("0.25"),
        dear.pk: LARGEST_RUN,
        unknown.pk: None,
    }
    for rollup in (HourlyUsage, DailyUsage, ApiKeyMonthlyUsage):
        assert rollup.objects.get().credits == LARGEST_SUM, rollup
    # And they now hold a millionth.
    TaskRun.objects.filter(pk=cheap.pk).update(charged_credits=Decimal("0.000004"))
    assert TaskRun.objects.get(pk=cheap.pk).charged_credits == Decimal("0.000004")
