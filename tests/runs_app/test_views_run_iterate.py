"""The Run view's iteration loop (dashboard.md §3): edited prompts and output
format run as a test revision that never takes traffic, "Save as revision"
keeps it as a normal revision, and the input fields follow the edited prompt."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from runs_app.models import TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import ActiveRevision, LLMModel, Task, TaskRevision
from tasks_app.services import RevisionSpec, revision_create_test, task_create

HX = {"HX-Request": "true", "HX-Target": "run-workspace"}
PROMPT = "Judge {customer_review}"
FORMAT = {"sentiment": {"type": "str", "options": ["positive", "negative"]}}


@pytest.fixture
def task(personas) -> Task:
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt=PROMPT,
            system_prompt="Be fair.",
            llm_model_id=demo.pk,
            output_format=FORMAT,
            input_param_descriptions={"customer_review": "The review text"},
        ),
    )


def _url(personas, task, name="task_run") -> str:
    return reverse(name, args=[personas.project.pk, task.pk])


def _live(task) -> list[tuple]:
    return sorted(
        ActiveRevision.objects.filter(task=task).values_list(
            "task_revision_id", "weight"
        )
    )


def _post_edits(client, personas, task, *, source=None, headers=HX, **fields):
    source = source or task.revisions.get(test=False)
    data = {
        "source_revision": str(source.pk),
        "user_prompt": source.user_prompt,
        "system_prompt": source.system_prompt,
        "output_format": json.dumps(source.output_format),
        "input_customer_review": "Great toaster",
        **fields,
    }
    return client.post(_url(personas, task), data, headers=headers)


def test_editors_get_the_prompt_editor_and_viewers_a_read_only_copy(
    personas, as_user, task
):
    editor_page = as_user("editor").get(_url(personas, task))
    assert '<textarea name="user_prompt"' in editor_page.text
    assert '<textarea name="output_format"' in editor_page.text
    assert 'name="source_revision"' in editor_page.text
    viewer_page = as_user("viewer").get(_url(personas, task))
    assert viewer_page.status_code == 200
    assert 'name="user_prompt"' not in viewer_page.text
    assert '<pre class="prompt-text">Judge {customer_review}</pre>' in viewer_page.text
    assert "Save as revision" not in viewer_page.text


def test_running_edited_prompts_makes_a_test_revision_and_leaves_traffic_alone(
    personas, as_user, task
):
    live = _live(task)
    client = as_user("editor")
    response = _post_edits(
        client,
        personas,
        task,
        user_prompt="Judge {customer_review} briefly",
        system_prompt="Be terse.",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="run-workspace"')
    test = task.revisions.get(test=True)
    assert test.user_prompt == "Judge {customer_review} briefly"
    assert test.system_prompt == "Be terse."
    assert test.output_format == FORMAT
    assert test.created_by == personas.editor
    run = TaskRun.objects.get()
    assert run.task_revision == test
    assert run.status == TaskRun.Status.SUCCEEDED
    assert _live(task) == live
    # The page now shows the test revision, chosen for the next run.
    assert "Test revision" in response.text
    assert f'<option value="{test.pk}" selected>' in response.text
    assert f'name="source_revision" value="{test.pk}"' in response.text
    assert "Save as revision" in response.text
    # The revisions list hides test revisions until asked, then marks them.
    revisions = _url(personas, task, "task_revisions")
    assert f'id="revision-{test.pk}"' not in client.get(revisions).text
    shown = client.get(revisions + "?tests=1").text
    assert f'id="revision-{test.pk}"' in shown
    assert '<span class="badge badge-warning">Test</span>' in shown


def test_edits_run_without_htmx_redirect_to_the_run_on_its_test_revision(
    personas, as_user, task
):
    client = as_user("owner")
    response = _post_edits(
        client, personas, task, headers={}, user_prompt="Grade {customer_review}"
    )
    run = TaskRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(personas, task)}?run={run.pk}"
    page = client.get(response["Location"]).text
    assert run.task_revision.test
    assert f'name="source_revision" value="{run.task_revision_id}"' in page
    assert ">\nGrade {customer_review}</textarea>" in page


def test_running_the_test_revision_again_makes_no_other(personas, as_user, task):
    client = as_user("editor")
    _post_edits(client, personas, task, user_prompt="Judge {customer_review}\nnow")
    test = task.revisions.get(test=True)
    # What the page posts next: the test revision as source and choice, with
    # the line breaks a browser sends.
    _post_edits(
        client,
        personas,
        task,
        source=test,
        revision=str(test.pk),
        user_prompt="Judge {customer_review}\r\nnow",
    )
    assert task.revisions.count() == 2
    assert TaskRun.objects.filter(task_revision=test).count() == 2


def test_unchanged_prompts_run_the_live_revision(personas, as_user, task):
    live = task.revisions.get()
    # The same text, laid out differently: CRLF line breaks, other indents.
    _post_edits(
        as_user("editor"),
        personas,
        task,
        system_prompt="Be fair.",
        output_format=json.dumps(FORMAT, indent=4).replace("\n", "\r\n"),
    )
    assert task.revisions.count() == 1
    assert TaskRun.objects.get().task_revision == live


def test_a_new_variable_in_the_edited_prompt_is_an_input_of_the_run(
    personas, as_user, task
):
    _post_edits(
        as_user("editor"),
        personas,
        task,
        user_prompt="Judge {customer_review} in a {tone} tone",
        input_tone="kind",
    )
    test = task.revisions.get(test=True)
    assert test.input_params == ["customer_review", "tone"]
    assert TaskRun.objects.get().run_data["submitted"] == {
        "customer_review": "Great toaster",
        "tone": "kind",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"output_format": "{not json"}, "Output format: is not valid JSON"),
        ({"output_format": '{"score": "decimal"}'}, "Output format: score"),
        ({"user_prompt": "   "}, "The user prompt cannot be empty."),
    ],
)
def test_a_bad_edit_is_shown_in_the_editor_and_nothing_is_written(
    personas, as_user, task, fields, message
):
    response = _post_edits(as_user("editor"), personas, task, **fields)
    assert response.status_code == 200
    assert 'id="edit-error"' in response.text
    assert message in response.text
    assert task.revisions.count() == 1
    assert not TaskRun.objects.exists()
    # The editor keeps what was typed, and is open.
    posted = next(iter(fields.values())).strip()
    if posted:
        assert posted.replace('"', "&quot;") in response.text
    assert '<details class="disclosure prompt-editor" open' in response.text


def test_a_refused_run_of_edits_keeps_no_test_revision(personas, as_user, task):
    Task.objects.filter(pk=task.pk).update(enabled=False)
    response = _post_edits(
        as_user("editor"), personas, task, user_prompt="Judge {customer_review}!"
    )
    assert response.status_code == 200
    assert "This task is disabled." in response.text
    assert "Judge {customer_review}!" in response.text
    assert not task.revisions.filter(test=True).exists()
    assert not TaskRun.objects.exists()


def test_a_bad_edit_without_htmx_renders_the_page_with_the_error(
    personas, as_user, task
):
    response = _post_edits(
        as_user("editor"), personas, task, headers={}, output_format="[1"
    )
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Output format: is not valid JSON" in response.text


def test_a_viewer_may_run_but_not_run_edits(personas, as_user, task):
    client = as_user("viewer")
    refused = _post_edits(client, personas, task, user_prompt="Say {x}")
    assert refused.status_code == 403
    assert task.revisions.count() == 1
    assert not TaskRun.objects.exists()
    assert _post_edits(client, personas, task).status_code == 200
    assert TaskRun.objects.get().task_revision.test is False


def test_outsiders_and_unknown_sources_get_404(personas, as_user, task):
    assert _post_edits(as_user("outsider"), personas, task).status_code == 404
    other = task_create(
        project=personas.project,
        user=personas.owner,
        name="Other",
        revision=RevisionSpec(
            user_prompt="Hi {x}", llm_model_id=task.revisions.get().llm_model_id
        ),
    )
    foreign = _post_edits(
        as_user("editor"), personas, task, source=other.revisions.get()
    )
    assert foreign.status_code == 404
    assert not TaskRun.objects.exists()


def test_a_revision_chosen_in_the_url_is_shown_and_selected(personas, as_user, task):
    test = revision_create_test(
        task=task,
        source=task.revisions.get(),
        user=personas.owner,
        changes={"user_prompt": "Rate {customer_review} and {stars}"},
    )
    page = as_user("editor").get(
        f"{_url(personas, task)}?revision={test.pk}&input_stars=5", headers=HX
    )
    assert "<html" not in page.text
    assert f'<option value="{test.pk}" selected>' in page.text
    assert ">\nRate {customer_review} and {stars}</textarea>" in page.text
    assert 'name="input_stars"' in page.text and ">\n5</textarea>" in page.text
    unknown = as_user("editor").get(f"{_url(personas, task)}?revision=nonsense")
    assert unknown.status_code == 200  # the live revision instead


# The input fields follow the prompt as it is typed ------------------------------------


def _inputs(client, personas, task, prompt, shown, **values):
    return client.post(
        _url(personas, task, "task_run_inputs"),
        {
            "source_revision": str(task.first_revision.pk),
            "user_prompt": prompt,
            "shown_params": shown,
            **values,
        },
        headers={"HX-Request": "true", "HX-Target": "run-inputs"},
    )


def test_the_inputs_follow_the_variables_of_the_edited_prompt(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("editor")
    task.first_revision = task.revisions.get()
    client.get(_url(personas, task))  # the session settles
    # 1 session, 2 user, 3 project with role, 4 task, 5 the editor's own
    # grants on it, 6 the source revision.
    with django_assert_num_queries(6):
        same = _inputs(
            client, personas, task, "Judge {customer_review}!", "customer_review"
        )
    assert same.status_code == 204
    grown = _inputs(
        client,
        personas,
        task,
        "Judge {customer_review} as {persona}",
        "customer_review",
        input_customer_review="Kept <b>as typed</b>",
    )
    assert grown.status_code == 200
    assert grown.text.lstrip().startswith('<div id="run-inputs"')
    assert 'name="input_persona"' in grown.text
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;</textarea>" in grown.text
    assert 'name="shown_params" value="customer_review,persona"' in grown.text


def test_only_editors_may_ask_for_inputs_of_an_edited_prompt(personas, as_user, task):
    task.first_revision = task.revisions.get()
    assert _inputs(as_user("viewer"), personas, task, "{a}", "").status_code == 403
    assert _inputs(as_user("outsider"), personas, task, "{a}", "").status_code == 404
    assert (
        as_user("editor").get(_url(personas, task, "task_run_inputs")).status_code
        == 405
    )


# Save as revision ------------------------------------------------------------------


def _test_revision(personas, as_user, task) -> TaskRevision:
    _post_edits(
        as_user("editor"),
        personas,
        task,
        user_prompt="Judge {customer_review} kindly",
        output_format=json.dumps({**FORMAT, "score": "int"}),
    )
    return task.revisions.get(test=True)


def _save(client, personas, task, revision, headers=HX, **extra):
    return client.post(
        _url(personas, task, "task_run_save_revision"),
        {"revision": str(revision.pk), **extra},
        headers=headers,
    )


def test_save_as_revision_makes_a_normal_inactive_revision_with_the_same_prompts(
    personas, as_user, task
):
    test = _test_revision(personas, as_user, task)
    live = _live(task)
    response = _save(
        as_user("editor"),
        personas,
        task,
        test,
        annotation="  Kinder prompt  ",
        input_customer_review="Still typed",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="run-workspace"')
    saved = task.revisions.filter(test=False).order_by("-created").first()
    assert saved.pk != test.pk
    assert saved.user_prompt == test.user_prompt
    assert saved.system_prompt == test.system_prompt
    assert saved.output_format == test.output_format
    assert saved.llm_model_id == test.llm_model_id
    assert saved.input_params == test.input_params
    assert saved.annotation == "Kinder prompt"
    assert saved.created_by == personas.editor
    assert _live(task) == live
    assert TaskRevision.objects.filter(pk=test.pk, test=True).exists()
    assert "Saved as a new revision" in response.text
    assert f'<option value="{saved.pk}" selected>' in response.text
    assert "Save as revision" not in response.text
    assert ">\nStill typed</textarea>" in response.text
    revisions = as_user("editor").get(_url(personas, task, "task_revisions")).text
    assert f'id="revision-{saved.pk}"' in revisions


def test_save_as_revision_without_htmx_redirects_with_a_message(
    personas, as_user, task
):
    test = _test_revision(personas, as_user, task)
    client = as_user("editor")
    response = _save(client, personas, task, test, headers={})
    saved = task.revisions.filter(test=False).order_by("-created").first()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(personas, task)}?revision={saved.pk}"
    page = client.get(response["Location"])
    assert "Saved as a new revision" in page.text
    assert f'name="source_revision" value="{saved.pk}"' in page.text


def test_only_a_test_revision_is_saved_as_a_revision(personas, as_user, task):
    live = task.revisions.get()
    response = _save(as_user("editor"), personas, task, live)
    assert response.status_code == 200
    assert "already a normal revision" in response.text
    assert task.revisions.count() == 1


def test_who_may_save_as_revision(personas, as_user, task):
    test = _test_revision(personas, as_user, task)
    assert _save(as_user("viewer"), personas, task, test).status_code == 403
    assert _save(as_user("outsider"), personas, task, test).status_code == 404
    missing = as_user("editor").post(
        _url(personas, task, "task_run_save_revision"), {"revision": "x"}
    )
    assert missing.status_code == 404
    assert task.revisions.count() == 2
    assert _save(as_user("owner"), personas, task, test).status_code == 200
    assert task.revisions.count() == 3


# Models ----------------------------------------------------------------------------


def test_choosing_another_fallback_model_runs_a_test_revision_with_it(
    personas, as_user, task
):
    live = _live(task)
    backup = LLMModel.objects.get(name="gpt-5-mini")
    page = as_user("editor").get(_url(personas, task)).text
    assert f'<option value="{backup.pk}">' in page  # offered
    response = _post_edits(
        as_user("editor"), personas, task, fallback_llm_model_id=str(backup.pk)
    )
    test = task.revisions.get(test=True)
    assert test.fallback_llm_model == backup
    assert test.user_prompt == PROMPT
    assert TaskRun.objects.get().task_revision == test
    assert _live(task) == live
    assert f'<option value="{backup.pk}" selected>' in response.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"llm_model_id": "not-a-model"}, "Choose a model from the list."),
        (
            {"llm_model_id": "01a20000-0000-7000-8000-000000000000"},
            "There is no model with id",
        ),
        ({"fallback_llm_model_id": "same"}, "must differ from the primary"),
    ],
)
def test_a_bad_model_choice_is_shown_in_the_editor(
    personas, as_user, task, fields, message
):
    if fields.get("fallback_llm_model_id") == "same":
        fields = {"fallback_llm_model_id": str(task.revisions.get().llm_model_id)}
    response = _post_edits(as_user("editor"), personas, task, **fields)
    assert response.status_code == 200
    assert 'id="edit-error"' in response.text
    assert message in response.text
    assert task.revisions.count() == 1
    assert not TaskRun.objects.exists()
