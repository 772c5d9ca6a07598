"""Every write to tasks, revisions, traffic, tags and task members.

Callers check permissions first. These functions enforce the domain's invariants:
a live task always has active revisions whose weights sum to 1, no test revision
is ever active, revisions are never edited, `input_params` always matches the
prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rightbrain.errors import DomainError, Invalid, NotFound
from rightbrain.orgs.models import AuditEvent, Membership, Project, User
from rightbrain.orgs.permissions import TaskRole
from rightbrain.orgs.services import audit_record
from rightbrain.orgs.tokens import encrypt_secret, hash_token, new_token
from rightbrain.outbound import BlockedURL, checked_url
from tasks_app.input_processors import processor_named
from tasks_app.limits import (
    DESCRIPTION_MAX_CHARS,
    PROMPT_MAX_CHARS,
    TASK_NAME_MAX_CHARS,
    too_long,
)
from tasks_app.models import (
    ActiveRevision,
    LLMModel,
    Tag,
    Task,
    TaskForwarder,
    TaskMember,
    TaskRevision,
)
from tasks_app.output_format import OutputFormatError, normalise_output_format
from tasks_app.variables import detect_variables

TASK_NAME = re.compile(r"^[a-zA-Z0-9\- ]+$")
WEIGHT_TOLERANCE = Decimal("0.000001")

# The fields that make up a revision; any of them in an update makes a new one.
REVISION_FIELDS = (
    "system_prompt",
    "user_prompt",
    "llm_model_id",
    "llm_config",
    "fallback_llm_model_id",
    "fallback_llm_config",
    "output_format",
    "task_forwarder_id",
    "rag",
    "image_required",
    "optimise_images",
    "input_processors",
    "annotation",
    "test",
    "input_param_descriptions",
)
TASK_FIELDS = (
    "name",
    "description",
    "enabled",
    "public",
    "exposed_to_agents",
    "mcp_enabled",
    "output_modality",
    "task_run_visibility",
)


def _audit_task(
    task: Task,
    *,
    actor: User | None,
    action: str,
    details: Mapping[str, Any] | None = None,
    organization_id: UUID | None = None,
) -> None:
    audit_record(
        organization_id=organization_id or task.project.organization_id,
        actor=actor,
        action=action,
        target_type="task",
        target_id=task.pk,
        target_label=task.name,
        details={"project_id": str(task.project_id), **(details or {})},
    )


@dataclass
class RevisionSpec:
    """A revision's configuration, before validation."""

    user_prompt: str
    llm_model_id: UUID
    system_prompt: str = ""
    llm_config: dict[str, Any] = field(default_factory=dict)
    fallback_llm_model_id: UUID | None = None
    fallback_llm_config: dict[str, Any] | None = None
    output_format: Any = None
    task_forwarder_id: UUID | None = None
    rag: dict[str, Any] | None = None
    image_required: bool = False
    optimise_images: bool = True
    input_processors: list[dict[str, Any]] = field(default_factory=list)
    annotation: str | None = None
    test: bool = False
    input_param_descriptions: dict[str, str] = field(default_factory=dict)


def validate_task_name(name: str) -> str:
    if not name or len(name) > TASK_NAME_MAX_CHARS:
        raise Invalid(
            f"A task name has 1 to {TASK_NAME_MAX_CHARS} characters.", field="name"
        )
    if not TASK_NAME.match(name):
        raise Invalid(
            "A task name may contain only letters, digits, spaces and hyphens.",
            field="name",
        )
    return name


def new_access_token() -> tuple[str, str, str]:
    """(token, encrypted, digest) for a task's own bearer token."""
    token = new_token("rbt_")
    return token, encrypt_secret(token), hash_token(token)


def _model(model_id: UUID, *, field_name: str, missing: type[DomainError]) -> LLMModel:
    model = LLMModel.objects.filter(pk=model_id, enabled=True).first()
    if model is None:
        raise missing(f"There is no model with id {model_id}.", field=field_name)
    if model.is_retired:
        hint = f" Use {model.replaced_by.alias} instead." if model.replaced_by else ""
        raise Invalid(f"{model.alias} is retired.{hint}", field=field_name)
    return model


