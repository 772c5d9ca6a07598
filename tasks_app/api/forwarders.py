"""Task forwarders over JSON (api.md §8): where runs are POSTed when they finish.

Members read forwarders; editors and up manage them. `config_sensitive` (the
signing key) is write-only: answers say only `has_sensitive_config`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from rightbrain.api_common import (
    ERRORS,
    PROJECT,
    PaginationDetails,
    json_null,
    page_limit_of,
)
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import page_after
from tasks_app import selectors, services
from tasks_app.api.common import member_access
from tasks_app.models import TaskForwarder

router = Router(tags=["task forwarders"])


class StrictBody(Schema):
    # Wrong JSON types are envelope errors (400), never coerced; unknown keys
    # too: a misspelt `config_sensitive` would otherwise leave runs unsigned.
    model_config = ConfigDict(strict=True, extra="forbid")


class ForwarderConfig(StrictBody):
    destination_url: str | None = Field(
        None, description="https URL that receives each run as a JSON POST."
    )


class ForwarderSensitiveConfig(StrictBody):
    signing_key: str | None = Field(
        None,
        description="Key for `X-Signature: sha256=<HMAC-SHA256 of the body>`. "
        "Write-only.",
    )


class TaskForwarderCreate(StrictBody):
    name: str
    description: str | None = None
    config: ForwarderConfig | None = None
    config_sensitive: ForwarderSensitiveConfig | None = None


class TaskForwarderUpdate(StrictBody):
    name: str | None = None
    description: str | None = None
    config: ForwarderConfig | None = None
    config_sensitive: ForwarderSensitiveConfig | None = Field(
        None, description="Replaces the stored secrets; `{}` removes them."
    )


class TaskForwarderOut(Schema):
    id: UUID
    project_id: UUID
    name: str
    description: str | None = None
    config: dict[str, Any]
    created: datetime
    modified: datetime
    has_sensitive_config: bool


class PaginatedTaskForwarderResultSet(Schema):
    results: list[TaskForwarderOut]
    pagination: PaginationDetails | None


class ListQuery(Schema):
    cursor: UUID | None = None
    page_limit: int = 100


def forwarder_out(forwarder: TaskForwarder) -> dict[str, Any]:
    return {
        "id": forwarder.pk,
        "project_id": forwarder.project_id,
        "name": forwarder.name,
        "description": forwarder.description or None,
        "config": forwarder.config,
        "created": forwarder.created,
        "modified": forwarder.modified,
        "has_sensitive_config": forwarder.has_sensitive_config,
    }


def _forwarder(project_id: UUID, task_forwarder_id: UUID) -> TaskForwarder:
    forwarder = selectors.forwarder_in_project(
        project_id=project_id, forwarder_id=task_forwarder_id
    )
    if forwarder is None:
        raise Http404("No such task forwarder.")
    return forwarder


def _sent(part: Schema | None) -> dict[str, Any] | None:
    return None if part is None else part.model_dump(exclude_none=True)


@router.get(
    PROJECT + "/task_forwarder",
    response={200: PaginatedTaskForwarderResultSet, **ERRORS},
    summary="List task forwarders",
    operation_id="task_forwarder_list",
)
def task_forwarder_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[ListQuery]
):
    member_access(request, org_id, project_id)
    limit = page_limit_of(query.page_limit)
    page, has_next = page_after(
        selectors.forwarders_of(project_id=project_id),
        cursor=query.cursor,
        limit=limit,
    )
    return {
        "results": [forwarder_out(forwarder) for forwarder in page],
        "pagination": {
            "next_cursor": str(page[-1].pk) if has_next else None,
            "has_next": has_next,
            "page_limit": limit,
        },
    }


@router.post(
    PROJECT + "/task_forwarder",
    response={200: TaskForwarderOut, **ERRORS},
    summary="Create a task forwarder",
    operation_id="task_forwarder_create",
)
def task_forwarder_create(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: TaskForwarderCreate
):
    access = member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_FORWARDERS)
    forwarder = services.task_forwarder_create(
        project=access.project,
        name=payload.name,
        description=payload.description,
        config=_sent(payload.config) or {},
        config_sensitive=_sent(payload.config_sensitive),
    )
    return forwarder_out(forwarder)


@router.get(
    PROJECT + "/task_forwarder/{task_forwarder_id}",
    response={200: TaskForwarderOut, **ERRORS},
    summary="Get a task forwarder",
    operation_id="task_forwarder_get",
)
def task_forwarder_get(
    request: HttpRequest, org_id: UUID, project_id: UUID, task_forwarder_id: UUID
):
    member_access(request, org_id, project_id)
    return forwarder_out(_forwarder(project_id, task_forwarder_id))


@router.post(
    PROJECT + "/task_forwarder/{task_forwarder_id}",
    response={200: TaskForwarderOut, **ERRORS},
    summary="Update a task forwarder",
    operation_id="task_forwarder_update",
)
def task_forwarder_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_forwarder_id: UUID,
    payload: TaskForwarderUpdate,
):
    member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_FORWARDERS)
    forwarder = _forwarder(project_id, task_forwarder_id)
    sent = payload.model_dump(exclude_unset=True)
    services.task_forwarder_update(
        forwarder=forwarder,
        name=payload.name,
        # An explicit null clears the description.
        description=(payload.description or "") if "description" in sent else None,
        config=_sent(payload.config),
        config_sensitive=_sent(payload.config_sensitive),
    )
    return forwarder_out(forwarder)


@router.delete(
    PROJECT + "/task_forwarder/{task_forwarder_id}",
    response={200: None, **ERRORS},
    summary="Delete a task forwarder no revision uses",
    operation_id="task_forwarder_delete",
)
def task_forwarder_delete(
    request: HttpRequest, org_id: UUID, project_id: UUID, task_forwarder_id: UUID
):
    member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_FORWARDERS)
    services.task_forwarder_delete(forwarder=_forwarder(project_id, task_forwarder_id))
    return json_null()
