"""The project's Runs view and its CSV export (dashboard.md §11, item 144)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone

from runs_app.models import TaskRun
from tasks_app.models import Task
from tests.runs_app.usage_data import (
    add_revision,
    group,
    make_task,
    record_run,
    split_traffic,
)


@pytest.fixture
def logged(personas, llm):
    """Two tasks of the project, runs by the owner and by the viewer, one of
    another project."""
    owner, viewer = personas.owner, personas.viewer
    reviews = make_task(
        project=personas.project,
        user=owner,
        model=llm.plain,
        task_run_visibility=Task.RunVisibility.ALL_VIEWERS,
    )
    first = reviews.revisions.get()
    second = add_revision(reviews, owner)
    split_traffic(reviews, first, second)
    private = make_task(
        project=personas.project, user=owner, model=llm.plain, name="Private"
    )
    acme = group(personas.project, "acme")
    now = timezone.now()
    runs = {
        "old": record_run(reviews, first, at=now - timedelta(days=10), user=owner),
        "failed": record_run(
            reviews, second, at=now - timedelta(hours=5), error=True, user=owner
        ),
        "acme": record_run(
            reviews, first, at=now - timedelta(hours=2), reporting_group=acme
        ),
        "private_owner": record_run(
            private, private.revisions.get(), at=now - timedelta(hours=1), user=owner
        ),
        "private_viewer": record_run(
            private, private.revisions.get(), at=now, user=viewer
        ),
    }
    other = make_task(
        project=personas.other_project, user=personas.outsider, model=llm.plain
    )
    record_run(other, other.revisions.get(), at=now)
    return {"reviews": reviews, "private": private, "acme": acme, "runs": runs}


def _url(personas, **params) -> str:
    url = reverse("project_runs", args=[personas.project.pk])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def _listed(response) -> list[str]:
    return re.findall(r"/run\?run=([0-9a-f-]{36})", response.text)


def _ids(logged, *names) -> list[str]:
    return [str(logged["runs"][name].pk) for name in names]


def test_the_runs_view_lists_project_runs_newest_first_linking_to_each_run(
    as_user, personas, logged
):
    response = as_user("owner").get(_url(personas))
    assert response.status_code == 200
    assert _listed(response) == _ids(
        logged, "private_viewer", "private_owner", "acme", "failed", "old"
    )
    run = logged["runs"]["acme"]
    assert (
        f'href="/projects/{personas.project.pk}/tasks/{run.task_id}/run?run={run.pk}"'
        in response.text
    )


def test_a_viewer_sees_only_the_runs_each_task_lets_them_see(as_user, personas, logged):
    # Reviews shows every run to its viewers; Private (owner_only) only their own.
    response = as_user("viewer").get(_url(personas))
    assert _listed(response) == _ids(logged, "private_viewer", "acme", "failed", "old")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, ["failed"]),
        ({"status": "succeeded", "task": "{reviews}"}, ["acme", "old"]),
        ({"task": "{private}"}, ["private_viewer", "private_owner"]),
        ({"group": "{acme}"}, ["acme"]),
        ({"group": "none", "task": "{reviews}"}, ["failed", "old"]),
        ({"after": "3 hours ago"}, ["private_viewer", "private_owner", "acme"]),
        ({"before": "2 days ago"}, ["old"]),
    ],
)
def test_the_filters_narrow_the_list(as_user, personas, logged, params, expected):
    values = {
        "reviews": logged["reviews"].pk,
        "private": logged["private"].pk,
        "acme": logged["acme"].pk,
    }
    query = {key: value.format(**values) for key, value in params.items()}
    response = as_user("owner").get(_url(personas, **query))
    assert _listed(response) == _ids(logged, *expected)


def test_the_revision_filter_lists_the_chosen_tasks_revisions(
    as_user, personas, logged
):
    reviews = logged["reviews"]
    second = logged["runs"]["failed"].task_revision
    response = as_user("owner").get(_url(personas, task=reviews.pk, revision=second.pk))
    assert _listed(response) == _ids(logged, "failed")
    assert f'<option value="{second.pk}" selected>Revision 2</option>' in response.text


def test_a_bad_date_is_shown_with_the_form(as_user, personas, logged):
    response = as_user("owner").get(_url(personas, after="soon"))
    assert response.status_code == 200
    assert "“soon” is not a date" in response.text
    assert _listed(response) == []


def test_filters_answer_htmx_with_the_panel_only(as_user, personas, logged):
    response = as_user("owner").get(
        _url(personas, status="failed"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="runs-panel"' in response.text
    assert _listed(response) == _ids(logged, "failed")


def test_pages_follow_one_another_without_overlap(as_user, personas, llm):
    from runs_app import views

    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    now = timezone.now()
    made = [
        record_run(task, revision, at=now - timedelta(minutes=n))
        for n in range(views.RUNS_PAGE_SIZE + 7)
    ]
    client = as_user("owner")
    first = client.get(_url(personas, status="succeeded"))
    assert _listed(first) == [str(run.pk) for run in made[: views.RUNS_PAGE_SIZE]]
    older = re.search(r'href="([^"]*cursor=[^"]*)"', first.text)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert _listed(second) == [str(run.pk) for run in made[views.RUNS_PAGE_SIZE :]]
    assert "cursor=" not in second.text.split("Newest runs")[-1]
    assert "status=succeeded" in older.group(1)


@pytest.mark.parametrize("extra_runs", [0, 40])
def test_the_runs_view_reads_a_fixed_number_of_queries(
    as_user, personas, logged, django_assert_num_queries, extra_runs
):
    reviews = logged["reviews"]
    for n in range(extra_runs):
        record_run(
            reviews,
            reviews.revisions.first(),
            at=timezone.now() - timedelta(minutes=n),
        )
    client = as_user("owner")
    client.get(_url(personas))
    # session, user, project with role, tasks, the caller's grants on them,
    # reporting groups, the switcher's memberships and their projects, the
    # page of runs (with task, group and user), the revisions' numbers
    with django_assert_num_queries(10):
        client.get(_url(personas))


def test_outsiders_get_404_and_strangers_the_login(as_user, personas, logged, client):
    assert as_user("outsider").get(_url(personas)).status_code == 404
    csv_url = reverse("project_runs_csv", args=[personas.project.pk])
    assert as_user("outsider").get(csv_url).status_code == 404
    assert client.get(_url(personas)).status_code == 302


# CSV export ---------------------------------------------------------------------------


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_streams_the_filtered_runs(as_user, personas, logged):
    url = reverse("project_runs_csv", args=[personas.project.pk])
    response = as_user("viewer").get(url + f"?task={logged['reviews'].pk}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = _csv_rows(b"".join(response.streaming_content).decode())
    assert [row["run_id"] for row in rows] == _ids(logged, "acme", "failed", "old")
    acme = rows[0]
    assert acme["task_name"] == "Reviews"
    assert acme["reporting_group"] == "acme"
    assert acme["status"] == "succeeded"
    assert acme["charged_credits"] == "0.25"
    assert acme["total_tokens"] == "15"
    assert rows[1]["is_error"] == "true"


def test_the_csv_export_reads_in_chunks_whatever_the_number_of_runs(
    as_user, personas, logged, django_assert_num_queries
):
    reviews = logged["reviews"]
    revision = reviews.revisions.first()
    TaskRun.objects.bulk_create(
        TaskRun(
            task=reviews,
            task_revision=revision,
            llm_model=revision.llm_model,
            created=timezone.now() - timedelta(seconds=n),
        )
        for n in range(2500)
    )
    client = as_user("owner")
    url = reverse("project_runs_csv", args=[personas.project.pk])
    client.get(url)
    # session, user, project with role, tasks, grants, reporting groups, and
    # the runs read in chunks through one cursor
    with django_assert_num_queries(7):
        response = client.get(url)
        lines = sum(1 for _chunk in response.streaming_content)
    assert lines == 1 + 2500 + 5


def test_under_asgi_the_csv_export_streams_asynchronously(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    record_run(task, task.revisions.get(), at=timezone.now())
    url = reverse("project_runs_csv", args=[personas.project.pk])

    async def download():
        client = AsyncClient()
        await client.aforce_login(personas.owner)
        response = await client.get(url)
        return response, [chunk async for chunk in response.streaming_content]

    response, chunks = async_to_sync(download)()
    assert response.status_code == 200
    assert response.is_async
    rows = _csv_rows(b"".join(chunks).decode())
    assert [row["task_id"] for row in rows] == [str(task.pk)]


def test_the_csv_export_writes_user_text_that_looks_like_a_formula_as_text(
    as_user, personas, llm
):
    task = make_task(
        project=personas.project,
        user=personas.owner,
        model=llm.plain,
        name="-1-1 Reviews",
    )
    hostile = group(personas.project, "=cmd|' /C calc'!A0")
    run = record_run(
        task, task.revisions.get(), at=timezone.now(), reporting_group=hostile
    )
    TaskRun.objects.filter(pk=run.pk).update(
        reference='=HYPERLINK("http://evil.example","Open")'
    )
    url = reverse("project_runs_csv", args=[personas.project.pk])
    response = as_user("owner").get(url + f"?task={task.pk}")
    [row] = _csv_rows(b"".join(response.streaming_content).decode())
    assert row["task_name"] == "'-1-1 Reviews"
    assert row["reporting_group"] == "'=cmd|' /C calc'!A0"
    assert row["reference"] == '\'=HYPERLINK("http://evil.example","Open")'
    # Numbers are still numbers.
    assert row["total_tokens"] == "15"