def _validate_llm_config(
    config: Any, model: LLMModel, *, field_name: str
) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise Invalid("Model settings must be an object.", field=field_name)
    if "temperature" in config and "top_p" in config:
        raise Invalid(
            "Set temperature or top_p, not both: they tune the same thing.",
            field=field_name,
        )
    params = model.model_params or {}
    for key, value in config.items():
        if key not in params:
            allowed = ", ".join(sorted(params)) or "none"
            raise Invalid(
                f"{model.alias} has no setting “{key}” (it takes: {allowed}).",
                field=f"{field_name}.{key}",
            )
        try:
            jsonschema.validate(value, params[key])
        except jsonschema.ValidationError as error:
            raise Invalid(
                f"{key} {error.message}", field=f"{field_name}.{key}"
            ) from None
    return config


def _validate_processors(
    processors: Any, input_params: list[str]
) -> list[dict[str, Any]]:
    if not processors:
        return []
    if not isinstance(processors, list):
        raise Invalid("input_processors must be a list.", field="input_processors")
    cleaned = []
    for index, entry in enumerate(processors):
        where = f"input_processors.{index}"
        if not isinstance(entry, dict):
            raise Invalid("Each input processor is an object.", field=where)
        name = entry.get("input_processor")
        param = entry.get("param_name")
        definition = processor_named(name) if isinstance(name, str) else None
        if definition is None:
            raise Invalid(
                f"There is no input processor named {name!r}.",
                field=f"{where}.input_processor",
            )
        if param not in input_params:
            raise Invalid(
                f"{param!r} is not a variable of the user prompt "
                f"(variables: {', '.join(input_params) or 'none'}).",
                field=f"{where}.param_name",
            )
        config = entry.get("config") or {}
        try:
            jsonschema.validate(config, definition.config_schema)
        except jsonschema.ValidationError as error:
            path = ".".join(str(p) for p in error.absolute_path)
            raise Invalid(
                f"{definition.name}: {error.message}",
                field=f"{where}.config" + (f".{path}" if path else ""),
            ) from None
        context = config.get("query_context")
        if context and param not in detect_variables(context):
            raise Invalid(
                f"The augmenting text must contain {{{param}}}.",
                field=f"{where}.config.query_context",
            )
        cleaned.append(
            {"param_name": param, "input_processor": definition.name, "config": config}
        )
    return cleaned


def _validate_rag(rag: Any) -> dict[str, Any] | None:
    if rag is None:
        return None
    if (
        not isinstance(rag, dict)
        or not rag.get("collection_id")
        or not rag.get("rag_param")
    ):
        raise Invalid("rag needs both collection_id and rag_param.", field="rag")
    try:
        UUID(str(rag["collection_id"]))
    except ValueError:
        raise Invalid(
            "rag.collection_id must be a UUID.", field="rag.collection_id"
        ) from None
    return rag


def _forwarder_for_revision(
    forwarder_id: UUID | None, *, project_id: UUID
) -> TaskForwarder | None:
    """The project's forwarder. Another project's and an unknown id get the same
    answer, so the reply never tells whether someone else's forwarder exists."""
    if forwarder_id is None:
        return None
    forwarder = TaskForwarder.objects.filter(
        pk=forwarder_id, project_id=project_id
    ).first()
    if forwarder is None:
        raise Invalid(
            f"This project has no task forwarder with id {forwarder_id}.",
            field="task_forwarder_id",
        )
    return forwarder


def validate_description(description: str | None) -> None:
    """A task's, a forwarder's or a share link's description."""
    _check_length(
        description, DESCRIPTION_MAX_CHARS, what="A description", field="description"
    )


def _check_length(text: Any, limit: int, *, what: str, field: str) -> None:
    if isinstance(text, str) and too_long(text, limit):
        raise Invalid(
            f"{what} has at most {limit:,} characters; this one has {len(text):,}.",
            field=field,
        )


def _check_revision_sizes(spec: RevisionSpec) -> None:
    for text, limit, what, where in (
        (spec.system_prompt, PROMPT_MAX_CHARS, "A system prompt", "system_prompt"),
        (spec.user_prompt, PROMPT_MAX_CHARS, "A user prompt", "user_prompt"),
        (spec.annotation, DESCRIPTION_MAX_CHARS, "An annotation", "annotation"),
    ):
        _check_length(text, limit, what=what, field=where)
    for name, text in (spec.input_param_descriptions or {}).items():
        _check_length(
            text,
            DESCRIPTION_MAX_CHARS,
            what=f"The description of {name}",
            field=f"input_params.{name}",
        )


