"""The services behind the Run view's iteration loop: a test revision made
from edits, and a test revision saved as a normal one (tasks_app.services)."""

from __future__ import annotations

import pytest

from rightbrain.errors import Invalid
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import ActiveRevision, LLMModel
from tasks_app.services import (
    RevisionSpec,
    revision_create_test,
    revision_promote,
    task_create,
)


@pytest.fixture
def task(personas):
    catalogue_sync()
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Reader",
        revision=RevisionSpec(
            user_prompt="Read {page} and {notes}",
            llm_model_id=LLMModel.objects.get(name="rightbrain-demo").pk,
            input_processors=[{"param_name": "page", "input_processor": "url_fetcher"}],
            input_param_descriptions={"page": "A web page", "notes": "Yours"},
            llm_config={"temperature": 0.2},
        ),
    )


def test_a_test_revision_keeps_what_still_fits_the_edited_prompt(personas, task):
    source = task.revisions.get()
    kept = revision_create_test(
        task=task,
        source=source,
        user=personas.editor,
        changes={"user_prompt": "Summarise {page}"},
    )
    assert kept.test and kept.input_params == ["page"]
    assert kept.input_processors == source.input_processors
    assert kept.input_param_descriptions == {"page": "A web page"}
    assert kept.llm_config == {"temperature": 0.2}
    dropped = revision_create_test(
        task=task,
        source=source,
        user=personas.editor,
        changes={"user_prompt": "Summarise {notes}"},
    )
    assert dropped.input_processors == []
    assert list(ActiveRevision.objects.filter(task=task)) == list(
        ActiveRevision.objects.filter(task=task, task_revision=source)
    )


def test_new_revisions_show_at_once_in_the_cached_api_answer(api, personas, task):
    client = api("editor")
    url = f"/task/{task.pk}"
    assert len(client.get(url, include_tests="true").json()["revisions"]) == 1
    test = revision_create_test(
        task=task,
        source=task.revisions.get(),
        user=personas.editor,
        changes={"system_prompt": "Be brief."},
    )
    assert len(client.get(url, include_tests="true").json()["revisions"]) == 2
    revision_promote(task=task, revision=test, user=personas.editor)
    assert len(client.get(url).json()["revisions"]) == 2
    assert len(client.get(url, include_tests="true").json()["revisions"]) == 3


def test_a_promoted_revision_is_a_normal_copy_and_only_tests_are_promoted(
    personas, task
):
    source = task.revisions.get()
    with pytest.raises(Invalid, match="already a normal revision"):
        revision_promote(task=task, revision=source, user=personas.editor)
    test = revision_create_test(
        task=task,
        source=source,
        user=personas.editor,
        changes={"user_prompt": "Read {page} twice"},
    )
    saved = revision_promote(
        task=task, revision=test, user=personas.owner, annotation=" Twice "
    )
    assert not saved.test and saved.annotation == "Twice"
    for field in ("user_prompt", "input_params", "input_processors", "llm_config"):
        assert getattr(saved, field) == getattr(test, field)
    assert not ActiveRevision.objects.filter(task_revision=saved).exists()
