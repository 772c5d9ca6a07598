"""Compare mode (dashboard.md §6, checklist 138): 2–4 revisions, one input set,
run at the same time, outputs side by side with what differs marked; the
address keeps the comparison so a teammate can open it."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.html import escape

from runs_app.credits import credits_shown
from runs_app.models import HourlyUsage, TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Tag, Task, TaskRevision
from tasks_app.services import (
    RevisionSpec,
    active_revisions_set,
    task_create,
    task_update,
)

HX = {"HX-Request": "true", "HX-Target": "compare-workspace"}
FORMAT = {
    "sentiment": {"type": "str", "options": ["positive", "negative"]},
    "points": {"type": "list", "item_type": "str"},
    "vendor": {"type": "object", "nested_structure": {"name": "str"}},
}


def _revise(task: Task, user, **fields) -> TaskRevision:
    _task, revision = task_update(task=task, user=user, revision_fields=fields)
    assert revision is not None
    return revision


@pytest.fixture
def demo(db) -> LLMModel:
    catalogue_sync()
    return LLMModel.objects.get(name="rightbrain-demo")


@pytest.fixture
def task(personas, demo) -> Task:
    """Three revisions on the offline demo model: #2 differs from #1 only in
    temperature (the demo ignores it, so the outputs agree); #3 changes the
    prompt, so its output differs."""
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=demo.pk,
            output_format=FORMAT,
            input_param_descriptions={"customer_review": "The review text"},
        ),
    )
    _revise(task, personas.owner, llm_config={"temperature": 0.9})
    _revise(
        task,
        personas.owner,
        user_prompt="Judge briefly {customer_review}",
        annotation="Shorter answers",
    )
    return task


def _revisions(task: Task) -> list[TaskRevision]:
    return list(task.revisions.order_by("created"))


def _url(personas, task) -> str:
    return reverse("task_compare", args=[personas.project.pk, task.pk])


def _compare(client, personas, task, revisions, headers=None, **values):
    data = {
        "revisions": [str(revision.pk) for revision in revisions],
        "input_customer_review": "Great toaster",
        **values,
    }
    return client.post(_url(personas, task), data, headers=headers or {})


# The page ---------------------------------------------------------------------------


def test_the_page_offers_every_revision_test_ones_included_with_the_live_ones_chosen(
    personas, as_user, task
):
    first, second, third = _revisions(task)
    test = _revise(task, personas.owner, user_prompt="Try {customer_review}", test=True)
    active_revisions_set(
        task=task, entries=[(first.pk, Decimal("0.5")), (third.pk, Decimal("0.5"))]
    )
    page = as_user("viewer").get(_url(personas, task))
    assert page.status_code == 200
    text = page.text
    assert "<html" in text and 'aria-current="page">Compare</a>' in text
    for revision in (first, second, third, test):
        assert f'value="{revision.pk}"' in text
    assert f'value="{first.pk}" checked' in text
    assert f'value="{third.pk}" checked' in text
    assert f'value="{second.pk}" data-compare-revision' in text
    assert "<strong>#4</strong>" in text and 'badge-warning">Test</span>' in text
    assert "Live · 50 %" in text
    assert "Shorter answers" in text
    assert '<textarea name="input_customer_review"' in text
    assert "The review text" in text
    assert "Run comparison" in text
    assert not TaskRun.objects.exists()


def test_the_page_runs_no_inline_script_and_its_assets_exist(personas, as_user, task):
    text = as_user("viewer").get(_url(personas, task)).text
    assert not re.findall(r"<script(?![^>]*\bsrc=)", text)
    assert not re.findall(r"\s(?:on[a-z]+|hx-on[:-][^=]*)=", text)
    for asset in ("css/compare.css", "js/task_compare.js"):
        assert f"/static/{asset}" in text
        assert finders.find(asset)


def test_the_workspace_alone_answers_htmx(personas, as_user, task):
    fragment = as_user("viewer").get(_url(personas, task), headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="compare-workspace"')


def test_a_single_revision_task_says_what_to_do(personas, as_user, demo):
    single = task_create(
        project=personas.project,
        user=personas.owner,
        name="Lonely",
        revision=RevisionSpec(user_prompt="Hi {name}", llm_model_id=demo.pk),
    )
    page = as_user("editor").get(_url(personas, single))
    assert "This task has a single revision" in page.text
    assert "edit the task" in page.text


# Running a comparison -----------------------------------------------------------------


def test_a_comparison_over_htmx_runs_each_revision_and_lines_the_outputs_up(
    personas, as_user, task
):
    first, second, third = _revisions(task)
    # Chosen in any order, the columns read oldest to newest.
    response = _compare(
        as_user("editor"), personas, task, [third, first, second], headers=HX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="compare-workspace"')
    runs = list(TaskRun.objects.order_by("created"))
    assert [run.task_revision_id for run in runs] == [first.pk, second.pk, third.pk]
    assert all(not run.is_error for run in runs)
    assert {run.user_id for run in runs} == {personas.editor.pk}
    assert {run.run_data["submitted"]["customer_review"] for run in runs} == {
        "Great toaster"
    }
    # One comparison groups its runs; they count in usage like any run.
    assert len({run.context_id for run in runs}) == 1
    assert runs[0].context_id.startswith("compare-")
    assert sum(HourlyUsage.objects.values_list("runs", flat=True)) == 3

    pushed = urlsplit(response["HX-Push-Url"])
    assert pushed.path == _url(personas, task)
    query = parse_qs(pushed.query)
    assert query["runs"] == [",".join(str(run.pk) for run in runs)]
    assert query["revisions"] == [",".join(str(r.pk) for r in (first, second, third))]

    text = response.text
    heads = [text.index(f"#{number} <time") for number in (1, 2, 3)]
    assert heads == sorted(heads)
    assert runs[0].response == runs[1].response != runs[2].response
    # #3's answers stand out against the two that agree.
    assert text.count('class="compare-differs"') >= 1
    assert text.count("compare-cell-differs") == text.count('class="compare-differs"')
    assert "Demo name for “Judge briefly Great toaster”" in text
    assert 'compare-field-parent">Vendor › </span>' in text
    for run in runs:
        assert f"{run.input_tokens} in · {run.output_tokens} out" in text
        assert f"?run={run.pk}" in text
    assert text.count('badge badge-success">Succeeded') == 3
    assert "Demo model (offline)" in text
    assert "Run again" in text and 'form="compare-form"' in text
    assert ">Great toaster</textarea>" in text


def test_a_comparison_without_htmx_redirects_to_its_shareable_address(
    personas, as_user, task
):
    first, _second, third = _revisions(task)
    client = as_user("owner")
    response = _compare(client, personas, task, [first, third])
    assert response.status_code == 302
    runs = list(TaskRun.objects.order_by("created"))
    assert len(runs) == 2
    location = response["Location"]
    assert location.startswith(_url(personas, task) + "?revisions=")
    page = client.get(location)
    assert page.status_code == 200
    assert 'id="compare-results"' in page.text
    assert f'value="{first.pk}" checked' in page.text
    assert ">Great toaster</textarea>" in page.text
    assert f'data-copy="http://testserver{_url(personas, task)}?revisions=' in (
        page.text
    )


def test_running_again_adds_new_runs_and_keeps_the_old_ones(personas, as_user, task):
    first, second, _third = _revisions(task)
    client = as_user("editor")
    _compare(client, personas, task, [first, second], headers=HX)
    again = _compare(client, personas, task, [first, second], headers=HX)
    assert TaskRun.objects.count() == 4
    latest = TaskRun.objects.order_by("-created")[:2]
    assert all(str(run.pk) in again["HX-Push-Url"] for run in latest)


def test_the_link_shows_a_teammate_only_the_runs_they_may_see(personas, as_user, task):
    first, second, _third = _revisions(task)
    location = _compare(as_user("owner"), personas, task, [first, second])["Location"]
    # Runs are the owner's alone by default (owner_only visibility).
    hidden = as_user("viewer").get(location)
    assert hidden.status_code == 200
    assert 'id="compare-results"' not in hidden.text
    assert "2 runs of this comparison are not shown" in hidden.text
    assert "Great toaster" not in hidden.text
    task.task_run_visibility = Task.RunVisibility.ALL_VIEWERS
    task.save()
    shown = as_user("viewer").get(location)
    assert 'id="compare-results"' in shown.text
    assert "not shown" not in shown.text


def test_runs_of_another_task_never_show(personas, as_user, task, demo):
    other = task_create(
        project=personas.project,
        user=personas.owner,
        name="Other",
        revision=RevisionSpec(user_prompt="Secret {x}", llm_model_id=demo.pk),
    )
    _revise(other, personas.owner, user_prompt="Secret two {x}")
    client = as_user("owner")
    client.post(
        _url(personas, other),
        {"revisions": [str(r.pk) for r in _revisions(other)], "input_x": "classified"},
    )
    foreign = ",".join(str(run.pk) for run in TaskRun.objects.all())
    page = client.get(f"{_url(personas, task)}?runs={foreign}")
    assert "classified" not in page.text and "Secret" not in page.text
    assert "2 runs of this comparison are not shown" in page.text


# Refusals: inline, nothing written ---------------------------------------------------


def test_fewer_than_two_revisions_is_refused_inline(personas, as_user, task):
    first = _revisions(task)[0]
    response = _compare(as_user("editor"), personas, task, [first], headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Choose at least two revisions to compare." in response.text
    assert "compare-picker field-invalid" in response.text
    assert ">Great toaster</textarea>" in response.text
    assert f'value="{first.pk}" checked' in response.text
    assert not TaskRun.objects.exists()


def test_no_revision_at_all_is_refused_inline(personas, as_user, task):
    response = _compare(as_user("editor"), personas, task, [])
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Choose two to four revisions to compare." in response.text
    assert not TaskRun.objects.exists()


def test_more_than_four_revisions_is_refused_inline(personas, as_user, task):
    _revise(task, personas.owner, user_prompt="Four {customer_review}")
    _revise(task, personas.owner, user_prompt="Five {customer_review}")
    response = _compare(as_user("editor"), personas, task, _revisions(task), headers=HX)
    assert "Choose at most 4 revisions; you chose 5." in response.text
    assert not TaskRun.objects.exists()


def test_a_revision_of_another_task_is_refused_inline(personas, as_user, task, demo):
    other = task_create(
        project=personas.project,
        user=personas.owner,
        name="Other",
        revision=RevisionSpec(user_prompt="Hi {customer_review}", llm_model_id=demo.pk),
    )
    foreign = other.revisions.get()
    response = _compare(
        as_user("editor"), personas, task, [_revisions(task)[0], foreign], headers=HX
    )
    assert f"{foreign.pk} is not a revision of this task." in response.text
    assert not TaskRun.objects.exists()
    garbled = as_user("editor").post(
        _url(personas, task),
        {"revisions": ["nonsense", "<b>x</b>"], "input_customer_review": "x"},
        headers=HX,
    )
    assert "is not a revision of this task" in garbled.text
    assert "<b>x</b>" not in garbled.text
    assert not TaskRun.objects.exists()


def test_a_missing_input_is_refused_on_its_field(personas, as_user, task):
    first, second, _third = _revisions(task)
    response = _compare(
        as_user("editor"),
        personas,
        task,
        [first, second],
        headers=HX,
        input_customer_review="   ",
    )
    assert response.status_code == 200
    assert (
        "Enter a value: every chosen revision takes customer_review." in response.text
    )
    assert 'aria-invalid="true" aria-describedby="error-customer_review"' in (
        response.text
    )
    assert not TaskRun.objects.exists()


def test_an_input_only_some_revisions_take_is_required_only_for_them(
    personas, as_user, task
):
    first, _second, third = _revisions(task)
    fourth = _revise(
        task, personas.owner, user_prompt="Judge {customer_review} for {audience}"
    )
    page = as_user("editor").get(_url(personas, task))
    assert "used by #4" in page.text
    refused = _compare(as_user("editor"), personas, task, [third, fourth], headers=HX)
    assert "Enter a value: revision #4 takes audience." in refused.text
    assert not TaskRun.objects.exists()
    # Not chosen, #4's input is not asked for.
    _compare(as_user("editor"), personas, task, [first, third], headers=HX)
    assert TaskRun.objects.count() == 2
    ran = _compare(
        as_user("editor"),
        personas,
        task,
        [third, fourth],
        headers=HX,
        input_audience="parents",
    )
    assert ran.status_code == 200
    fourths = TaskRun.objects.get(task_revision=fourth)
    assert fourths.run_data["submitted"] == {
        "customer_review": "Great toaster",
        "audience": "parents",
    }
    thirds = TaskRun.objects.filter(task_revision=third).order_by("-created").first()
    assert thirds.run_data["submitted"] == {"customer_review": "Great toaster"}


def test_a_refusal_for_one_revision_names_it_and_writes_nothing(
    personas, as_user, task, llm
):
    first = _revisions(task)[0]
    needs_image = _revise(
        task, personas.owner, llm_model_id=llm.vision.pk, image_required=True
    )
    response = _compare(
        as_user("editor"), personas, task, [first, needs_image], headers=HX
    )
    assert "Revision #4: This task needs at least one image" in response.text
    assert 'name="images"' in response.text
    assert not TaskRun.objects.exists()


def test_a_disabled_task_is_refused_above_the_form(personas, as_user, task):
    task.enabled = False
    task.save()
    response = _compare(as_user("editor"), personas, task, _revisions(task)[:2])
    assert response.status_code == 200
    assert "This task is disabled." in response.text
    assert not TaskRun.objects.exists()


# Who may compare ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "admin", "editor", "viewer"])
def test_members_who_may_run_the_task_may_compare(personas, as_user, task, persona):
    client = as_user(persona)
    assert client.get(_url(personas, task)).status_code == 200
    response = _compare(client, personas, task, _revisions(task)[:2])
    assert response.status_code == 302
    assert TaskRun.objects.filter(user=getattr(personas, persona)).count() == 2


def test_outsiders_get_404_and_nothing_runs(personas, as_user, task):
    client = as_user("outsider")
    assert client.get(_url(personas, task)).status_code == 404
    assert _compare(client, personas, task, _revisions(task)[:2]).status_code == 404
    assert not TaskRun.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(personas, client, task):
    response = client.get(_url(personas, task))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_comparison_needs_the_csrf_token(personas, task):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.editor)
    response = _compare(client, personas, task, _revisions(task)[:2])
    assert response.status_code == 403
    assert not TaskRun.objects.exists()


# Cost of the page --------------------------------------------------------------------


def test_a_shared_comparison_costs_the_same_however_many_columns(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("owner")
    first, second, third = _revisions(task)
    two_url = _compare(client, personas, task, [first, second])["Location"]
    fourth = _revise(task, personas.owner, user_prompt="Four {customer_review}")
    for name in ("candidate", "brief"):
        fourth.tags.add(
            Tag.objects.create(
                project=personas.project,
                name=name,
                entity_type=Tag.EntityType.TASK_REVISION,
            )
        )
    four_url = _compare(client, personas, task, [first, second, third, fourth])[
        "Location"
    ]
    # 1 session, 2 user, 3 project with role, 4 task, 5 revisions with their
    # models and authors, 6 their tags, 7 the traffic split, 8 the runs with
    # their revisions and models, 9-10 the switcher.
    for url in (two_url, four_url):
        with django_assert_num_queries(10):
            page = client.get(url)
        assert 'id="compare-results"' in page.text
    assert '<span class="chip">candidate</span>' in page.text


# Against the provider: concurrency and a failing column ------------------------------


@pytest.fixture
def served_task(personas, demo, served) -> Task:
    """Two revisions on the fake provider's model and one on the demo model."""
    primary, _backup = served
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Served judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=primary.pk,
            output_format={
                "sentiment": {"type": "str", "options": ["positive", "negative"]}
            },
        ),
    )
    _revise(task, personas.owner, user_prompt="Judge kindly {customer_review}")
    _revise(task, personas.owner, llm_model_id=demo.pk)
    return task


