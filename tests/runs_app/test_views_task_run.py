"""The Run Task view (dashboard.md §3, checklist 134–137): configuration,
inputs from input_params, a run with its friendly output, complete JSON and
execution details, and the history of runs the user may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runs_app.models import TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task
from tasks_app.services import RevisionSpec, task_create

HX = {"HX-Request": "true", "HX-Target": "run-workspace"}


@pytest.fixture
def task(personas) -> Task:
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=demo.pk,
            output_format={
                "sentiment": {"type": "str", "options": ["positive", "negative"]},
                "points": {"type": "list", "item_type": "str"},
                "ok": "bool",
                "vendor": {"type": "object", "nested_structure": {"name": "str"}},
            },
            input_param_descriptions={"customer_review": "The review text"},
        ),
    )


def _url(personas, task) -> str:
    return reverse("task_run", args=[personas.project.pk, task.pk])


def _run(client, personas, task, headers=None, **values):
    data = {"input_customer_review": "Great toaster", **values}
    return client.post(_url(personas, task), data, headers=headers or {})


def test_the_page_shows_the_configuration_and_inputs_from_input_params(
    personas, as_user, task
):
    page = as_user("viewer").get(_url(personas, task))
    assert page.status_code == 200
    assert "Demo model (offline)" in page.text
    assert '<textarea name="input_customer_review"' in page.text
    assert "The review text" in page.text
    fetching = task_create(
        project=personas.project,
        user=personas.owner,
        name="Page reader",
        revision=RevisionSpec(
            user_prompt="Read {page} and {doc}",
            llm_model_id=task.revisions.get().llm_model_id,
            input_processors=[
                {"param_name": "page", "input_processor": "url_fetcher"},
                {"param_name": "doc", "input_processor": "document_content_extractor"},
            ],
        ),
    )
    other = as_user("viewer").get(_url(personas, fetching))
    assert '<input type="url" name="input_page"' in other.text
    assert '<input type="file" name="file_doc"' in other.text
    assert "data-run-form" in page.text and "data-run-button" in page.text
    assert "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>" in page.text


def test_a_run_over_htmx_shows_the_friendly_output_json_and_details(
    personas, as_user, task
):
    response = _run(as_user("editor"), personas, task, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="run-workspace"')
    run = TaskRun.objects.get()
    text = response.text
    assert "badge-success" in text
    assert "<dt>Sentiment</dt>" in text and "<dt>Points</dt>" in text
    assert '<ul class="friendly-list">' in text
    assert "friendly-bool" in text
    assert "<dt>Name</dt>" in text  # the nested object, expanded
    assert "&quot;task_revision_id&quot;" in text and "data-copy=" in text
    assert (
        f"{run.input_tokens} in · {run.output_tokens} out · {run.total_tokens} total"
        in text
    )
    assert str(run.pk) in text
    assert ">\nGreat toaster</textarea>" in text


def test_a_run_without_htmx_redirects_to_the_run(personas, as_user, task):
    response = _run(as_user("editor"), personas, task)
    run = TaskRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(personas, task)}?run={run.pk}"
    page = as_user("editor").get(response["Location"])
    assert "<dt>Sentiment</dt>" in page.text


def test_a_refused_run_is_shown_next_to_the_inputs(personas, as_user, task):
    task.enabled = False
    task.save()
    response = _run(as_user("editor"), personas, task, headers=HX)
    assert response.status_code == 200
    assert "This task is disabled." in response.text
    assert not TaskRun.objects.exists()


def test_history_shows_only_runs_the_user_may_see_and_reloads_a_run(
    personas, as_user, task
):
    _run(as_user("owner"), personas, task)
    _run(as_user("viewer"), personas, task, input_customer_review="Mine")
    owners_run, viewers_run = TaskRun.objects.order_by("created")
    viewer_page = as_user("viewer").get(_url(personas, task))
    assert f"?run={viewers_run.pk}" in viewer_page.text
    assert f"?run={owners_run.pk}" not in viewer_page.text
    owner_page = as_user("owner").get(_url(personas, task))
    assert f"?run={viewers_run.pk}" in owner_page.text
    reloaded = as_user("viewer").get(
        f"{_url(personas, task)}?run={viewers_run.pk}", headers=HX
    )
    assert "<html" not in reloaded.text
    assert ">\nMine</textarea>" in reloaded.text
    hidden = as_user("viewer").get(f"{_url(personas, task)}?run={owners_run.pk}")
    assert "Great toaster" not in hidden.text
    # The spec's link form, ?id=, loads the run too (and hides it alike).
    by_id = as_user("viewer").get(f"{_url(personas, task)}?id={viewers_run.pk}")
    assert ">\nMine</textarea>" in by_id.text
    hidden = as_user("viewer").get(f"{_url(personas, task)}?id={owners_run.pk}")
    assert "Great toaster" not in hidden.text


def test_outsiders_get_404(personas, as_user, task):
    assert as_user("outsider").get(_url(personas, task)).status_code == 404
    assert _run(as_user("outsider"), personas, task).status_code == 404
    assert not TaskRun.objects.exists()


def test_the_run_page_costs_the_same_with_many_runs(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("owner")
    for _ in range(3):
        _run(client, personas, task)
    url = _url(personas, task)
    client.get(url)
    # 1 session, 2 user, 3 project with role, 4 task, 5 traffic with the
    # revision and its models, the usage panel: 6 the live revisions, 7 the
    # hourly rollups by bucket and revision, 8 the revisions' names; 9 history,
    # 10 the models the editor offers, 11-12 the switcher.
    with django_assert_num_queries(12):
        client.get(url)
    run = TaskRun.objects.first()
    TaskRun.objects.bulk_create(
        TaskRun(task=task, task_revision=run.task_revision, user=personas.owner)
        for _ in range(200)
    )
    with django_assert_num_queries(12):
        page = client.get(url)
    assert (
        page.text.count(
            'hx-target="#run-workspace" hx-swap="outerHTML" hx-push-url="true"'
        )
        == 20
    )


def test_execution_details_name_the_fallback_model_seconds_credits_and_revision(
    personas, as_user, task
):
    # 136: a run answered by the fallback model says so, with the primary's failure.
    _run(as_user("owner"), personas, task)
    run = TaskRun.objects.get()
    backup = LLMModel.objects.exclude(pk=run.llm_model_id).first()
    TaskRun.objects.filter(pk=run.pk).update(
        used_fallback_model=True,
        llm_model=backup,
        fallback_llm_model=backup,
        primary_failure_reason="rate_limit: slow down",
        llm_call_timing=1.25,
        input_processor_timing=0.5,
    )
    page = as_user("owner").get(f"{_url(personas, task)}?run={run.pk}", headers=HX)
    text = page.text
    assert f'{backup.alias} <span class="badge badge-warning">Fallback</span>' in text
    assert "Primary failed: rate_limit: slow down" in text
    assert "<dt>Duration</dt><dd>1.75 s</dd>" in text
    assert "<dt>Credits</dt><dd>0.00</dd>" in text
    assert str(run.task_revision_id) in text
