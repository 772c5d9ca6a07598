"""Tags for tasks and revisions (api.md §6): a tree per entity type."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router

from rightbrain.api_common import ERRORS, PROJECT, page_limit_of
from rightbrain.errors import Invalid
from rightbrain.orgs.permissions import Perm
from tasks_app import selectors, services
from tasks_app.api.common import member_access
from tasks_app.models import Tag
from tasks_app.schemas import PaginatedTagResultSet, TagCreate, TagOut, TagUpdate

router = Router(tags=["tags"])

EntityType = Literal["task", "task_revision"]


def tag_out(tag: Tag) -> dict[str, Any]:
    """The flat Tag shape used inside tasks and revisions."""
    return {
        "id": tag.pk,
        "name": tag.name,
        "entity_type": tag.entity_type,
        "parent_id": tag.parent_id,
        "project_id": tag.project_id,
        "created_at": tag.created_at,
        "is_project_tag": tag.is_project_tag,
        "is_global_tag": False,
    }


def _tree_out(
    tag: Tag,
    children: dict[UUID | None, list[Tag]],
    tagged: dict[UUID, list[UUID]],
) -> dict[str, Any]:
    return {
        **tag_out(tag),
        "children": [_tree_out(child, children, tagged) for child in children[tag.pk]],
        "tagged_entities": tagged.get(tag.pk, []),
    }


def _forest(project_id: UUID, entity_type: str):
    """Children by parent and tagged ids by tag, for the whole tree at once."""
    tags = selectors.tags_of(project_id=project_id, entity_type=entity_type)
    children: dict[UUID | None, list[Tag]] = defaultdict(list)
    for tag in tags:
        children[tag.parent_id].append(tag)
    tagged = selectors.tagged_entities(
        tag_ids=[tag.pk for tag in tags], entity_type=entity_type
    )
    return tags, children, tagged


def _tag(project_id: UUID, tag_id: UUID, entity_type: str | None = None) -> Tag:
    tag = selectors.tag_in_project(project_id=project_id, tag_id=tag_id)
    if tag is None or (entity_type is not None and tag.entity_type != entity_type):
        raise Http404("No such tag.")
    return tag


@router.get(
    PROJECT + "/{entity_type}/tag",
    response={200: PaginatedTagResultSet, **ERRORS},
    summary="List root tags with their children",
    operation_id="tag_list",
)
def tag_list(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    entity_type: EntityType,
    cursor: UUID | None = None,
    page_limit: int = 100,
):
    member_access(request, org_id, project_id)
    limit = page_limit_of(page_limit)
    tags, children, tagged = _forest(project_id, entity_type)
    roots = children[None]
    if cursor is not None:
        if not any(root.pk == cursor for root in roots):
            raise Invalid("Unknown cursor.", field="cursor")
        roots = [root for root in roots if root.pk > cursor]
    page = roots[:limit]
    has_next = len(roots) > limit
    return {
        "results": [_tree_out(tag, children, tagged) for tag in page],
        "pagination": {
            "next_cursor": str(page[-1].pk) if has_next else None,
            "has_next": has_next,
            "page_limit": limit,
        },
    }


@router.post(
    PROJECT + "/{entity_type}/tag",
    response={200: TagOut, **ERRORS},
    summary="Create a tag",
    operation_id="tag_create",
)
def tag_create(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    entity_type: EntityType,
    payload: TagCreate,
):
    access = member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_TAGS)
    if payload.entity_type != entity_type:
        raise Invalid(f"This endpoint creates {entity_type} tags.", field="entity_type")
    tag = services.tag_create(
        project=access.project,
        name=payload.name,
        entity_type=entity_type,
        parent_id=payload.parent_id,
    )
    return {**tag_out(tag), "children": [], "tagged_entities": []}


@router.get(
    PROJECT + "/{entity_type}/tag/{tag_id}",
    response={200: TagOut, **ERRORS},
    summary="Get a tag",
    operation_id="tag_get",
)
def tag_get(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    entity_type: EntityType,
    tag_id: UUID,
):
    member_access(request, org_id, project_id)
    tag = _tag(project_id, tag_id, entity_type)
    _tags, children, tagged = _forest(project_id, entity_type)
    return _tree_out(tag, children, tagged)


@router.post(
    PROJECT + "/{entity_type}/tag/{tag_id}",
    response={200: TagOut, **ERRORS},
    summary="Rename a tag",
    operation_id="tag_update",
)
def tag_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    entity_type: EntityType,
    tag_id: UUID,
    payload: TagUpdate,
):
    member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_TAGS)
    tag = _tag(project_id, tag_id, entity_type)
    sent = payload.model_dump(exclude_unset=True)
    if "parent_id" in sent and sent["parent_id"] != tag.parent_id:
        raise Invalid("A tag's parent cannot change.", field="parent_id")
    if payload.name is not None:
        services.tag_rename(tag=tag, name=payload.name)
    _tags, children, tagged = _forest(project_id, entity_type)
    return _tree_out(tag, children, tagged)


@router.delete(
    PROJECT + "/tags/{tag_id}",
    response={204: None, **ERRORS},
    summary="Delete a tag and its descendants",
    operation_id="tag_delete",
)
def tag_delete(request: HttpRequest, org_id: UUID, project_id: UUID, tag_id: UUID):
    member_access(request, org_id, project_id, Perm.PROJECT_MANAGE_TAGS)
    services.tag_delete(tag=_tag(project_id, tag_id))
    return HttpResponse(status=204)