def test_the_revisions_run_at_the_same_time(personas, as_user, served_task, fake_llm):
    first, second, _demo = _revisions(served_task)
    client = as_user("editor")
    # A first comparison pays for setting up the provider client.
    fake_llm.answer({"sentiment": "positive"}).answer({"sentiment": "positive"})
    _compare(client, personas, served_task, [first, second])
    fake_llm.slow(1.5, {"sentiment": "positive"})
    fake_llm.slow(1.5, {"sentiment": "negative"})
    started = time.perf_counter()
    response = _compare(client, personas, served_task, [first, second])
    elapsed = time.perf_counter() - started
    assert response.status_code == 302
    assert len(fake_llm.requests) == 4
    runs = TaskRun.objects.order_by("-created")[:2]
    assert {run.response["sentiment"] for run in runs} == {"positive", "negative"}
    waits = [run.llm_call_timing for run in runs]
    assert all(wait >= 1.5 for wait in waits)
    # One after the other, the request would take at least both waits.
    assert elapsed < sum(waits) - 1.0, (elapsed, waits)


def test_a_failing_revision_shows_its_error_beside_the_others(
    personas, as_user, served_task, fake_llm
):
    first, _second, on_demo = _revisions(served_task)
    fake_llm.fail(401, "The key was refused")  # not retried
    response = _compare(
        as_user("editor"), personas, served_task, [first, on_demo], headers=HX
    )
    assert response.status_code == 200
    failed = TaskRun.objects.get(task_revision=first)
    succeeded = TaskRun.objects.get(task_revision=on_demo)
    assert failed.is_error and failed.status == TaskRun.Status.FAILED
    assert not succeeded.is_error
    text = response.text
    assert 'badge badge-danger">Failed' in text
    assert escape(failed.response["error"]) in text
    assert succeeded.response["sentiment"] in text
    # One answer has nothing to differ from.
    assert "compare-cell-differs" not in text
    assert sum(HourlyUsage.objects.values_list("errors", flat=True)) == 1


