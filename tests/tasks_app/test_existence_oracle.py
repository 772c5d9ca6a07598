"""An id that belongs to another project, task or organisation is answered
exactly like an id that does not exist, so the answers never tell an outsider
whether another tenant's object exists.

Each test sends the same request twice: once while the other tenant's object
exists, once after it is deleted, and compares the answers byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rightbrain.orgs.models import Organization, Project, User
from tasks_app.models import Tag, Task, TaskForwarder
from tasks_app.services import RevisionSpec, task_create, task_forwarder_create

# A public address written as an IP: checked without a DNS lookup.
PUBLIC_URL = "https://93.184.216.34/hooks/rightbrain"


def _same_answer_once_gone(send: Callable, delete: Callable) -> int:
    """The status of `send()`, asserting it answers the same bytes after
    `delete()` removes the other tenant's object."""
    while_it_exists = send()
    delete()
    once_gone = send()
    assert while_it_exists.status_code == once_gone.status_code
    assert while_it_exists.content == once_gone.content
    return while_it_exists.status_code


@pytest.fixture
def task(api, new_task):
    return api("owner").post("/task", new_task()).json()


@pytest.fixture
def foreign_task(personas, llm) -> Task:
    return task_create(
        project=personas.other_project,
        user=personas.outsider,
        name="Theirs",
        revision=RevisionSpec(user_prompt="Hello {name}", llm_model_id=llm.vision.pk),
    )


def test_another_projects_forwarder_is_answered_like_an_unknown_one(
    api, personas, task, new_task
):
    client = api("editor")
    foreign = task_forwarder_create(
        project=personas.other_project,
        name="Theirs",
        config={"destination_url": PUBLIC_URL},
    )
    delete = TaskForwarder.objects.filter(pk=foreign.pk).delete

    def update():
        return client.post(
            f"/task/{task['id']}", {"task_forwarder_id": str(foreign.pk)}
        )

    assert _same_answer_once_gone(update, delete) == 422

    def create():
        return client.post("/task", new_task(task_forwarder_id=str(foreign.pk)))

    assert _same_answer_once_gone(create, lambda: None) == 422
    assert Task.objects.filter(project=personas.project).count() == 1


@pytest.mark.parametrize(
    ("field", "entity_type"), [("tags", "task"), ("revision_tags", "task_revision")]
)
def test_another_projects_tag_is_answered_like_an_unknown_one(
    api, personas, task, field, entity_type
):
    foreign = Tag.objects.create(
        project=personas.other_project, name="theirs", entity_type=entity_type
    )

    def send():
        return api("editor").post(f"/task/{task['id']}", {field: [str(foreign.pk)]})

    status = _same_answer_once_gone(send, Tag.objects.filter(pk=foreign.pk).delete)
    assert status == 422


def test_another_projects_tag_as_a_parent_is_answered_like_an_unknown_one(
    api, personas
):
    foreign = Tag.objects.create(
        project=personas.other_project, name="theirs", entity_type="task"
    )

    def send():
        body = {"name": "child", "entity_type": "task", "parent_id": str(foreign.pk)}
        return api("editor").post("/task/tag", body)

    status = _same_answer_once_gone(send, Tag.objects.filter(pk=foreign.pk).delete)
    assert status == 422


def test_another_tasks_revision_in_the_traffic_split_is_answered_like_an_unknown_one(
    api, task, foreign_task
):
    revision_id = str(foreign_task.revisions.get().pk)

    def send():
        entries = [{"task_revision_id": revision_id, "weight": 1}]
        return api("editor").post(f"/task/{task['id']}", {"active_revisions": entries})

    delete = Task.objects.filter(pk=foreign_task.pk).delete
    assert _same_answer_once_gone(send, delete) == 422


@pytest.mark.parametrize("subject_type", ["user", "organization", "project"])
def test_a_member_outside_the_organisation_is_answered_like_an_unknown_one(
    api, personas, task, subject_type
):
    foreign = {
        "user": personas.outsider,
        "organization": personas.other_organization,
        "project": personas.other_project,
    }[subject_type]
    model = {"user": User, "organization": Organization, "project": Project}

    def send():
        member = f"{subject_type}:{foreign.pk}"
        path = f"/task/{task['id']}/iam/members/{member}"
        return api("owner").post(path, {"add": ["viewer"]})

    delete = model[subject_type].objects.filter(pk=foreign.pk).delete
    assert _same_answer_once_gone(send, delete) == 404
