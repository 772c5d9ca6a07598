"""A task's tags in the dashboard (dashboard.md §5 "tag pickers", checklist
128's filter reads them): add a tag of the project's tree, remove one, or make
a new tag and add it, from a card on the Revisions page.

Changing a task's tags needs `edit` on the task; making a tag also needs the
project's manage_tags (viewers never may). Mistakes come back inline in the
card; without JavaScript, in a page of their own.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.permissions import Perm, role_allows
from tasks_app import selectors, services, views
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.models import Tag

PAGE = "tasks_app/task_tags.html"
CARD = "tasks_app/_task_tags.html"


def _paths(choices: list[views.TagChoice], tags: dict[UUID, Tag]) -> dict[UUID, str]:
    """Each tag's path from its root, e.g. "team / growth"."""
    paths: dict[UUID, str] = {}
    for choice in choices:  # parents come before their children
        parent = tags[choice.id].parent_id
        paths[choice.id] = (
            f"{paths[parent]} / {choice.name}" if parent in paths else choice.name
        )
    return paths


def tags_context(
    access: TaskAccess, *, error: str = "", name_error: str = "", name: str = ""
) -> dict[str, Any]:
    """What the tag card shows (two queries: the task's tags, the project's)."""
    project_tags = {
        tag.pk: tag
        for tag in selectors.tags_of(
            project_id=access.project.project.pk, entity_type=Tag.EntityType.TASK
        )
    }
    tree = views.tag_tree(list(project_tags.values()))
    paths = _paths(tree, project_tags)
    on_task = set(access.task.tags.values_list("id", flat=True))
    can_edit = access.allows(Perm.TASK_EDIT)
    return {
        "task_tags": [
            {"id": choice.id, "path": paths[choice.id]}
            for choice in tree
            if choice.id in on_task
        ],
        "tag_choices": [choice for choice in tree if choice.id not in on_task],
        "all_tag_choices": tree,
        "tags_editable": can_edit,
        "tags_creatable": can_edit
        and role_allows(access.project.role, Perm.PROJECT_MANAGE_TAGS),
        "tags_url": reverse(
            "task_tags", args=[access.project.project.pk, access.task.pk]
        ),
        "tag_error": error,
        "tag_name_error": name_error,
        "tag_name": name,
    }


def _uuid(raw: str | None) -> UUID | None:
    try:
        return UUID(raw or "")
    except ValueError:
        return None


def _answer(
    request: AuthedRequest, access: TaskAccess, status_message: str = "", **errors
) -> HttpResponse:
    failed = any(errors.values())
    if not request.htmx and not failed:
        messages.success(request, status_message)
        url = reverse(
            "task_revisions", args=[access.project.project.pk, access.task.pk]
        )
        return redirect(url + "#task-tags")
    context = {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": access.task,
        "tag_message": "" if failed else status_message,
        **tags_context(access, **errors),
    }
    response = render(request, CARD if request.htmx else PAGE, context)
    if not failed:
        response["HX-Trigger"] = "task-tags-changed"
    return response


def _change(request: AuthedRequest, access: TaskAccess) -> HttpResponse:
    action = request.POST.get("action", "")
    current = list(access.task.tags.values_list("id", flat=True))
    if action == "create":
        if not role_allows(access.project.role, Perm.PROJECT_MANAGE_TAGS):
            raise PermissionDenied
        name = request.POST.get("name", "").strip()
        raw_parent = request.POST.get("parent") or None
        parent = _uuid(raw_parent)
        if raw_parent and parent is None:
            return _answer(request, access, name=name, error="Choose a parent tag.")
        try:
            tag = services.task_tag_create(
                task=access.task, name=name, parent_id=parent
            )
        except DomainError as failure:
            if failure.field == "name":
                return _answer(request, access, name=name, name_error=failure.message)
            return _answer(request, access, name=name, error=failure.message)
        return _answer(request, access, f"Made the tag {tag.name} and added it.")
    tag_id = _uuid(request.POST.get("tag"))
    if action == "add":
        if tag_id is None:
            return _answer(request, access, error="Choose a tag to add.")
        tags = [*current, tag_id]
    elif action == "remove" and tag_id in current:
        tags = [pk for pk in current if pk != tag_id]
    else:
        return _answer(request, access, error="The task has no such tag.")
    try:
        services.task_update(task=access.task, user=request.user, tags=tags)
    except DomainError:
        return _answer(request, access, error="That is not a task tag of this project.")
    return _answer(
        request, access, "Added the tag." if action == "add" else "Removed the tag."
    )


@require_http_methods(["GET", "POST"])
@login_required
def task_tags(request: AuthedRequest, project_id: UUID, task_id: UUID) -> HttpResponse:
    """The task's tags; by POST, `action` add, remove (a `tag` id) or create
    (a `name`, maybe a `parent`)."""
    if request.method == "GET":
        access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
        template = CARD if request.htmx else PAGE
        context = {
            "access": access.project,
            "nav": "tasks",
            "task_access": access,
            "task": access.task,
            **tags_context(access),
        }
        return render(request, template, context)
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    return _change(request, access)
