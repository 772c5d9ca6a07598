"""The catalogue's decisions on the run path (domain.md §14): a revision on a
retired model runs on its replacement and the run records the model that
answered; a disabled model, or a retired one with no replacement, is refused
with a 422 before anything is written. The fallback obeys the same rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from runs_app.models import TaskRun
from tasks_app.models import LLMModel, Task

GOOD = {"sentiment": "positive"}
HX = {"HX-Request": "true", "HX-Target": "run-workspace"}


@pytest.fixture
def successor(db, fake_llm):
    return LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="successor",
        alias="Successor",
        litellm_model="openai/successor",
        api_base=fake_llm.base_url,
        supports_vision=True,
        model_params={
            "temperature": {"type": "number", "minimum": 0, "maximum": 1},
            "max_tokens": {"type": "integer", "minimum": 1},
        },
        input_price_per_mtok=Decimal("1"),
        output_price_per_mtok=Decimal("1"),
    )


def _retire(model: LLMModel, replaced_by: LLMModel | None = None) -> None:
    model.retired = timezone.now()
    model.replaced_by = replaced_by
    model.save()


def _disable(model: LLMModel) -> None:
    model.enabled = False
    model.save()


def _run(client, task, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    path = f"/task/{task['id']}/run" + (f"?{query}" if query else "")
    return client.post(path, {"task_input": {"review": "Great"}})


def _refusal(response) -> str:
    assert response.status_code == 422, response.content
    return response.json()["detail"][0]["msg"]


def test_a_retired_model_runs_on_its_replacement(run_task, fake_llm, served, successor):
    primary, _backup = served
    client, task = run_task(llm_config={"temperature": 1.5})
    _retire(primary, replaced_by=successor)
    fake_llm.answer(GOOD, prompt_tokens=1000, completion_tokens=1000)
    run = _run(client, task).json()
    assert run["is_error"] is False
    assert run["llm_model_id"] == str(successor.pk)
    assert run["task_revision_id"] == task["revisions"][0]["id"]
    # Priced as the model that answered: $1 + $1 per million tokens.
    assert run["charged_credits"] == "2.00"
    request = fake_llm.requests[0]
    assert request["model"] == "successor"
    # 1.5 is past the successor's maximum: it runs at its own default.
    assert "temperature" not in request
    assert TaskRun.objects.get().llm_model == successor


def test_a_replacement_that_retired_in_turn_hands_on_to_its_own(
    run_task, fake_llm, served, successor
):
    primary, backup = served
    client, task = run_task()
    _retire(primary, replaced_by=backup)
    _retire(backup, replaced_by=successor)
    fake_llm.answer(GOOD)
    assert _run(client, task).json()["llm_model_id"] == str(successor.pk)
    assert [r["model"] for r in fake_llm.requests] == ["successor"]


def test_a_retired_model_without_replacement_is_refused_before_anything_is_written(
    run_task, fake_llm, served
):
    primary, _backup = served
    client, task = run_task()
    _retire(primary)
    message = _refusal(_run(client, task))
    assert "Primary is retired and has no replacement" in message
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


@pytest.mark.parametrize("which", ["model", "replacement"])
def test_a_disabled_model_is_refused(run_task, fake_llm, served, successor, which):
    primary, _backup = served
    client, task = run_task()
    if which == "model":
        _disable(primary)
        expected = "Primary is disabled"
    else:
        _retire(primary, replaced_by=successor)
        _disable(successor)
        expected = "Primary (replaced by Successor) is disabled"
    assert expected in _refusal(_run(client, task))
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


def test_an_asynchronous_run_is_refused_before_it_is_queued(run_task, fake_llm, served):
    primary, _backup = served
    client, task = run_task()
    _retire(primary)
    _refusal(_run(client, task, **{"async": "true"}))
    assert not TaskRun.objects.exists()


def test_a_retired_fallback_runs_on_its_replacement(
    run_task, fake_llm, served, successor
):
    _primary, backup = served
    client, task = run_task(fallback_llm_model_id=str(backup.pk))
    _retire(backup, replaced_by=successor)
    fake_llm.answer(GOOD)
    run = _run(client, task, use_fallback_model="true").json()
    assert run["used_fallback_model"] is True
    assert run["fallback_llm_model_id"] == run["llm_model_id"] == str(successor.pk)
    assert [r["model"] for r in fake_llm.requests] == ["successor"]


def test_a_fallback_that_cannot_answer_refuses_the_run(run_task, fake_llm, served):
    _primary, backup = served
    client, task = run_task(fallback_llm_model_id=str(backup.pk))
    _retire(backup)
    message = _refusal(_run(client, task))
    assert "Backup is retired and has no replacement" in message
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


def test_the_dashboard_run_uses_the_replacement_and_records_it(
    personas, as_user, run_task, fake_llm, served, successor
):
    primary, _backup = served
    _client, task = run_task()
    _retire(primary, replaced_by=successor)
    fake_llm.answer(GOOD)
    url = reverse("task_run", args=[personas.project.pk, task["id"]])
    response = as_user("editor").post(url, {"input_review": "Great"})
    assert response.status_code == 302
    run = TaskRun.objects.get()
    assert run.llm_model == successor
    assert run.response == GOOD
    page = as_user("editor").get(response["Location"])
    assert "Retired: runs on Successor" in page.text
    assert "<dt>Model</dt><dd>Successor" in page.text


def test_the_dashboard_refuses_a_run_no_model_can_answer(
    personas, as_user, run_task, fake_llm, served
):
    primary, _backup = served
    _client, task = run_task()
    _retire(primary)
    url = reverse("task_run", args=[personas.project.pk, task["id"]])
    response = as_user("editor").post(url, {"input_review": "Great"}, headers=HX)
    assert response.status_code == 200
    assert "Primary is retired and has no replacement" in response.text
    assert "Retired: runs are refused" in response.text
    assert not TaskRun.objects.exists()
    assert Task.objects.get(pk=task["id"]).last_run_at is None
    assert fake_llm.requests == []