def _build_revision(
    *,
    task: Task,
    spec: RevisionSpec,
    user: User | None,
    output_modality: str,
    missing: type[DomainError],
) -> TaskRevision:
    """Validate a spec and return an unsaved revision."""
    if not spec.user_prompt or not spec.user_prompt.strip():
        raise Invalid("The user prompt cannot be empty.", field="user_prompt")
    _check_revision_sizes(spec)
    model = _model(spec.llm_model_id, field_name="llm_model_id", missing=missing)
    llm_config = _validate_llm_config(spec.llm_config, model, field_name="llm_config")
    fallback = None
    fallback_config = None
    if spec.fallback_llm_model_id is not None:
        if spec.fallback_llm_model_id == model.pk:
            raise Invalid(
                "The fallback model must differ from the primary model.",
                field="fallback_llm_model_id",
            )
        fallback = _model(
            spec.fallback_llm_model_id,
            field_name="fallback_llm_model_id",
            missing=missing,
        )
        fallback_config = _validate_llm_config(
            spec.fallback_llm_config, fallback, field_name="fallback_llm_config"
        )
    if output_modality == Task.OutputModality.IMAGE and not model.supports_image_output:
        raise Invalid(
            f"{model.alias} cannot produce images; choose an image model.",
            field="output_modality",
        )
    if spec.image_required and not model.supports_vision:
        raise Invalid(
            f"{model.alias} cannot read images; choose a vision model.",
            field="image_required",
        )
    try:
        output_format = normalise_output_format(spec.output_format)
    except OutputFormatError as error:
        where = f"output_format.{error.path}" if error.path else "output_format"
        raise Invalid(error.message, field=where) from None
    input_params = detect_variables(spec.user_prompt)
    descriptions = {
        name: text
        for name, text in (spec.input_param_descriptions or {}).items()
        if name in input_params and isinstance(text, str)
    }
    forwarder = _forwarder_for_revision(
        spec.task_forwarder_id, project_id=task.project_id
    )
    return TaskRevision(
        task=task,
        system_prompt=spec.system_prompt or "",
        user_prompt=spec.user_prompt,
        input_params=input_params,
        input_param_descriptions=descriptions,
        llm_model=model,
        llm_config=llm_config,
        fallback_llm_model=fallback,
        fallback_llm_config=fallback_config,
        output_format=output_format,
        task_forwarder=forwarder,
        rag=_validate_rag(spec.rag),
        image_required=spec.image_required,
        optimise_images=spec.optimise_images,
        test=spec.test,
        input_processors=_validate_processors(spec.input_processors, input_params),
        annotation=spec.annotation or "",
        created_by=user,
    )


@transaction.atomic
def task_create(
    *,
    project: Project,
    user: User | None,
    name: str,
    revision: RevisionSpec,
    description: str | None = None,
    enabled: bool = True,
    public: bool = False,
    exposed_to_agents: bool = False,
    mcp_enabled: bool = False,
    output_modality: str = Task.OutputModality.JSON,
    task_run_visibility: str = Task.RunVisibility.OWNER_ONLY,
    cloned_from_task_revision_id: UUID | None = None,
    skip_name_check: bool = False,
) -> Task:
    """A new task whose first revision is live with all the traffic."""
    if not skip_name_check:
        validate_task_name(name)
    validate_description(description)
    if revision.test:
        raise Invalid(
            "The first revision carries the traffic, so it cannot be a test revision.",
            field="test",
        )
    _token, encrypted, digest = new_access_token()
    task = Task(
        project=project,
        name=name,
        description=description or "",
        enabled=enabled,
        public=public,
        exposed_to_agents=exposed_to_agents,
        mcp_enabled=mcp_enabled,
        output_modality=output_modality,
        task_run_visibility=task_run_visibility,
        access_token_encrypted=encrypted,
        access_token_hash=digest,
        cloned_from_task_revision_id=cloned_from_task_revision_id,
        created_by=user,
    )
    first = _build_revision(
        task=task,
        spec=revision,
        user=user,
        output_modality=output_modality,
        missing=Invalid,
    )
    task.save()
    first.save()
    ActiveRevision.objects.create(task=task, task_revision=first, weight=Decimal(1))
    if user is not None:
        TaskMember.objects.create(
            task=task,
            subject_type=TaskMember.SubjectType.USER,
            subject_id=user.pk,
            role=TaskRole.OWNER,
        )
    details: dict[str, Any] = {"revision_id": str(first.pk)}
    if cloned_from_task_revision_id is not None:
        details["cloned_from_task_revision_id"] = str(cloned_from_task_revision_id)
    _audit_task(
        task,
        actor=user,
        action=AuditEvent.Action.TASK_CREATED,
        details=details,
        organization_id=project.organization_id,
    )
    return task