def test_a_column_answered_by_the_fallback_says_so(
    personas, as_user, served_task, served, fake_llm
):
    _primary, backup = served
    on_demo = _revisions(served_task)[-1]
    with_fallback = _revise(
        served_task, personas.owner, fallback_llm_model_id=backup.pk
    )
    for _ in range(4):
        fake_llm.fail(500, "overloaded")
    fake_llm.answer({"sentiment": "negative"})
    response = _compare(
        as_user("editor"), personas, served_task, [on_demo, with_fallback], headers=HX
    )
    run = TaskRun.objects.get(task_revision=with_fallback)
    assert run.used_fallback_model and not run.is_error
    assert [r["model"] for r in fake_llm.requests] == ["primary"] * 4 + ["backup"]
    text = response.text
    assert 'Backup <span class="badge badge-warning">Fallback</span>' in text
    assert "Primary failed:" in text


def test_the_quickest_and_the_cheapest_answers_are_named(
    personas, as_user, served_task, fake_llm
):
    first, second, _on_demo = _revisions(served_task)
    # Whichever revision asks first gets the wordy (dear) answer.
    fake_llm.answer(
        {"sentiment": "positive"}, prompt_tokens=10_000, completion_tokens=10_000
    )
    fake_llm.slow(0.5, {"sentiment": "positive"})
    response = _compare(
        as_user("editor"), personas, served_task, [first, second], headers=HX
    )
    runs = list(TaskRun.objects.all())
    cheap, dear = sorted(runs, key=lambda run: run.charged_credits)
    assert cheap.charged_credits < dear.charged_credits
    quickest = min(
        runs, key=lambda run: run.llm_call_timing + run.input_processor_timing
    )
    seconds = quickest.llm_call_timing + quickest.input_processor_timing
    others = [run for run in runs if run != quickest]
    assert all(
        round(run.llm_call_timing + run.input_processor_timing, 2) > round(seconds, 2)
        for run in others
    )
    text = response.text
    assert text.count("Fastest</span>") == 1 and text.count("Cheapest</span>") == 1
    assert f'{floatformat(seconds, 2)} s <span class="badge badge-info">Fastest' in text
    cheapest = credits_shown(cheap.charged_credits)  # two places, as shown
    assert f'{cheapest} <span class="badge badge-info">Cheapest' in text
    # Every field agrees: nothing is marked.
    assert "compare-differs" not in text and "Every field is the same" in text
