"""Checklist items 28–39, 43, 48–55: running tasks through the real litellm path."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs_app.models import HourlyUsage, ReportingGroup, TaskRun
from tests.helpers import ApiClient

GOOD = {"sentiment": "positive"}


def _run(client, task, body=None, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    path = f"/task/{task['id']}/run" + (f"?{query}" if query else "")
    return client.post(
        path, body if body is not None else {"task_input": {"review": "Great"}}
    )


# 28
def test_a_run_returns_every_field(run_task, fake_llm):
    client, task = run_task()
    fake_llm.answer(GOOD, prompt_tokens=2051, completion_tokens=130)
    response = _run(client, task)
    assert response.status_code == 200
    run = response.json()
    assert run["response"] == GOOD
    assert run["run_data"] == {"submitted": {"review": "Great"}}
    assert run["total_tokens"] == run["input_tokens"] + run["output_tokens"] == 2181
    # 2051 in / 130 out at $3 / $15 per million = $0.008103 = 8.10 credits
    assert run["charged_credits"] == "8.10"
    assert run["task_revision_id"] == task["revisions"][0]["id"]
    for field in ("id", "task_id", "created", "is_error", "llm_retries", "files"):
        assert field in run
    assert fake_llm.requests[0]["messages"][-1]["content"] == "Review: Great"


# 29
def test_input_errors(run_task):
    client, task = run_task()
    missing = _run(client, task, {"task_input": {}})
    assert missing.status_code == 422
    assert "review" in missing.json()["detail"][0]["msg"]
    old_style = _run(client, task, {"input_params": {"review": "x"}})
    assert old_style.status_code == 422
    assert "task_input" in old_style.json()["detail"][0]["msg"]
    not_object = _run(client, task, {"task_input": "Great"})
    assert not_object.status_code == 400
    assert not TaskRun.objects.exists()


# 30
def test_weights_split_traffic(run_task, fake_llm):
    from runs_app.services import revision_for_run
    from tasks_app.models import Task

    client, task = run_task()
    b = client.post(f"/task/{task['id']}", {"user_prompt": "B {review}"}).json()[
        "revisions"
    ][1]["id"]
    a = task["revisions"][0]["id"]
    client.post(
        f"/task/{task['id']}",
        {
            "active_revisions": [
                {"task_revision_id": a, "weight": 0.8},
                {"task_revision_id": b, "weight": 0.2},
            ]
        },
    )
    model_task = Task.objects.get(pk=task["id"])
    picks = [str(revision_for_run(task=model_task).pk) for _ in range(1000)]
    share = picks.count(a) / 1000
    assert 0.75 <= share <= 0.85


# 31, 55
def test_an_inactive_or_test_revision_runs_by_id(run_task, fake_llm):
    client, task = run_task()
    test_rev = client.post(
        f"/task/{task['id']}", {"user_prompt": "T {review}", "test": True}
    )
    assert test_rev.status_code == 200
    from tasks_app.models import TaskRevision

    test_id = TaskRevision.objects.get(test=True).pk
    fake_llm.answer(GOOD)
    run = _run(client, task, revision_id=test_id).json()
    assert run["task_revision_id"] == "test"
    assert fake_llm.requests[0]["messages"][-1]["content"] == "T Great"
    _client, other = run_task(name="Other")
    foreign = other["revisions"][0]["id"]
    assert _run(client, task, revision_id=foreign).status_code == 404


# 32, 33
def test_revision_tags_select_and_conflict(run_task, fake_llm, personas):
    from tasks_app.models import Tag

    client, task = run_task()
    beta = Tag.objects.create(
        project=personas.project, name="beta", entity_type="task_revision"
    )
    client.post(
        f"/task/{task['id']}",
        {"user_prompt": "Beta {review}", "revision_tags": [str(beta.pk)]},
    )
    fake_llm.answer(GOOD)
    assert _run(client, task, revision_tag="beta").status_code == 200
    assert fake_llm.requests[0]["messages"][-1]["content"] == "Beta Great"
    assert _run(client, task, revision_tag="nope").status_code == 404
    both = _run(
        client, task, revision_tag="beta", revision_id=task["revisions"][0]["id"]
    )
    assert both.status_code == 422


# 34
def test_reporting_groups_are_created_once(run_task, fake_llm):
    client, task = run_task()
    fake_llm.answer(GOOD).answer(GOOD)
    first = _run(client, task, reporting_group="acme").json()
    second = _run(client, task, reporting_group="acme").json()
    assert first["reporting_group_id"] == second["reporting_group_id"]
    assert first["reporting_group"]["name"] == "acme"
    assert ReportingGroup.objects.count() == 1


# 35
def test_forcing_the_fallback(run_task, fake_llm, served):
    _primary, backup = served
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    fake_llm.answer(GOOD)
    run = _run(client, task, use_fallback_model="true").json()
    assert run["used_fallback_model"] is True
    assert run["fallback_llm_model_id"] == str(backup.pk)
    assert fake_llm.requests[0]["model"] == "backup"
    _c, plain = run_task(name="No fallback")
    assert _run(client, plain, use_fallback_model="true").status_code == 422


# 36
def test_a_failing_primary_falls_back(run_task, fake_llm, served):
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    for _ in range(4):
        fake_llm.fail(500)
    fake_llm.answer(GOOD)
    run = _run(client, task).json()
    assert run["is_error"] is False
    assert run["used_fallback_model"] is True
    assert run["llm_retries"] >= 3
    assert run["primary_failure_reason"]
    assert [r["model"] for r in fake_llm.requests] == ["primary"] * 4 + ["backup"]


# 37
def test_the_circuit_sends_runs_to_the_fallback_until_the_cool_down(
    run_task, fake_llm, served, settings
):
    import time as clock

    from runs_app import circuit

    settings.RB_FALLBACK_COOLDOWN_SECONDS = 1
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    for _ in range(4):
        fake_llm.fail(500)
    fake_llm.answer(GOOD)
    _run(client, task)
    primary_calls = sum(r["model"] == "primary" for r in fake_llm.requests)
    fake_llm.answer(GOOD)
    run = _run(client, task).json()
    assert run["used_fallback_model"] is True
    assert sum(r["model"] == "primary" for r in fake_llm.requests) == primary_calls
    # After the cool-down the primary is probed again.
    clock.sleep(settings.RB_FALLBACK_COOLDOWN_SECONDS + 0.1)
    fake_llm.answer(GOOD)
    probe = _run(client, task).json()
    assert probe["used_fallback_model"] is False
    assert fake_llm.requests[-1]["model"] == "primary"
    assert not circuit.is_open(task["revisions"][0]["id"])


# 38, 43
def test_total_failure_is_a_500_and_an_error_run(run_task, fake_llm):
    client, task = run_task()
    for _ in range(8):
        fake_llm.answer({"wrong": "shape"})
    response = _run(client, task)
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "server_error"
    run = TaskRun.objects.get()
    assert str(run.pk) in body["detail"]
    assert run.is_error is True
    listed = client.get(f"/task/{task['id']}/run", status="error").json()["results"]
    assert [r["id"] for r in listed] == [str(run.pk)]
    assert (
        client.get(f"/task/{task['id']}/run", status="success").json()["results"] == []
    )


# 39
def test_a_disabled_task_refuses_runs(run_task, fake_llm):
    client, task = run_task(enabled=False)
    assert _run(client, task).status_code == 403
    assert fake_llm.requests == []


# 48, 49
def test_timings_reference_and_context(run_task, fake_llm):
    client, task = run_task()
    fake_llm.answer(GOOD)
    run = _run(
        client,
        task,
        {
            "task_input": {"review": "x"},
            "task_reference": "order-7",
            "context_id": "chat-1",
        },
    ).json()
    assert isinstance(run["input_processor_timing"], float)
    assert isinstance(run["llm_call_timing"], float)
    assert (run["reference"], run["context_id"]) == ("order-7", "chat-1")


# 50, 51
def test_run_list_and_fetch(run_task, fake_llm):
    client, task = run_task()
    ids = []
    for _ in range(3):
        fake_llm.answer(GOOD)
        ids.append(_run(client, task).json()["id"])
    first = client.get(f"/task/{task['id']}/run", page_limit=2).json()
    assert [r["id"] for r in first["results"]] == ids[::-1][:2]
    second = client.get(
        f"/task/{task['id']}/run",
        page_limit=2,
        cursor=first["pagination"]["next_cursor"],
    ).json()
    assert [r["id"] for r in second["results"]] == [ids[0]]
    assert client.get(f"/task/{task['id']}/run/{ids[0]}").json()["id"] == ids[0]
    assert client.get(f"/task/{task['id']}/run/not-a-uuid").status_code == 400
    _c, other = run_task(name="Other")
    assert client.get(f"/task/{other['id']}/run/{ids[0]}").status_code == 404


# 52
def test_run_visibility(run_task, fake_llm, api):
    owner, task = run_task("owner")
    fake_llm.answer(GOOD).answer(GOOD)
    owners_run = _run(owner, task).json()["id"]
    viewer = api("viewer")
    viewers_run = _run(viewer, task).json()["id"]
    listed = [r["id"] for r in viewer.get(f"/task/{task['id']}/run").json()["results"]]
    assert listed == [viewers_run]
    assert viewer.get(f"/task/{task['id']}/run/{owners_run}").status_code == 403
    owner.post(f"/task/{task['id']}", {"task_run_visibility": "all_viewers"})
    listed = [r["id"] for r in viewer.get(f"/task/{task['id']}/run").json()["results"]]
    assert set(listed) == {owners_run, viewers_run}
    owner.post(f"/task/{task['id']}", {"task_run_visibility": "editors_and_owners"})
    editor = api("editor")
    assert len(editor.get(f"/task/{task['id']}/run").json()["results"]) == 2


# 54
def test_the_task_token_runs_its_task_only(run_task, fake_llm, project_base):
    client, task = run_task()
    _c, other = run_task(name="Other")
    token = ApiClient(task["access_token"], project_base)
    fake_llm.answer(GOOD)
    run = _run(token, task)
    assert run.status_code == 200
    assert token.get(f"/task/{task['id']}/run").status_code == 200
    assert token.get(f"/task/{task['id']}/run/{run.json()['id']}").status_code == 200
    assert _run(token, other).status_code == 403
    assert token.post(f"/task/{task['id']}", {"name": "x"}).status_code == 403
    assert token.delete(f"/task/{task['id']}").status_code == 403


def test_runs_roll_up_by_hour_in_the_same_transaction(run_task, fake_llm):
    client, task = run_task()
    fake_llm.answer(GOOD, prompt_tokens=100, completion_tokens=10)
    fake_llm.answer(GOOD, prompt_tokens=50, completion_tokens=5)
    _run(client, task, reporting_group="acme")
    _run(client, task, reporting_group="acme")
    row = HourlyUsage.objects.get()
    assert (row.runs, row.errors, row.input_tokens, row.output_tokens) == (
        2,
        0,
        150,
        15,
    )
    assert row.credits == sum(r.charged_credits for r in TaskRun.objects.all())


def test_a_run_costs_the_same_few_queries_every_time(run_task, fake_llm):
    """Three reads (credential, task, the caller's task grants) and the
    writes: the run row and the rollups (hour, day, and the API key's month),
    in one statement on PostgreSQL."""
    client, task = run_task()
    for _ in range(2):  # the first run caches the active revisions
        fake_llm.answer(GOOD)
        assert _run(client, task).status_code == 200
    for _ in range(2):
        fake_llm.answer(GOOD)
        with CaptureQueriesContext(connection) as queries:
            assert _run(client, task).status_code == 200
        statements = [query["sql"] for query in queries.captured_queries]
        data = [sql for sql in statements if "SAVEPOINT" not in sql]
        rollups = [sql for sql in data if "usage (" in sql]
        assert len(rollups) == (1 if connection.vendor == "postgresql" else 3)
        assert "runs_app_dailyusage" in " ".join(rollups)
        assert "runs_app_hourlyusage" in " ".join(rollups)
        assert "runs_app_apikeymonthlyusage" in " ".join(rollups)
        assert len(data) == 4 + len(rollups), statements


def test_a_viewer_may_run_but_an_outsider_may_not(run_task, fake_llm, api):
    _client, task = run_task()
    fake_llm.answer(GOOD)
    assert _run(api("viewer"), task).status_code == 200
    assert _run(api("outsider"), task).status_code == 404
    assert _run(api(None), task).status_code == 401


@pytest.mark.django_db
def test_the_demo_model_runs_offline(api, personas):
    from tasks_app.models import LLMModel

    demo = LLMModel.objects.get(name="rightbrain-demo")
    client = api("editor")
    task = client.post(
        "/task",
        {
            "name": "Demo",
            "enabled": True,
            "system_prompt": "",
            "user_prompt": "Summarise {text}",
            "llm_model_id": str(demo.pk),
            "output_format": {"summary": "str", "ok": "bool"},
        },
    ).json()
    run = _run(client, task, {"task_input": {"text": "a long article"}}).json()
    assert set(run["response"]) == {"summary", "ok"}
    assert run["charged_credits"] == "0.00"


# 53
def test_project_run_lists_and_recent_runs_by_task(run_task, fake_llm, api):
    client, first = run_task()
    _c, second = run_task(name="Second")
    for task in (first, first, first, second):
        fake_llm.answer(GOOD)
        _run(client, task)
    listed = client.get("/task_run").json()["results"]
    assert len(listed) == 4
    only_second = client.get("/task_run", task_id=second["id"]).json()["results"]
    assert {r["task_id"] for r in only_second} == {second["id"]}
    recent = client.get("/task_run/recent", runs_per_task=2).json()["results"]
    assert [(g["task_name"], len(g["task_runs"])) for g in recent] == [
        ("Second", 1),
        ("Sentiment", 2),
    ]
    assert client.get("/task_run/recent", runs_per_task=51).status_code == 400
    assert client.get("/task_run", created_after="7 days ago").json()["results"]
    assert client.get("/task_run", created_after="tomorrowish").status_code == 400


def test_project_run_lists_respect_run_visibility(run_task, fake_llm, api):
    owner, task = run_task("owner")
    fake_llm.answer(GOOD).answer(GOOD)
    _run(owner, task)
    viewer = api("viewer")
    own = _run(viewer, task).json()["id"]
    assert [r["id"] for r in viewer.get("/task_run").json()["results"]] == [own]
    assert len(owner.get("/task_run").json()["results"]) == 2
    assert api("outsider").get("/task_run").status_code == 404