def base_revision(task: Task) -> TaskRevision:
    """The active revision with the most traffic (ties: the newest)."""
    entry = (
        ActiveRevision.objects.filter(task=task)
        .select_related("task_revision")
        .order_by("-weight", "-task_revision__created", "-task_revision_id")
        .first()
    )
    assert entry is not None, "a live task always has an active revision"
    return entry.task_revision


def _spec_from(revision: TaskRevision, changes: Mapping[str, Any]) -> RevisionSpec:
    """A spec copying every field of `revision`, overridden by `changes`;
    annotation and test are never copied."""
    values: dict[str, Any] = {
        "system_prompt": revision.system_prompt,
        "user_prompt": revision.user_prompt,
        "llm_model_id": revision.llm_model_id,
        "llm_config": revision.llm_config,
        "fallback_llm_model_id": revision.fallback_llm_model_id,
        "fallback_llm_config": revision.fallback_llm_config,
        "output_format": revision.output_format,
        "task_forwarder_id": revision.task_forwarder_id,
        "rag": revision.rag,
        "image_required": revision.image_required,
        "optimise_images": revision.optimise_images,
        "input_processors": revision.input_processors,
        "input_param_descriptions": revision.input_param_descriptions,
    }
    # Settings of one model rarely fit another: a model that really changes
    # starts clean unless its settings are given too. The same model sent
    # again keeps its settings.
    for model_key, config_key in (
        ("llm_model_id", "llm_config"),
        ("fallback_llm_model_id", "fallback_llm_config"),
    ):
        if (
            model_key in changes
            and changes[model_key] != values[model_key]
            and config_key not in changes
        ):
            values[config_key] = {} if config_key == "llm_config" else None
    values.update(changes)
    return RevisionSpec(**values)


def _configuration(revision: RevisionSpec | TaskRevision) -> dict[str, Any]:
    """What a revision runs with, normalised so that two revisions compare
    equal exactly when they would behave alike (notes and tags aside)."""
    return {
        "system_prompt": revision.system_prompt or "",
        "user_prompt": revision.user_prompt,
        "llm_model_id": revision.llm_model_id,
        "llm_config": revision.llm_config or {},
        "fallback_llm_model_id": revision.fallback_llm_model_id,
        "fallback_llm_config": (revision.fallback_llm_config or {})
        if revision.fallback_llm_model_id
        else None,
        "output_format": revision.output_format,
        "task_forwarder_id": revision.task_forwarder_id,
        "rag": revision.rag,
        "image_required": revision.image_required,
        "optimise_images": revision.optimise_images,
        "input_processors": revision.input_processors or [],
        "input_param_descriptions": revision.input_param_descriptions or {},
    }


def _unchanged(edited: RevisionSpec | TaskRevision, source: TaskRevision) -> bool:
    """Whether `edited` describes `source` again: same configuration, and
    neither a note nor a test revision asked for (those always make one)."""
    if edited.test or edited.annotation:
        return False
    return _configuration(edited) == _configuration(source)


@transaction.atomic
def revision_save(
    *,
    task: Task,
    user: User | None,
    changes: Mapping[str, Any],
    make_live: bool = False,
    source: TaskRevision | None = None,
) -> TaskRevision | None:
    """Save an edit of `source` (default: the base revision) as a new revision.

    Only the fields in `changes` differ from `source`; every other field is
    carried over as it is, including ones an editor does not show. An edit
    that describes the same configuration makes no revision and returns None
    (a note or a test revision always makes one). `make_live` sends all the
    traffic to the new revision in the same transaction, so a refused traffic
    change leaves no revision behind. The dashboard and the API both save
    edits here.
    """
    if source is None:
        source = base_revision(task)
    assert source.task_id == task.pk
    spec = _spec_from(source, changes)
    if _unchanged(spec, source):
        # Decided before validation too: resending what a revision already
        # says is no edit, even once its model has retired.
        return None
    revision = _build_revision(
        task=task,
        spec=spec,
        user=user,
        output_modality=task.output_modality,
        missing=NotFound,
    )
    if _unchanged(revision, source):
        return None
    revision.save()
    if make_live:
        active_revisions_set(task=task, entries=[(revision.pk, Decimal(1))], actor=user)
    return revision


