"""Tasks, models and input processors over JSON (api.md §3, §10, §11)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from rightbrain.api_common import (
    ERRORS,
    PROJECT,
    json_null,
    json_ready,
    json_response,
    page_limit_of,
)
from rightbrain.errors import Forbidden
from rightbrain.orgs.permissions import Perm, task_role_allows
from rightbrain.orgs.tokens import decrypt_secret
from tasks_app import selectors, services
from tasks_app.api.common import (
    member_access,
    principal_of,
    project_access,
    task_for_caller,
)
from tasks_app.api.tags import tag_out
from tasks_app.input_processors import PROCESSORS
from tasks_app.models import LLMModel, Task, TaskRevision
from tasks_app.permissions import effective_task_role, grant_keys_that_matter
from tasks_app.schemas import (
    InputProcessorOut,
    LLMModelOut,
    MalformedResourceIdentifierErrorResponse,
    PaginatedTaskResultSet,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)
from tasks_app.snapshots import task_snapshots

router = Router(tags=["tasks"])


# Serialisation ------------------------------------------------------------------


def model_out(model: LLMModel) -> dict[str, Any]:
    return {
        "id": model.pk,
        "provider": model.provider,
        "vendor": model.vendor,
        "name": model.name,
        "alias": model.alias,
        "description": model.description,
        "supports_vision": model.supports_vision,
        "supports_image_output": model.supports_image_output,
        "max_context_window": model.max_context_window,
        "model_params": model.model_params,
        "created": model.created,
        "modified": model.modified,
        "replaced_by": model.replaced_by_id,
        "retired": model.retired,
        "llm_model_comments": [
            {
                "id": comment.pk,
                "llm_model_id": comment.llm_model_id,
                "title": comment.title,
                "description": comment.description,
                "active": comment.active,
                "created": comment.created,
                "modified": comment.modified,
            }
            for comment in getattr(model, "active_comments", [])
        ],
    }


def revision_out(revision: TaskRevision, active_ids: set[UUID]) -> dict[str, Any]:
    return {
        "id": revision.pk,
        "system_prompt": revision.system_prompt,
        "user_prompt": revision.user_prompt,
        "llm_model_id": revision.llm_model_id,
        "llm_model": model_out(revision.llm_model),
        "llm_config": revision.llm_config or {},
        "fallback_llm_model_id": revision.fallback_llm_model_id,
        "fallback_llm_model": model_out(revision.fallback_llm_model)
        if revision.fallback_llm_model
        else None,
        "fallback_llm_config": revision.fallback_llm_config,
        "output_format": revision.output_format,
        "task_forwarder_id": revision.task_forwarder_id,
        "rag": revision.rag,
        "image_required": revision.image_required,
        "optimise_images": revision.optimise_images,
        "test": revision.test,
        "input_processors": revision.input_processors,
        "annotation": revision.annotation or None,
        "input_params": revision.input_params,
        "active": revision.pk in active_ids,
        "tags": [tag_out(tag) for tag in getattr(revision, "revision_tags", [])],
        "created": revision.created,
        "modified": revision.modified,
    }


def _snapshot(task: Task) -> dict[str, Any]:
    """The caller-independent part of a Task response (cached by snapshots)."""
    entries = task.active_entries  # type: ignore[attr-defined]
    active_ids = {entry.task_revision_id for entry in entries}
    return {
        "id": task.pk,
        "project_id": task.project_id,
        "name": task.name,
        "description": task.description or None,
        "enabled": task.enabled,
        "public": task.public,
        "exposed_to_agents": task.exposed_to_agents,
        "output_modality": task.output_modality,
        "task_run_visibility": task.task_run_visibility,
        "created": task.created,
        "modified": task.modified,
        "deleted": None,
        "revisions": [
            revision_out(revision, active_ids)
            for revision in task.listed_revisions  # type: ignore[attr-defined]
        ],
        "access_token": None,
        "active_revisions": [
            {"task_revision_id": entry.task_revision_id, "weight": float(entry.weight)}
            for entry in entries
        ],
        "cloned_from_task_revision_id": task.cloned_from_task_revision_id,
        "tags": [tag_out(tag) for tag in task.task_tags],  # type: ignore[attr-defined]
        "mcp_enabled": task.mcp_enabled,
    }


def tasks_out(
    tasks: list[tuple[Task, str | None]],
    *,
    include_tests: bool = False,
    revision_tag_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Task responses for (task, caller's role) pairs; the access token is
    shown to those who may edit the task."""

    def build(task_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
        loaded = selectors.tasks_with_parts(
            task_ids=task_ids,
            include_tests=include_tests,
            revision_tag_id=revision_tag_id,
        )
        return {task.pk: json_ready(_snapshot(task)) for task in loaded}

    snapshots = task_snapshots(
        (task for task, _role in tasks),
        variant=f"{int(include_tests)}:{revision_tag_id or ''}",
        build=build,
    )
    results = []
    for task, role in tasks:
        out = dict(snapshots[task.pk])
        if task_role_allows(role, Perm.TASK_EDIT):
            out["access_token"] = decrypt_secret(task.access_token_encrypted)
        results.append(out)
    return results


def task_out(task: Task, role: str | None, **variant: Any) -> dict[str, Any]:
    return tasks_out([(task, role)], **variant)[0]


def _descriptions(params: list[Any] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for param in params or []:
        if isinstance(param, Schema) and getattr(param, "description", None):
            result[param.name] = param.description  # type: ignore[attr-defined]
    return result


# Endpoints ------------------------------------------------------------------------


class TaskListQuery(Schema):
    name: str | None = None
    tag_id: UUID | None = None
    include_tests: bool = False
    cursor: UUID | None = None
    page_limit: int = 100


@router.get(
    PROJECT + "/task",
    response={200: PaginatedTaskResultSet, **ERRORS},
    summary="List tasks",
    operation_id="task_list",
)
def task_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[TaskListQuery]
):
    principal = principal_of(request)
    access = project_access(request, org_id, project_id)
    limit = page_limit_of(query.page_limit)
    keys = grant_keys_that_matter(principal, access)
    if principal.task_id is not None:
        raise Forbidden("A task access token can only run its task.")
    tasks = selectors.visible_tasks(
        project_id=project_id,
        is_member=bool(access.role),
        grant_keys=keys,
        name=query.name,
        tag_id=query.tag_id,
    )
    page, has_next, total = selectors.tasks_page(
        tasks, cursor=query.cursor, limit=limit, grant_keys=keys
    )
    results = tasks_out(
        [
            (
                task,
                effective_task_role(
                    task=task,
                    principal=principal,
                    access=access,
                    grants=task.caller_grants,  # type: ignore[attr-defined]
                ),
            )
            for task in page
        ],
        include_tests=query.include_tests,
    )
    return json_response(
        {
            "results": results,
            "pagination": {
                "has_next": has_next,
                "next_cursor": page[-1].pk if has_next else None,
                "page_limit": limit,
                "total_count": total,
            },
        }
    )


@router.post(
    PROJECT + "/task",
    response={200: TaskOut, **ERRORS},
    summary="Create a task",
    operation_id="task_create",
)
def task_create(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: TaskCreate
):
    access = member_access(request, org_id, project_id, Perm.PROJECT_CREATE_TASK)
    principal = principal_of(request)
    task = services.task_create(
        project=access.project,
        user=principal.user,
        name=payload.name,
        description=payload.description,
        enabled=payload.enabled,
        public=payload.public,
        exposed_to_agents=payload.exposed_to_agents,
        mcp_enabled=payload.mcp_enabled,
        output_modality=payload.output_modality,
        task_run_visibility=payload.task_run_visibility,
        revision=services.RevisionSpec(
            system_prompt=payload.system_prompt,
            user_prompt=payload.user_prompt,
            llm_model_id=payload.llm_model_id,
            llm_config=payload.llm_config or {},
            fallback_llm_model_id=payload.fallback_llm_model_id,
            fallback_llm_config=payload.fallback_llm_config,
            output_format=payload.output_format,
            task_forwarder_id=payload.task_forwarder_id,
            rag=payload.rag,
            image_required=payload.image_required,
            optimise_images=payload.optimise_images,
            input_processors=payload.input_processors or [],
            annotation=payload.annotation,
            test=payload.test,
            input_param_descriptions=_descriptions(payload.input_params),
        ),
    )
    task, role, _ = task_for_caller(
        request, org_id, project_id, task.pk, Perm.TASK_VIEW
    )
    return json_response(task_out(task, role))


@router.get(
    PROJECT + "/task/{task_id}",
    response={200: TaskOut, **ERRORS},
    summary="Get a task",
    operation_id="task_get",
)
def task_get(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    revision_tag_id: UUID | None = None,
    include_tests: bool = False,
):
    task, role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    return json_response(
        task_out(
            task, role, include_tests=include_tests, revision_tag_id=revision_tag_id
        )
    )


@router.post(
    PROJECT + "/task/{task_id}",
    response={200: TaskOut, **ERRORS},
    summary="Update a task (revision fields create a new revision)",
    description=(
        "Revision fields that change the base revision's configuration make a "
        "new, inactive revision; every field not sent is carried over. Sending "
        "what the base revision already says (no annotation, not a test "
        "revision) makes none: 200 with the task unchanged."
    ),
    operation_id="task_update",
)
def task_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    payload: TaskUpdate,
):
    task, _role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_EDIT
    )
    sent = payload.model_dump(exclude_none=True)
    task_fields = {key: sent[key] for key in services.TASK_FIELDS if key in sent}
    revision_fields = {
        key: sent[key] for key in services.REVISION_FIELDS if key in sent
    }
    if payload.output_format is not None:
        revision_fields["output_format"] = payload.output_format
    if payload.input_params:
        revision_fields["input_param_descriptions"] = _descriptions(
            payload.input_params
        )
    if not any(
        key in revision_fields for key in services.REVISION_FIELDS if key != "test"
    ):
        # `test` alone describes a revision but is not a change to one.
        revision_fields.pop("test", None)
    active = None
    if payload.active_revisions is not None:
        active = [
            (
                entry.task_revision_id,
                None if entry.weight is None else Decimal(str(entry.weight)),
            )
            for entry in payload.active_revisions
        ]
    services.task_update(
        task=task,
        user=principal_of(request).user,
        task_fields=task_fields,
        revision_fields=revision_fields,
        active_revisions=active,
        tags=payload.tags,
        revision_tags=payload.revision_tags,
    )
    task, role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    return json_response(task_out(task, role))


