from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from rightbrain.orgs.models import Project, User
from runs_app.credits import credits_for
from runs_app.demo_history import demo_runs_create
from runs_app.models import NO_GROUP, DailyUsage, HourlyUsage, TaskRun
from runs_app.services import reporting_group_for
from tasks_app.gallery import task_create_from_template, template_named
from tasks_app.models import LLMModel, Task
from tasks_app.services import base_revision


@pytest.fixture
def priced_task(personas) -> Task:
    model = LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="priced",
        alias="Priced",
        litellm_model="openai/priced",
        model_params={"temperature": {"type": "number"}},
        input_price_per_mtok=Decimal("3"),
        output_price_per_mtok=Decimal("15"),
    )
    template = template_named("customer-inquiry-router")
    assert template is not None
    return task_create_from_template(
        project=personas.project,
        user=personas.owner,
        template=template,
        llm_model_id=model.pk,
    )


@pytest.mark.django_db
def test_past_runs_charge_credits_and_their_rollup_adds_up(personas, priced_task):
    now = timezone.now()
    revision = base_revision(priced_task)
    group = reporting_group_for(project=personas.project, name="web-shop")

    runs = demo_runs_create(
        task=priced_task,
        user=personas.owner,
        count=200,
        inputs=[{"customer_message": "Where is my parcel?"}],
        traffic=[(now - timedelta(days=7), [revision])],
        groups=[(group, 1), (None, 1)],
        end=now,
        rng=random.Random(1),
    )

    stored = TaskRun.objects.filter(task=priced_task)
    assert stored.count() == len(runs) == 200
    for run in stored:
        assert run.charged_credits == credits_for(
            model=revision.llm_model,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
        )
    total = stored.aggregate(credits=Sum("charged_credits"))["credits"]
    assert total > 0
    rollup = HourlyUsage.objects.filter(task=priced_task)
    assert rollup.aggregate(credits=Sum("credits"))["credits"] == total
    assert group is not None
    for key, rollup_key in ((group.pk, group.pk), (None, NO_GROUP)):
        in_group = stored.filter(reporting_group=key)
        rows = rollup.filter(reporting_group_key=rollup_key)
        assert rows.aggregate(n=Sum("runs"))["n"] == in_group.count()


@pytest.mark.django_db
def test_past_runs_are_in_the_past_with_time_ordered_ids(personas, priced_task):
    now = timezone.now()

    runs = demo_runs_create(
        task=priced_task,
        user=personas.owner,
        count=50,
        inputs=[{"customer_message": "Hello"}],
        traffic=[(now - timedelta(days=3), [base_revision(priced_task)])],
        groups=[(None, 1)],
        end=now,
        rng=random.Random(2),
    )

    assert all(now - timedelta(days=3) <= run.created < now for run in runs)
    assert [run.id for run in runs] == sorted(run.id for run in runs)
    priced_task.refresh_from_db()
    assert priced_task.last_run_at == runs[-1].created


@pytest.mark.django_db
def test_failed_past_runs_are_recorded_like_real_failures(personas, priced_task):
    now = timezone.now()

    demo_runs_create(
        task=priced_task,
        user=personas.owner,
        count=300,
        inputs=[{"customer_message": "Hello"}],
        traffic=[(now - timedelta(days=3), [base_revision(priced_task)])],
        groups=[(None, 1)],
        end=now,
        rng=random.Random(3),
    )

    failures = TaskRun.objects.filter(task=priced_task, is_error=True)
    assert failures.exists()
    for run in failures:
        assert run.response == {"error": run.primary_failure_reason}
        assert run.input_tokens == run.output_tokens == 0
        assert run.charged_credits == Decimal("0.00")
    errors = HourlyUsage.objects.filter(task=priced_task).aggregate(e=Sum("errors"))
    assert errors["e"] == failures.count()


# What seed_demo leaves to look at -----------------------------------------------------

CHART_IDS = (
    "usage-runs-chart",
    "usage-tokens-chart",
    "usage-credits-chart",
    "usage-latency-chart",
)


def _charts(html: str) -> dict[str, dict]:
    """The figures a usage page emits (`json_script`), by id."""
    found = {}
    for chart_id in CHART_IDS:
        match = re.search(
            rf'<script id="{chart_id}" type="application/json">(.*?)</script>',
            html,
            re.S,
        )
        assert match, chart_id
        found[chart_id] = json.loads(match.group(1))
    return found


def _numbers(figure: dict) -> list[float]:
    return [value for trace in figure["data"] for value in trace["y"] if value]


@pytest.mark.parametrize("range_", ["7d", "30d"])
def test_after_seed_demo_every_usage_chart_shows_real_figures(db, client, range_):
    call_command("seed_demo", stdout=StringIO())
    demo = User.objects.get(email="demo@rightbrain.local")
    client.force_login(demo)
    project = Project.objects.get(name="Demo project")
    sentiment = Task.objects.get(project=project, name="Sentiment Analyser")
    pages = {
        "task": f"/projects/{project.pk}/tasks/{sentiment.pk}/usage",
        "project": f"/projects/{project.pk}/usage",
    }

    for page, url in pages.items():
        response = client.get(url, {"range": range_})
        assert response.status_code == 200
        charts = _charts(response.content.decode())
        for chart_id, figure in charts.items():
            assert figure["data"], (page, chart_id)
            assert _numbers(figure), (page, chart_id)
        credits = sum(_numbers(charts["usage-credits-chart"]))
        rollup = DailyUsage.objects.filter(task__project=project).aggregate(
            credits=Sum("credits")
        )["credits"]
        assert credits > 0, page
        if range_ == "30d":
            # A month holds the whole history: the bars add up to every credit.
            assert credits == pytest.approx(float(rollup)), page
    # The task's credits come from the priced revision alone.
    task_page = client.get(pages["task"], {"range": range_}).content.decode()
    credit_traces = _charts(task_page)["usage-credits-chart"]["data"]
    charged = {trace["name"] for trace in credit_traces if any(trace["y"])}
    assert charged == {"Revision 2"}