@transaction.atomic
def task_update(
    *,
    task: Task,
    user: User | None,
    task_fields: Mapping[str, Any] | None = None,
    revision_fields: Mapping[str, Any] | None = None,
    revision_source: TaskRevision | None = None,
    make_live: bool = False,
    active_revisions: list[tuple[UUID, Decimal | None]] | None = None,
    tags: list[UUID] | None = None,
    revision_tags: list[UUID] | None = None,
) -> tuple[Task, TaskRevision | None]:
    """Update a task; revision fields that change the configuration of
    `revision_source` (default: the base revision) make a new revision
    through `revision_save`, inactive unless `make_live`.

    Returns the task and the new revision (or None).
    """
    # The project comes along for the audit records; only the task is locked.
    task = (
        Task.objects.select_related("project")
        .select_for_update(of=("self",))
        .get(pk=task.pk)
    )
    task_fields = dict(task_fields or {})
    if "name" in task_fields:
        validate_task_name(task_fields["name"])
    if "description" in task_fields:
        validate_description(task_fields["description"])
    for key, value in task_fields.items():
        setattr(task, key, value)

    new_revision = None
    if revision_fields:
        new_revision = revision_save(
            task=task,
            user=user,
            changes=revision_fields,
            make_live=make_live,
            source=revision_source,
        )
    if new_revision is None and "output_modality" in task_fields:
        # The modality must still suit the live model.
        base = base_revision(task)
        if (
            task.output_modality == Task.OutputModality.IMAGE
            and not base.llm_model.supports_image_output
        ):
            raise Invalid(
                f"{base.llm_model.alias} cannot produce images; choose an image model.",
                field="output_modality",
            )

    if task_fields or new_revision is not None:
        edited: dict[str, Any] = {"fields": sorted(task_fields)}
        if new_revision is not None:
            edited["revision_id"] = str(new_revision.pk)
        _audit_task(
            task, actor=user, action=AuditEvent.Action.TASK_EDITED, details=edited
        )
    if active_revisions is not None:
        active_revisions_set(task=task, entries=active_revisions, actor=user)
    if tags is not None:
        task.tags.set(
            _tags(
                tags,
                project=task.project,
                entity_type=Tag.EntityType.TASK,
                field_name="tags",
            )
        )
    if revision_tags is not None:
        target = new_revision or base_revision(task)
        target.tags.set(
            _tags(
                revision_tags,
                project=task.project,
                entity_type=Tag.EntityType.TASK_REVISION,
                field_name="revision_tags",
            )
        )
        if new_revision is None:
            TaskRevision.objects.filter(pk=target.pk).update(modified=timezone.now())
    task.modified = timezone.now()
    task.save()
    return task, new_revision


# Trying edits from the Run view (dashboard.md §3) ------------------------------


def _touch(task: Task) -> None:
    """Move `modified`: cached task snapshots list the task's revisions."""
    task.modified = timezone.now()
    Task.objects.filter(pk=task.pk).update(modified=task.modified)


@transaction.atomic
def revision_create_test(
    *,
    task: Task,
    source: TaskRevision,
    user: User | None,
    changes: Mapping[str, Any],
) -> TaskRevision:
    """A test revision: `source` with `changes`, never live, for trying edits
    without touching traffic. Input processors of variables the edited prompt
    no longer has are dropped rather than refused."""
    assert source.task_id == task.pk
    changes = dict(changes)
    if "user_prompt" in changes and "input_processors" not in changes:
        variables = detect_variables(changes["user_prompt"] or "")
        changes["input_processors"] = [
            entry
            for entry in source.input_processors or []
            if entry.get("param_name") in variables
        ]
    revision = _build_revision(
        task=task,
        spec=_spec_from(source, {**changes, "test": True}),
        user=user,
        output_modality=task.output_modality,
        missing=Invalid,
    )
    revision.save()
    _touch(task)
    return revision


@transaction.atomic
def revision_promote(
    *, task: Task, revision: TaskRevision, user: User | None, annotation: str = ""
) -> TaskRevision:
    """Save a test revision as a normal one: a new, inactive revision with the
    same configuration (revisions never change, so the test one stays)."""
    assert revision.task_id == task.pk
    if not revision.test:
        raise Invalid(
            "This revision is already a normal revision.", field="task_revision_id"
        )
    promoted = _build_revision(
        task=task,
        spec=_spec_from(revision, {"annotation": annotation.strip()}),
        user=user,
        output_modality=task.output_modality,
        missing=Invalid,
    )
    promoted.save()
    _touch(task)
    _audit_task(
        task,
        actor=user,
        action=AuditEvent.Action.TASK_EDITED,
        details={"revision_id": str(promoted.pk), "promoted_from": str(revision.pk)},
    )
    return promoted


