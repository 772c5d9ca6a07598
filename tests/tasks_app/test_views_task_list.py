"""The task list (dashboard.md §1, checklist 128): search, tag filter, keyset
pages, the empty state, who may see it, and a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tasks_app.models import ActiveRevision, Tag, Task, TaskRevision
from tasks_app.services import RevisionSpec, task_create

HTMX = {"HX-Request": "true", "HX-Target": "task-results"}


@pytest.fixture
def make_task(personas, llm):
    def make(name: str, **fields) -> Task:
        return task_create(
            project=personas.project,
            user=personas.editor,
            name=name,
            revision=RevisionSpec(
                user_prompt="Judge {review}", llm_model_id=llm.vision.pk
            ),
            **fields,
        )

    return make


def _url(personas, **params) -> str:
    url = reverse("project_home", args=[personas.project.pk])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def test_the_list_shows_tasks_newest_first_and_each_opens_its_run_view(
    personas, as_user, make_task
):
    older = make_task("Older task", description="Sorts the post")
    newer = make_task("Newer task", enabled=False)
    page = as_user("viewer").get(_url(personas))
    assert page.status_code == 200
    assert page.text.index("Newer task") < page.text.index("Older task")
    assert reverse("task_run", args=[personas.project.pk, older.pk]) in page.text
    assert "Sorts the post" in page.text
    assert "Disabled" in page.text and "Enabled" in page.text
    assert f'id="task-{newer.pk}"' in page.text


def test_name_search_is_a_case_insensitive_substring_kept_in_the_url(
    personas, as_user, make_task
):
    make_task("Invoice reader")
    make_task("Review sorter")
    fragment = as_user("viewer").get(_url(personas, q="INVOICE"), headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Invoice reader" in fragment.text
    assert "Review sorter" not in fragment.text
    # The search box sends to the same URL and pushes it, so the URL keeps it.
    page = as_user("viewer").get(_url(personas, q="invoice"))
    assert 'hx-push-url="true"' in page.text
    assert 'value="invoice"' in page.text


def test_the_tag_filter_includes_child_tags(personas, as_user, make_task):
    parent = Tag.objects.create(
        project=personas.project, name="sales", entity_type="task"
    )
    child = Tag.objects.create(
        project=personas.project, name="leads", entity_type="task", parent=parent
    )
    tagged = make_task("Lead scorer")
    tagged.tags.add(child)
    make_task("Untagged")
    page = as_user("viewer").get(_url(personas, tag=parent.pk))
    assert "Lead scorer" in page.text
    assert "Untagged" not in page.text
    # The tree shows children indented under their parent.
    assert page.text.index(">sales<") < page.text.index("leads<")


def test_no_match_says_so_and_offers_all_tasks(personas, as_user, make_task):
    make_task("Alpha")
    fragment = as_user("viewer").get(_url(personas, q="zzz"), headers=HTMX)
    assert "No tasks match" in fragment.text
    assert "No tasks yet" not in fragment.text


def test_the_empty_project_offers_create_and_templates_to_editors_only(
    personas, as_user
):
    editor = as_user("editor").get(_url(personas))
    assert "No tasks yet" in editor.text
    assert reverse("task_create", args=[personas.project.pk]) in editor.text
    assert "Start from a template" in editor.text
    viewer = as_user("viewer").get(_url(personas))
    assert "No tasks yet" in viewer.text
    assert reverse("task_create", args=[personas.project.pk]) not in viewer.text


def test_pages_follow_a_cursor_and_an_unknown_cursor_starts_again(
    personas, as_user, make_task
):
    for n in range(27):
        make_task(f"Task {n:02d}")
    client = as_user("viewer")
    first = client.get(_url(personas))
    assert "Task 26" in first.text and "Task 02" in first.text
    assert "Task 01" not in first.text
    last_on_page = Task.objects.get(name="Task 02")
    assert f"after={last_on_page.pk}" in first.text
    second = client.get(_url(personas, after=last_on_page.pk), headers=HTMX)
    assert "Task 01" in second.text and "Task 00" in second.text
    assert "Task 02" not in second.text
    gone = client.get(_url(personas, after="01a1f3f0-0000-7000-8000-000000000000"))
    assert gone.status_code == 302


def test_the_outsider_gets_404(personas, as_user):
    assert as_user("outsider").get(_url(personas)).status_code == 404


def test_the_list_costs_the_same_queries_with_a_thousand_tasks(
    personas, as_user, llm, django_assert_num_queries
):
    client = as_user("viewer")
    url = _url(personas)
    client.get(url)
    _grow(personas, llm, 3)
    # 1 session, 2 user, 3 project with role, 4 task tags for the filter,
    # 5 page of tasks with the total and live-revision counts, 6 tags of the
    # page's tasks, 7-8 the switcher.
    with django_assert_num_queries(8):
        small = client.get(url)
    _grow(personas, llm, 1000)
    with django_assert_num_queries(8):
        big = client.get(url)
    assert small.text.count('class="row-link"') == 3
    assert big.text.count('class="row-link"') == 25
    assert '<span class="count">1003</span>' in big.text


def _grow(personas, llm, count: int) -> None:
    tag = Tag.objects.get_or_create(
        project=personas.project, name="bulk", entity_type="task"
    )[0]
    made = Task.objects.bulk_create(
        Task(
            project=personas.project,
            name=f"Bulk {n}",
            access_token_encrypted="x",
            access_token_hash=f"bulk-{count}-{n}",
        )
        for n in range(count)
    )
    revisions = TaskRevision.objects.bulk_create(
        TaskRevision(task=task, user_prompt="Do {x}", llm_model=llm.vision)
        for task in made
    )
    ActiveRevision.objects.bulk_create(
        ActiveRevision(task=r.task, task_revision=r, weight=Decimal(1))
        for r in revisions
    )
    Task.tags.through.objects.bulk_create(
        Task.tags.through(task=task, tag=tag) for task in made
    )