@router.delete(
    PROJECT + "/task/{task_id}",
    response={**ERRORS, 200: None, 400: MalformedResourceIdentifierErrorResponse},
    summary="Delete a task with its revisions, runs and files",
    operation_id="task_delete",
)
def task_delete(request: HttpRequest, org_id: UUID, project_id: UUID, task_id: str):
    try:
        parsed = UUID(task_id)
    except ValueError:
        return Status(
            400,
            {
                "message": f"{task_id!r} is not a valid task id.",
                "reason": "MALFORMED_RESOURCE_IDENTIFIER",
                "malformedResourceIdentifierError": {
                    "field": "task_id",
                    "value": task_id,
                    "expected_format": "UUID",
                },
            },
        )
    task, _role, _ = task_for_caller(
        request, org_id, project_id, parsed, Perm.TASK_EDIT
    )
    services.task_delete(task=task, actor=principal_of(request).user)
    return json_null()


@router.get(
    PROJECT + "/model",
    response={200: list[LLMModelOut], **ERRORS},
    summary="List models",
    operation_id="model_list",
)
def model_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, include_retired: bool = True
):
    member_access(request, org_id, project_id)
    return [
        model_out(model)
        for model in selectors.models_for_listing(include_retired=include_retired)
    ]


@router.get(
    PROJECT + "/input_processor",
    response={200: list[InputProcessorOut], **ERRORS},
    summary="List input processors",
    operation_id="input_processor_list",
)
def input_processor_list(request: HttpRequest, org_id: UUID, project_id: UUID):
    member_access(request, org_id, project_id)
    return [
        {
            "name": p.name,
            "label": p.label,
            "description": p.description,
            "config_schema": p.config_schema,
            "accepts_files": p.accepts_files,
        }
        for p in PROCESSORS.values()
    ]