def _tags(
    ids: Iterable[UUID], *, project: Project, entity_type: str, field_name: str
) -> list[Tag]:
    ids = list(dict.fromkeys(ids))
    # Scoped in the query: another project's tag and an unknown id get the
    # same answer, so the reply never tells whether someone else's tag exists.
    found = {tag.pk: tag for tag in Tag.objects.filter(pk__in=ids, project=project)}
    for tag_id in ids:
        tag = found.get(tag_id)
        if tag is None:
            raise Invalid(
                f"This project has no tag with id {tag_id}.", field=field_name
            )
        if tag.entity_type != entity_type:
            raise Invalid(
                f"Tag {tag.name} is a {tag.get_entity_type_display().lower()} tag; "
                f"{field_name} takes {entity_type} tags.",
                field=field_name,
            )
    return [found[tag_id] for tag_id in ids]


def _weight_text(weight: Decimal) -> str:
    """A weight as the audit log shows it: 1, 0.5, 0.25 (as stored or as sent)."""
    return format(Decimal(weight).normalize(), "f")


def active_revisions_set(
    *,
    task: Task,
    entries: list[tuple[UUID, Decimal | None]],
    actor: User | None = None,
    actor_label: str = "",
) -> None:
    """Replace the traffic split. Weights sum to 1; no test revisions.

    Every change is audited with the weights before and after; `actor_label`
    names what changed them when no person did (a rollout).
    """
    if not entries:
        raise Invalid(
            "A task needs at least one active revision.", field="active_revisions"
        )
    ids = [revision_id for revision_id, _ in entries]
    if len(set(ids)) != len(ids):
        raise Invalid("A revision is listed twice.", field="active_revisions")
    if len(entries) > 1 and any(weight is None for _, weight in entries):
        raise Invalid(
            "Give every revision a weight when splitting traffic.",
            field="active_revisions",
        )
    weights = [Decimal(1) if w is None else Decimal(str(w)) for _, w in entries]
    for weight in weights:
        if weight < 0 or weight > 1:
            raise Invalid("Weights lie between 0 and 1.", field="active_revisions")
    total = sum(weights, Decimal(0))
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise Invalid(
            f"Weights must add up to 1 (these add up to {total.normalize()}).",
            field="active_revisions",
        )
    # Scoped in the query: another task's revision and an unknown id get the
    # same answer, so the reply never tells whether someone else's exists.
    revisions = {
        revision.pk: revision
        for revision in TaskRevision.objects.filter(pk__in=ids, task=task)
    }
    for revision_id in ids:
        revision = revisions.get(revision_id)
        if revision is None:
            raise Invalid(
                f"This task has no revision with id {revision_id}.",
                field="active_revisions",
            )
        if revision.test:
            raise Invalid(
                "Test revisions never receive traffic.", field="active_revisions"
            )
    before = {
        str(revision_id): _weight_text(weight)
        for revision_id, weight in ActiveRevision.objects.filter(task=task)
        .order_by("-weight", "task_revision_id")
        .values_list("task_revision_id", "weight")
    }
    after = {
        str(revision_id): _weight_text(weight)
        for revision_id, weight in zip(ids, weights, strict=True)
    }
    ActiveRevision.objects.filter(task=task).delete()
    ActiveRevision.objects.bulk_create(
        ActiveRevision(task=task, task_revision_id=revision_id, weight=weight)
        for revision_id, weight in zip(ids, weights, strict=True)
    )
    if before != after:
        audit_record(
            organization_id=task.project.organization_id,
            actor=actor,
            actor_label=actor_label,
            action=AuditEvent.Action.TASK_TRAFFIC_CHANGED,
            target_type="task",
            target_id=task.pk,
            target_label=task.name,
            details={"project_id": str(task.project_id), "from": before, "to": after},
        )


# Hooks the apps above register to clean up what they own when a task goes
# (runs_app: stored run files). Called inside the deleting transaction.
_task_delete_hooks: list = []


def on_task_delete(hook) -> None:
    _task_delete_hooks.append(hook)


@transaction.atomic
def task_delete(*, task: Task, actor: User | None = None) -> None:
    """Remove the task and everything hanging off it, for good."""
    for hook in _task_delete_hooks:
        hook(task)
    _audit_task(task, actor=actor, action=AuditEvent.Action.TASK_DELETED)
    task.delete()


def task_grants_drop(*, membership: Membership) -> dict[str, int]:
    """Drop a person's direct grants on the organisation's tasks when their
    membership ends (registered with orgs in TasksAppConfig.ready()).

    Grants already count only while their holder is a member
    (permissions.subject_keys); dropping the rows as well keeps every task's
    members list truthful and means a person invited back starts from their
    organisation role, not from stale grants.
    """
    dropped, _ = TaskMember.objects.filter(
        subject_type=TaskMember.SubjectType.USER,
        subject_id=membership.user_id,
        task__project__organization_id=membership.organization_id,
    ).delete()
    return {"task_grants_dropped": dropped}


