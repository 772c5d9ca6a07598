"""The task list and detail stay at a fixed number of queries as data grows."""

from __future__ import annotations

from decimal import Decimal

from django.core.cache import cache

from tasks_app.models import ActiveRevision, Tag, Task, TaskRevision


def _grow(personas, llm, *, tasks: int, revisions: int) -> None:
    """Bulk-create tasks, each with `revisions` revisions and a tag."""
    tag = Tag.objects.create(project=personas.project, name="bulk", entity_type="task")
    made = Task.objects.bulk_create(
        Task(
            project=personas.project,
            name=f"Bulk {n}",
            access_token_encrypted="x",
            access_token_hash=f"bulk-{n}",
        )
        for n in range(tasks)
    )
    rows = TaskRevision.objects.bulk_create(
        TaskRevision(
            task=task,
            user_prompt=f"Do {{thing}} #{r}",
            input_params=["thing"],
            llm_model=llm.vision,
        )
        for task in made
        for r in range(revisions)
    )
    ActiveRevision.objects.bulk_create(
        ActiveRevision(task=row.task, task_revision=row, weight=Decimal(1))
        for row in rows[::revisions]
    )
    Task.tags.through.objects.bulk_create(
        Task.tags.through(task=task, tag=tag) for task in made
    )


def test_task_list_queries_do_not_grow_with_tasks_and_revisions(
    api, personas, llm, new_task, django_assert_num_queries
):
    client = api("viewer")
    client.post("/task", new_task())  # warm: stamps last_used on the key
    api("editor").post("/task", new_task())
    client.get("/task")
    # 1 key with user, project and role, 2 page of tasks with the total count,
    # 3 caller's grants; the task snapshots come from the cache.
    with django_assert_num_queries(3):
        small = client.get("/task")
    _grow(personas, llm, tasks=100, revisions=10)
    cache.clear()
    # Cold: 4 tasks, 5 revisions + models, 6 revision tags, 7 model comments,
    # 8 active revisions, 9 task tags. (Fallback models' comments add one
    # query when any listed revision has a fallback.)
    with django_assert_num_queries(9):
        big = client.get("/task")
    with django_assert_num_queries(3):
        assert client.get("/task").json() == big.json()
    assert len(small.json()["results"]) == 1
    assert len(big.json()["results"]) == 100
    assert big.json()["pagination"]["total_count"] == 101
    assert {len(task["revisions"]) for task in big.json()["results"]} == {10}


def test_task_detail_queries_do_not_grow_with_revisions(
    api, personas, llm, new_task, django_assert_num_queries
):
    client = api("viewer")
    task = api("editor").post("/task", new_task()).json()
    client.get(f"/task/{task['id']}")
    # 1 key with user, project and role, 2 task, 3 caller's grants; the rest
    # is the cached snapshot.
    with django_assert_num_queries(3):
        client.get(f"/task/{task['id']}")
    # An owner's grants cannot raise their role, so they are not read.
    owner = api("owner")
    owner.get(f"/task/{task['id']}")  # stamps last_used on the key
    with django_assert_num_queries(2):
        assert owner.get(f"/task/{task['id']}").status_code == 200
    TaskRevision.objects.bulk_create(
        TaskRevision(
            task_id=task["id"], user_prompt=f"v{n} {{x}}", llm_model=llm.vision
        )
        for n in range(50)
    )
    cache.clear()
    # Cold: 4 task, 5 revisions + models, 6 revision tags, 7 model comments,
    # 8 active revisions, 9 task tags.
    with django_assert_num_queries(9):
        detail = client.get(f"/task/{task['id']}")
    assert len(detail.json()["revisions"]) == 51


def test_an_oversized_body_is_refused_and_nothing_is_written(api, new_task, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
    response = api("editor").post("/task", new_task(system_prompt="x" * 1_100_000))
    assert response.status_code == 413
    assert response.json()["type"] == "validation_error"
    assert not Task.objects.exists()
