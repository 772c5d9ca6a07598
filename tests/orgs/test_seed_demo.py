from __future__ import annotations

import json
import shlex
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncHour
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rightbrain.orgs.models import ApiKey, Membership, Organization, Project, User
from runs_app.credits import credits_for
from runs_app.demo_history import DEMO_TASKS, demo_tasks_create
from runs_app.models import HourlyUsage, ReportingGroup, TaskRun
from tasks_app.gallery import template_named
from tasks_app.models import ActiveRevision, LLMModel, Task
from tests.helpers import ApiClient


def _seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_prints_a_login_that_works(client):
    output = _seed()
    assert "demo@rightbrain.local / rightbrain-demo" in output

    response = client.post(
        reverse("account_login"),
        {"login": "demo@rightbrain.local", "password": "rightbrain-demo"},
    )
    assert response.status_code == 302
    project = Project.objects.get(name="Demo project")
    assert str(project.pk) in output
    assert str(project.organization_id) in output
    assert client.get(reverse("project_home", args=[project.pk])).status_code == 200


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_json():
    first = json.loads(_seed("--json"))
    second = json.loads(_seed("--json"))

    assert set(first) == {"username", "password", "org_id", "project_id", "api_key"}
    # Keys are shown once, so each run issues a new one; everything else is stable.
    assert {k: v for k, v in first.items() if k != "api_key"} == {
        k: v for k, v in second.items() if k != "api_key"
    }
    assert User.objects.filter(email=first["username"]).count() == 1
    assert Organization.objects.filter(pk=first["org_id"]).count() == 1
    assert Membership.objects.get(user__email=first["username"]).role == "owner"
    assert Project.objects.filter(organization_id=first["org_id"]).count() == 1


@pytest.mark.django_db
def test_seed_demo_api_key_authenticates_and_replaces_the_previous_one():
    first = json.loads(_seed("--json"))
    second = json.loads(_seed("--json"))
    base = f"/api/v1/org/{second['org_id']}/project/{second['project_id']}"

    assert ApiClient(second["api_key"], base).get("/task").status_code == 200
    assert ApiClient(first["api_key"], base).get("/task").status_code == 401
    assert ApiKey.objects.filter(name="Demo key", revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_seed_demo_prints_the_api_key_in_plain_output():
    output = _seed()
    key = next(line for line in output.splitlines() if "API key:" in line)
    assert "rbk_" in key


@pytest.mark.django_db
def test_seed_demo_env_prints_shell_exports_that_work(client):
    import shlex

    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in _seed("--env").splitlines()
    )
    values = {name: shlex.split(value)[0] for name, value in exports.items()}
    assert set(values) == {"RB_ORG_ID", "RB_PROJECT_ID", "RB_API_URL", "RB_API_KEY"}
    response = client.get(
        f"/api/v1/org/{values['RB_ORG_ID']}/project/{values['RB_PROJECT_ID']}/task",
        headers={"Authorization": f"Bearer {values['RB_API_KEY']}"},
    )
    assert response.status_code == 200
    assert values["RB_API_URL"].endswith("/api/v1")


# Demo tasks and their history ---------------------------------------------------


def _demo_names() -> set[str]:
    names = set()
    for plan in DEMO_TASKS:
        template = template_named(plan.template)
        assert template is not None
        names.add(template.name)
    return names