# "Last run" is shown to the minute; a busy task need not be written every run.
_LAST_RUN_PRECISION = timedelta(minutes=1)


def task_mark_run(*, task: Task, at) -> None:
    """Stamp the task's last run so the task list shows it without a join."""
    if task.last_run_at is not None and at - task.last_run_at < _LAST_RUN_PRECISION:
        return
    Task.objects.filter(pk=task.pk).update(last_run_at=at)
    task.last_run_at = at


def task_access_token_rotate(*, task: Task) -> str:
    token, encrypted, digest = new_access_token()
    task.access_token_encrypted = encrypted
    task.access_token_hash = digest
    task.save(update_fields=["access_token_encrypted", "access_token_hash"])
    return token


# Tags --------------------------------------------------------------------------

TAG_NAME = re.compile(r"^[A-Za-z0-9]{1,15}$")


def _validate_tag_name(name: str) -> str:
    if not isinstance(name, str) or not TAG_NAME.match(name):
        raise Invalid(
            "A tag name has 1 to 15 letters or digits (no spaces or punctuation).",
            field="name",
        )
    return name


def _ensure_unique_sibling(
    *,
    project: Project,
    entity_type: str,
    parent_id: UUID | None,
    name: str,
    exclude=None,
) -> None:
    siblings = Tag.objects.filter(
        project=project, entity_type=entity_type, parent_id=parent_id, name=name
    )
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise Invalid(f"A sibling tag is already named {name}.", field="name")


@transaction.atomic
def tag_create(
    *, project: Project, name: str, entity_type: str, parent_id: UUID | None = None
) -> Tag:
    _validate_tag_name(name)
    if parent_id is not None:
        parent = Tag.objects.filter(pk=parent_id).first()
        if parent is None or parent.project_id != project.pk:
            raise Invalid("The parent tag is not in this project.", field="parent_id")
        if parent.entity_type != entity_type:
            raise Invalid(
                f"The parent tag is a {parent.entity_type} tag; a child must share "
                "its entity type.",
                field="parent_id",
            )
    _ensure_unique_sibling(
        project=project, entity_type=entity_type, parent_id=parent_id, name=name
    )
    return Tag.objects.create(
        project=project, name=name, entity_type=entity_type, parent_id=parent_id
    )


@transaction.atomic
def task_tag_create(*, task: Task, name: str, parent_id: UUID | None = None) -> Tag:
    """A new task tag of the task's project, put on the task at once."""
    tag = tag_create(
        project=task.project,
        name=name,
        entity_type=Tag.EntityType.TASK,
        parent_id=parent_id,
    )
    task.tags.add(tag)
    Task.objects.filter(pk=task.pk).update(modified=timezone.now())
    return tag


def tag_rename(*, tag: Tag, name: str) -> Tag:
    _validate_tag_name(name)
    _ensure_unique_sibling(
        project=tag.project,
        entity_type=tag.entity_type,
        parent_id=tag.parent_id,
        name=name,
        exclude=tag.pk,
    )
    tag.name = name
    tag.save(update_fields=["name"])
    return tag


def tag_delete(*, tag: Tag) -> None:
    """Delete the tag, its descendants and every assignment of them."""
    tag.delete()


# Task members (IAM) -------------------------------------------------------------

# Which permission touching each role needs (api.md §7.3).
_ADD_PERMISSION: dict[str, str] = {
    TaskRole.OWNER: "add_owner",
    TaskRole.EDITOR: "add_editor",
    TaskRole.VIEWER: "add_member",
}
_REMOVE_PERMISSION: dict[str, str] = {
    TaskRole.OWNER: "remove_owner",
    TaskRole.EDITOR: "remove_editor",
    TaskRole.VIEWER: "remove_member",
}


def permissions_needed(
    *, current: list[str], add: list[str], remove: list[str], remove_all: bool
) -> list[str]:
    needed: list[str] = []
    removed = set(current) if remove_all else set(remove) & set(current)
    for role in sorted(removed):
        needed.append(_REMOVE_PERMISSION[role])
    for role in add:
        if role not in current or role in removed:
            needed.append(_ADD_PERMISSION[role])
    return list(dict.fromkeys(needed))


def resulting_roles(
    *, current: list[str], add: list[str], remove: list[str], remove_all: bool
) -> list[str]:
    roles = [] if remove_all else [role for role in current if role not in remove]
    for role in add:
        if role not in roles:
            roles.append(role)
    return roles


