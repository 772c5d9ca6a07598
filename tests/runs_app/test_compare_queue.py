"""Compare mode with a broker queues one run per column, as the Run view
queues its run: the page answers at once with the columns queued and a
progress indicator, the results poll the comparison's address until every
column is done, and without JavaScript the page links to that address."""

from __future__ import annotations

import re

import pytest

from runs_app.models import TaskRun
from runs_app.services import run_complete_queued
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task
from tasks_app.services import RevisionSpec, task_create
from tests.runs_app.test_compare_views import (
    FORMAT,
    _compare,
    _revise,
    _revisions,
    _url,
)

HX = {"HX-Request": "true", "HX-Target": "compare-workspace"}
POLL = {"HX-Request": "true", "HX-Target": "compare-results"}
POLL_ADDRESS = re.compile(r'id="compare-results"[^>]* hx-get="([^"]+)"')


@pytest.fixture
def task(personas) -> Task:
    """Three revisions on the offline demo model."""
    catalogue_sync()
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=LLMModel.objects.get(name="rightbrain-demo").pk,
            output_format=FORMAT,
        ),
    )
    _revise(task, personas.owner, llm_config={"temperature": 0.9})
    _revise(task, personas.owner, user_prompt="Judge briefly {customer_review}")
    return task


@pytest.fixture
def queued(broker):
    """A real transport that nobody consumes yet: columns stay queued until
    the test does what the worker does."""
    broker("memory://")


def _poll_url(html: str) -> str:
    match = POLL_ADDRESS.search(html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def test_a_comparison_is_queued_then_polled_until_every_column_is_done(
    personas, as_user, task, queued
):
    first, _second, third = _revisions(task)
    client = as_user("editor")
    response = _compare(client, personas, task, [first, third], headers=HX)
    assert response.status_code == 200
    runs = list(TaskRun.objects.order_by("created"))
    assert [run.status for run in runs] == [TaskRun.Status.QUEUED] * 2
    assert len({run.context_id for run in runs}) == 1
    assert "2 of 2 revisions still running" in response.text
    assert 'class="spinner"' in response.text
    assert 'hx-trigger="load delay:1s"' in response.text
    poll = _poll_url(response.text)
    assert poll.startswith(_url(personas, task))

    run_complete_queued(run_id=runs[0].pk)  # what a worker does
    half = client.get(poll, headers=POLL)
    assert half.status_code == 200
    assert half.text.lstrip().startswith('<section class="card card-flush')
    assert "1 of 2 revisions still running" in half.text
    assert "hx-get" in half.text

    run_complete_queued(run_id=runs[1].pk)
    done = client.get(poll, headers=POLL)
    assert done.text.lstrip().startswith('<section class="card card-flush')
    assert "still running" not in done.text and "hx-get" not in done.text
    assert done.text.count("badge-success") >= 2
    assert "<html" not in done.text


def test_without_javascript_the_form_redirects_to_a_page_that_offers_a_refresh(
    personas, as_user, task, queued
):
    first, second, _third = _revisions(task)
    client = as_user("editor")
    response = _compare(client, personas, task, [first, second])
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "<html" in page.text
    assert "2 of 2 revisions still running" in page.text
    address = page.wsgi_request.get_full_path().replace("&", "&amp;")
    assert f'<a href="{address}">Refresh</a>' in page.text


def test_bad_input_queues_no_column(personas, as_user, task, queued):
    first, second, _third = _revisions(task)
    client = as_user("editor")
    response = _compare(
        client, personas, task, [first, second], headers=HX, input_customer_review=""
    )
    assert response.status_code == 200
    assert not TaskRun.objects.exists()


def test_a_broker_that_is_down_is_an_error_and_nothing_is_kept(
    personas, as_user, task, broker
):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    first, second, _third = _revisions(task)
    client = as_user("editor")
    response = _compare(client, personas, task, [first, second])
    assert response.status_code == 503
    assert "The run queue is not answering" in response.text
    assert not TaskRun.objects.exists()


def test_polling_another_members_private_columns_shows_nothing_of_them(
    personas, as_user, task, queued
):
    first, second, _third = _revisions(task)
    task.task_run_visibility = "owner_only"
    task.save()
    poll = _poll_url(
        _compare(as_user("editor"), personas, task, [first, second], headers=HX).text
    )
    other = as_user("viewer").get(poll, headers=POLL)
    assert other.status_code == 200
    assert "still running" not in other.text
    assert 'id="compare-results"' not in other.text
    for bad in ("runs=not-a-uuid", "runs=%2C%2C", "runs=" + "x" * 500):
        assert (
            as_user("editor")
            .get(f"{_url(personas, task)}?{bad}", headers=POLL)
            .status_code
            == 200
        )


def test_polling_costs_a_fixed_number_of_queries(
    personas, as_user, task, queued, django_assert_num_queries
):
    first, second, third = _revisions(task)
    client = as_user("editor")
    two = _poll_url(_compare(client, personas, task, [first, second], headers=HX).text)
    three = _poll_url(
        _compare(client, personas, task, [first, second, third], headers=HX).text
    )
    client.get(two, headers=POLL)
    # 1 session, 2 user, 3 project with role, 4 task, 5 its members, 6 its
    # revisions, 7 their tags, 8 the live ones, 9 the runs: whatever the
    # number of columns.
    for poll in (two, three):
        with django_assert_num_queries(9):
            client.get(poll, headers=POLL)
