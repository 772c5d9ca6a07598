"""API shapes (api.md §2, §3): field names exactly as the spec writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from rightbrain.api_common import PaginationDetails

OutputModality = Literal["json", "image", "audio", "pdf", "text", "csv"]
RunVisibility = Literal["owner_only", "editors_and_owners", "all_viewers"]


class LLMModelCommentOut(Schema):
    id: UUID
    llm_model_id: UUID
    title: str
    description: str
    active: bool = True
    created: datetime
    modified: datetime | None = None


class LLMModelOut(Schema):
    id: UUID
    provider: str
    vendor: str
    name: str
    alias: str
    description: str
    supports_vision: bool
    supports_image_output: bool = False
    max_context_window: int
    model_params: dict[str, Any] | None = None
    created: datetime
    modified: datetime | None = None
    replaced_by: UUID | None = None
    retired: datetime | None = None
    llm_model_comments: list[LLMModelCommentOut] = []


class TagOut(Schema):
    id: UUID
    name: str
    entity_type: Literal["task", "task_revision"]
    parent_id: UUID | None = None
    project_id: UUID
    created_at: datetime
    is_project_tag: bool
    is_global_tag: bool = False
    children: list[TagOut] = []
    tagged_entities: list[UUID] = []


class TaskInputProcessor(Schema):
    param_name: str
    input_processor: str
    config: dict[str, Any] | None = None


class RagConfig(Schema):
    collection_id: UUID
    rag_param: str


class TaskRevisionOut(Schema):
    id: UUID
    system_prompt: str
    user_prompt: str
    llm_model_id: UUID
    llm_model: LLMModelOut
    llm_config: dict[str, Any] = {}
    fallback_llm_model_id: UUID | None = None
    fallback_llm_model: LLMModelOut | None = None
    fallback_llm_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | None = None
    task_forwarder_id: UUID | None = None
    rag: dict[str, Any] | None = None
    image_required: bool = False
    optimise_images: bool = True
    test: bool = False
    input_processors: list[TaskInputProcessor] = []
    annotation: str | None = None
    input_params: list[str]
    active: bool = False
    tags: list[TagOut] = []
    created: datetime
    modified: datetime | None


class TaskActiveRevision(Schema):
    task_revision_id: UUID
    weight: float | None = Field(default=1.0, ge=0, le=1)


class TaskOut(Schema):
    id: UUID
    project_id: UUID
    name: str
    description: str | None = None
    enabled: bool
    public: bool = False
    exposed_to_agents: bool = False
    output_modality: OutputModality = "json"
    task_run_visibility: RunVisibility = "owner_only"
    created: datetime
    modified: datetime | None = None
    deleted: datetime | None = None
    revisions: list[TaskRevisionOut] = []
    access_token: str | None
    active_revisions: list[TaskActiveRevision]
    cloned_from_task_revision_id: UUID | None = None
    tags: list[TagOut] = []
    mcp_enabled: bool = False


class PaginationInfo(Schema):
    has_next: bool
    next_cursor: UUID | None = None
    page_limit: int
    total_count: int | None = None


class PaginatedTaskResultSet(Schema):
    results: list[TaskOut]
    pagination: PaginationInfo


class InputParamIn(Schema):
    """Lenient: the seeds' examples send variables with descriptions."""

    name: str
    description: str | None = None


class TaskCreate(Schema):
    name: str
    enabled: bool
    system_prompt: str
    user_prompt: str
    llm_model_id: UUID
    llm_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | list[dict[str, Any]] | None = None
    output_modality: OutputModality = "json"
    description: str | None = None
    public: bool = False
    exposed_to_agents: bool = False
    task_run_visibility: RunVisibility = "owner_only"
    task_forwarder_id: UUID | None = None
    rag: dict[str, Any] | None = None
    image_required: bool = False
    optimise_images: bool = True
    test: bool = False
    input_processors: list[dict[str, Any]] | None = None
    annotation: str | None = None
    fallback_llm_model_id: UUID | None = None
    fallback_llm_config: dict[str, Any] | None = None
    mcp_enabled: bool = False
    input_params: list[InputParamIn | str] | None = None


class TaskUpdate(Schema):
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    exposed_to_agents: bool | None = None
    task_run_visibility: RunVisibility | None = None
    public: bool | None = None
    output_modality: OutputModality | None = None
    mcp_enabled: bool | None = None
    system_prompt: str | None = None
    user_prompt: str | None = None
    llm_model_id: UUID | None = None
    llm_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | list[dict[str, Any]] | None = None
    task_forwarder_id: UUID | None = None
    rag: dict[str, Any] | None = None
    image_required: bool | None = None
    annotation: str | None = None
    test: bool | None = None
    input_processors: list[dict[str, Any]] | None = None
    optimise_images: bool | None = None
    fallback_llm_model_id: UUID | None = None
    fallback_llm_config: dict[str, Any] | None = None
    active_revisions: list[TaskActiveRevision] | None = None
    tags: list[UUID] | None = None
    revision_tags: list[UUID] | None = None
    input_params: list[InputParamIn | str] | None = None


class InputProcessorOut(Schema):
    name: str
    label: str
    description: str
    config_schema: dict[str, Any]
    accepts_files: bool


class MalformedResourceIdentifierError(Schema):
    field: str
    value: Any
    expected_format: str


class MalformedResourceIdentifierErrorResponse(Schema):
    message: str
    reason: Literal["MALFORMED_RESOURCE_IDENTIFIER"]
    malformedResourceIdentifierError: MalformedResourceIdentifierError  # noqa: N815


class PaginatedTagResultSet(Schema):
    results: list[TagOut]
    pagination: PaginationDetails | None


class TagCreate(Schema):
    name: str
    entity_type: Literal["task", "task_revision"]
    parent_id: UUID | None = None


class TagUpdate(Schema):
    name: str | None = None
    parent_id: UUID | None = None