def _run_totals(runs) -> dict:
    return runs.aggregate(
        runs=Count("id"),
        errors=Count("id", filter=Q(is_error=True)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        credits=Sum("charged_credits"),
        llm_seconds=Sum("llm_call_timing"),
    )


def _rollup_totals(rows) -> dict:
    return rows.aggregate(
        runs=Sum("runs"),
        errors=Sum("errors"),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        credits=Sum("credits"),
        llm_seconds=Sum("llm_seconds"),
    )


def _assert_same_totals(runs: dict, rollup: dict) -> None:
    assert {k: v for k, v in runs.items() if k != "llm_seconds"} == {
        k: v for k, v in rollup.items() if k != "llm_seconds"
    }
    assert rollup["llm_seconds"] == pytest.approx(runs["llm_seconds"])


@pytest.mark.django_db
def test_seed_demo_adds_gallery_tasks_that_run_on_the_demo_model():
    result = json.loads(_seed("--json"))

    tasks = Task.objects.filter(project_id=result["project_id"])
    assert set(tasks.values_list("name", flat=True)) == _demo_names()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    sentiment = tasks.get(name="Sentiment Analyser")
    for task in tasks.exclude(pk=sentiment.pk):
        assert {entry.task_revision.llm_model for entry in _active(task)} == {demo}
    # The A/B test: the demo model against a priced model that falls back to it.
    first, second = (entry.task_revision for entry in _active(sentiment))
    assert (first.llm_model, first.fallback_llm_model) == (demo, None)
    assert second.llm_model.name == "claude-sonnet-4-5-20250929"
    assert second.llm_model.input_price_per_mtok > 0
    assert second.fallback_llm_model == demo
    assert "simulated" in second.annotation
    assert "ANTHROPIC_API_KEY" in second.annotation
    assert sorted(entry.weight for entry in _active(sentiment)) == [
        Decimal("0.5"),
        Decimal("0.5"),
    ]


def _active(task):
    return (
        ActiveRevision.objects.filter(task=task)
        .select_related("task_revision__llm_model", "task_revision__fallback_llm_model")
        .order_by("task_revision__created")
    )


@pytest.mark.django_db
def test_seed_demo_charges_list_price_only_for_the_priced_revision():
    _seed()

    sentiment = Task.objects.get(name="Sentiment Analyser")
    demo_runs = TaskRun.objects.filter(llm_model__name="rightbrain-demo")
    priced_runs = TaskRun.objects.filter(task=sentiment).exclude(
        llm_model__name="rightbrain-demo"
    )
    assert set(demo_runs.values_list("charged_credits", flat=True)) == {Decimal("0.00")}
    assert priced_runs.filter(is_error=False).count() > 20
    for run in priced_runs.filter(is_error=False).select_related("llm_model"):
        assert run.charged_credits == credits_for(
            model=run.llm_model,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
        )
        assert run.charged_credits > 0
    # Only runs after the A/B split went to the priced revision.
    first_priced = priced_runs.aggregate(first=Min("created"))["first"]
    assert first_priced > timezone.now() - timedelta(days=13)


@pytest.mark.django_db
def test_seed_demo_says_which_history_is_charged_at_list_price():
    output = _seed()

    line = next(line for line in output.splitlines() if "Credits:" in line)
    assert "Sentiment Analyser" in line
    assert "Claude Sonnet 4.5" in line
    assert "simulated" in line


@pytest.mark.django_db
def test_the_priced_demo_revision_falls_back_to_the_demo_model_without_a_key(
    monkeypatch,
):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = json.loads(_seed("--json"))
    sentiment = Task.objects.get(name="Sentiment Analyser")
    priced = list(_active(sentiment))[1].task_revision
    base = f"/api/v1/org/{result['org_id']}/project/{result['project_id']}"

    response = ApiClient(result["api_key"], base).post(
        f"/task/{sentiment.pk}/run?revision_id={priced.pk}",
        {"task_input": {"customer_review": "Lovely kettle."}},
    )

    assert response.status_code == 200, response.json()
    run = response.json()
    assert run["task_revision_id"] == str(priced.pk)
    assert run["used_fallback_model"] is True
    assert run["charged_credits"] == "0.00"
    assert "ANTHROPIC_API_KEY" in run["primary_failure_reason"]


@pytest.mark.django_db
def test_seed_demo_records_a_month_of_runs_with_a_few_errors():
    before = timezone.now()
    _seed()

    runs = TaskRun.objects.all()
    assert runs.count() == sum(plan.runs for plan in DEMO_TASKS)
    for plan in DEMO_TASKS:
        template = template_named(plan.template)
        assert template is not None
        assert runs.filter(task__name=template.name).count() == plan.runs
    errors = runs.filter(is_error=True).count()
    assert 0.01 <= errors / runs.count() <= 0.06
    span = runs.aggregate(first=Min("created"), last=Max("created"))
    assert before - timedelta(days=30) <= span["first"] < before - timedelta(days=26)
    assert before - timedelta(days=2) < span["last"] < before
    assert runs.filter(is_error=False).values("input_tokens").distinct().count() > 50
    # The A/B test: both revisions of the split task have runs.
    sentiment = Task.objects.get(name="Sentiment Analyser")
    per_revision = runs.filter(task=sentiment).values("task_revision").distinct()
    assert per_revision.count() == 2
    groups = ReportingGroup.objects.values_list("name", flat=True)
    assert set(groups) == {"web-shop", "mobile-app"}
    assert runs.filter(reporting_group__name="mobile-app").exists()


@pytest.mark.django_db
def test_seed_demo_rollups_equal_the_sums_over_runs():
    _seed()

    for task in Task.objects.all():
        _assert_same_totals(
            _run_totals(TaskRun.objects.filter(task=task)),
            _rollup_totals(HourlyUsage.objects.filter(task=task)),
        )
    per_hour = Counter(
        (run["task_id"], run["hour"])
        for run in TaskRun.objects.annotate(hour=TruncHour("created")).values(
            "task_id", "hour"
        )
    )
    rollup_hours = {(row.task_id, row.hour): 0 for row in HourlyUsage.objects.all()}
    for row in HourlyUsage.objects.all():
        rollup_hours[(row.task_id, row.hour)] += row.runs
    assert rollup_hours == dict(per_hour)


@pytest.mark.django_db
def test_seed_demo_twice_adds_no_tasks_and_no_runs():
    _seed()
    tasks, runs = Task.objects.count(), TaskRun.objects.count()
    rollup = _rollup_totals(HourlyUsage.objects.all())

    output = _seed()

    assert Task.objects.count() == tasks
    assert TaskRun.objects.count() == runs
    assert _rollup_totals(HourlyUsage.objects.all()) == rollup
    assert "none added" in output


@pytest.mark.django_db
def test_seed_demo_prints_a_curl_command_that_runs_a_demo_task():
    output = _seed()
    line = next(line for line in output.splitlines() if "Try a run:" in line)
    words = shlex.split(line.split("Try a run:", 1)[1])
    url = next(word for word in words if word.startswith("http"))
    token = next(w for w in words if w.startswith("Authorization: Bearer "))
    body = json.loads(words[words.index("-d") + 1])
    task = Task.objects.get(name="Sentiment Analyser")
    before = HourlyUsage.objects.filter(task=task).aggregate(n=Sum("runs"))["n"]

    client = Client(headers={"Authorization": token.split(": ", 1)[1]})
    response = client.post(
        urlsplit(url).path, json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["response"]["sentiment"]
    after = HourlyUsage.objects.filter(task=task).aggregate(n=Sum("runs"))["n"]
    assert after == before + 1


@pytest.mark.django_db
def test_demo_history_is_the_same_for_the_same_moment(personas):
    now = timezone.now()

    def history(project) -> list[tuple]:
        demo_tasks_create(project=project, user=personas.owner, now=now)
        return list(
            TaskRun.objects.filter(task__project=project)
            .order_by("created")
            .values_list(
                "task__name",
                "created",
                "is_error",
                "input_tokens",
                "output_tokens",
                "reporting_group__name",
            )
        )

    assert history(personas.project) == history(personas.other_project)


@pytest.mark.django_db
def test_seed_demo_without_the_demo_model_still_seeds_the_login():
    LLMModel.objects.filter(name="rightbrain-demo").update(enabled=False)
    out, err = StringIO(), StringIO()

    call_command("seed_demo", stdout=out, stderr=err)

    assert "demo@rightbrain.local / rightbrain-demo" in out.getvalue()
    assert "demo model is disabled or missing" in err.getvalue()
    assert not Task.objects.exists()