@transaction.atomic
def task_member_set_role(
    *,
    task: Task,
    subject_type: str,
    subject_id: UUID,
    role: str | None,
    actor: User | None = None,
) -> None:
    """Give the subject exactly `role` on the task, or no direct role (None)."""
    grants = TaskMember.objects.filter(
        task=task, subject_type=subject_type, subject_id=subject_id
    )
    previous = grants.values_list("role", flat=True).first()
    if previous != role:
        _audit_task(
            task,
            actor=actor,
            action=AuditEvent.Action.TASK_GRANT_CHANGED,
            details={
                "member": f"{subject_type}:{subject_id}",
                "from": previous,
                "to": role,
            },
        )
    if role is None:
        grants.delete()
    else:
        TaskMember.objects.update_or_create(
            task=task,
            subject_type=subject_type,
            subject_id=subject_id,
            defaults={"role": role},
        )
    Task.objects.filter(pk=task.pk).update(modified=timezone.now())


# Task forwarders ----------------------------------------------------------------

MAX_URL_LENGTH = 2048


def _validate_forwarder_name(name: str) -> str:
    if not name.strip() or len(name) > 255:
        raise Invalid("A forwarder name has 1 to 255 characters.", field="name")
    return name


def _validate_forwarder_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Only `destination_url` is known: an address we may POST runs to."""
    where = "config.destination_url"
    url = config.get("destination_url")
    if not isinstance(url, str) or not url.strip():
        raise Invalid(
            "A forwarder needs config.destination_url, the address runs are POSTed to.",
            field=where,
        )
    if len(url) > MAX_URL_LENGTH:
        raise Invalid(
            f"A destination URL has at most {MAX_URL_LENGTH} characters.", field=where
        )
    # Runs carry users' inputs and outputs: plain http only where private
    # addresses are allowed too (tests, fully local set-ups).
    if not url.lower().startswith("https://") and not settings.RB_ALLOW_PRIVATE_URLS:
        raise Invalid("The destination must be an https URL.", field=where)
    try:
        checked_url(url)
    except BlockedURL as error:
        raise Invalid(str(error), field=where) from None
    except ValueError:
        raise Invalid("This is not a valid URL.", field=where) from None
    return {"destination_url": url}


def _encrypted_sensitive_config(sensitive: Mapping[str, Any]) -> str:
    key = sensitive.get("signing_key")
    if key is not None and (not isinstance(key, str) or not key):
        raise Invalid(
            "signing_key must be a non-empty string.",
            field="config_sensitive.signing_key",
        )
    return encrypt_secret(json.dumps(dict(sensitive))) if sensitive else ""


def task_forwarder_create(
    *,
    project: Project,
    name: str,
    config: Mapping[str, Any],
    description: str | None = None,
    config_sensitive: Mapping[str, Any] | None = None,
) -> TaskForwarder:
    validate_description(description)
    return TaskForwarder.objects.create(
        project=project,
        name=_validate_forwarder_name(name),
        description=description or "",
        config=_validate_forwarder_config(config),
        config_sensitive_encrypted=_encrypted_sensitive_config(config_sensitive or {}),
    )


def task_forwarder_update(
    *,
    forwarder: TaskForwarder,
    name: str | None = None,
    description: str | None = None,
    config: Mapping[str, Any] | None = None,
    config_sensitive: Mapping[str, Any] | None = None,
) -> TaskForwarder:
    """None leaves a field as it is. `config_sensitive` replaces the stored
    secrets (`{}` removes them); later deliveries sign with the new key."""
    validate_description(description)
    if name is not None:
        forwarder.name = _validate_forwarder_name(name)
    if description is not None:
        forwarder.description = description
    if config is not None:
        forwarder.config = _validate_forwarder_config(config)
    if config_sensitive is not None:
        forwarder.config_sensitive_encrypted = _encrypted_sensitive_config(
            config_sensitive
        )
    forwarder.modified = timezone.now()
    forwarder.save()
    return forwarder


@transaction.atomic
def task_forwarder_delete(*, forwarder: TaskForwarder) -> None:
    """Delete a forwarder no revision names. Revisions never change, so one in
    use stays until the tasks whose revisions name it are deleted."""
    using = Task.objects.filter(revisions__task_forwarder=forwarder).distinct().count()
    if using:
        raise Invalid(
            f"Revisions of {using} task{'s' if using != 1 else ''} forward to "
            "this forwarder, and revisions never change: it can be deleted once "
            "those tasks are."
        )
    forwarder.delete()
