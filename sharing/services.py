"""Every write of the sharing app: share links, their counters, share runs and
clones (api.md §9, §13; domain.md §11).

Callers check permissions first. The counters are never read, changed and
saved back: `views_count` grows by an UPDATE that adds in the database, and a
use is taken by a conditional UPDATE that succeeds only while the link is
usable and has a use left, so when many visitors race for the last use exactly
one of them gets it.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from rightbrain.errors import BudgetExhausted, Forbidden, Invalid, TooLarge
from rightbrain.orgs.models import AuditEvent, Project, User
from rightbrain.orgs.services import audit_record
from runs_app import files
from runs_app.models import RunFile, TaskRun
from runs_app.outputs import FILE_MODALITIES
from runs_app.services import (
    revision_for_run,
    run_execute,
    run_submit,
)
from sharing.models import ShareRun, TaskShare
from sharing.selectors import share_stored_bytes
from tasks_app.models import Task, TaskRevision
from tasks_app.services import (
    RevisionSpec,
    base_revision,
    task_create,
    validate_description,
)

CUSTOM_SHORT_ID = re.compile(r"^[A-Za-z0-9]{3,5}$")
GENERATED_LENGTH = 8
_ALPHABET = string.ascii_letters + string.digits
# Far below what a visitor could want, far above a sane link.
MAX_EXPIRY_HOURS = 24 * 365 * 10


class ShareUnavailable(Forbidden):
    """The link exists but cannot be viewed, run or cloned now (403)."""


def _generated_short_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def _checked_custom_short_id(value: str) -> str:
    if not CUSTOM_SHORT_ID.match(value):
        raise Invalid(
            "A custom short id has 3 to 5 letters or digits (no dashes, spaces or "
            "other characters).",
            field="custom_short_id",
        )
    if TaskShare.objects.filter(short_id__iexact=value).exists():
        raise Invalid(
            f"The short id “{value}” is taken; choose another or leave it empty "
            "for a generated one.",
            field="custom_short_id",
        )
    return value


def _expiry(
    expires_at: datetime | None, expires_in_hours: int | None, now: datetime
) -> datetime | None:
    if expires_at is not None and expires_in_hours is not None:
        raise Invalid(
            "Give expires_at or expires_in_hours, not both.", field="expires_in_hours"
        )
    if expires_in_hours is not None:
        if not 1 <= expires_in_hours <= MAX_EXPIRY_HOURS:
            raise Invalid(
                f"expires_in_hours lies between 1 and {MAX_EXPIRY_HOURS}.",
                field="expires_in_hours",
            )
        return now + timedelta(hours=expires_in_hours)
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at, UTC)
        if expires_at <= now:
            raise Invalid("The expiry must be in the future.", field="expires_at")
    return expires_at


def shareable_problem(revision: TaskRevision) -> str | None:
    """Why this revision cannot be shared, or None (domain.md §11.1)."""
    if revision.rag:
        return (
            "It answers from a RAG collection, and collections belong to their "
            "project, so it cannot be shared."
        )
    if revision.test:
        return "It is a test revision; share a revision that can carry traffic."
    return None


def _shared_revision(task: Task, revision_id: UUID | None) -> TaskRevision:
    if revision_id is None:
        revision = base_revision(task)
    else:
        found = TaskRevision.objects.filter(pk=revision_id, task=task).first()
        if found is None:
            raise Invalid(
                "This task has no revision with that id.", field="task_revision_id"
            )
        revision = found
    problem = shareable_problem(revision)
    if problem:
        raise Invalid(
            f"This revision cannot be shared. {problem}", field="task_revision_id"
        )
    return revision


def _example_run(revision: TaskRevision, run_id: UUID | None) -> TaskRun | None:
    if run_id is None:
        return None
    run = TaskRun.objects.filter(pk=run_id, task_id=revision.task_id).first()
    if run is None or run.task_revision_id != revision.pk:
        raise Invalid(
            "The example run must be a run of the shared revision.",
            field="task_run_id",
        )
    return run


def _audit_share(share: TaskShare, *, actor: User | None, action: str) -> None:
    task = share.task
    audit_record(
        organization_id=task.project.organization_id,
        actor=actor,
        action=action,
        target_type="share",
        target_id=share.pk,
        target_label=f"/s/{share.short_id}",
        details={
            "task_id": str(task.pk),
            "task": task.name,
            "task_revision_id": str(share.task_revision_id),
            "project_id": str(task.project_id),
        },
    )


@transaction.atomic
def share_create(
    *,
    task: Task,
    user: User | None,
    title: str | None = None,
    description: str | None = None,
    task_revision_id: UUID | None = None,
    task_run_id: UUID | None = None,
    custom_short_id: str | None = None,
    expires_at: datetime | None = None,
    expires_in_hours: int | None = None,
    max_uses: int | None = None,
    allow_inputs: bool = False,
    show_output: bool = True,
) -> TaskShare:
    """A new active share link of one revision of `task` (api.md §9.1)."""
    now = timezone.now()
    if max_uses is not None and max_uses < 1:
        raise Invalid(
            "max_uses is at least 1; leave it empty for unlimited uses.",
            field="max_uses",
        )
    if title and len(title) > 200:
        raise Invalid("A title has at most 200 characters.", field="title")
    validate_description(description)
    revision = _shared_revision(task, task_revision_id)
    example = _example_run(revision, task_run_id)
    expiry = _expiry(expires_at, expires_in_hours, now)
    custom = (custom_short_id or "").strip()
    share = TaskShare(
        task=task,
        task_revision=revision,
        user=user,
        title=title or "",
        description=description or "",
        expires_at=expiry,
        task_run=example,
        max_uses=max_uses,
        allow_inputs=allow_inputs,
        show_output=show_output,
        created=now,
        modified=now,
    )
    if custom:
        share.short_id = _checked_custom_short_id(custom)
        _saved(share, custom=True)
    else:
        for _attempt in range(5):
            share.short_id = _generated_short_id()
            try:
                _saved(share, custom=False)
                break
            except _ShortIdTaken:
                continue
        else:
            raise RuntimeError("Could not find a free short id in five tries.")
    _audit_share(share, actor=user, action=AuditEvent.Action.SHARE_CREATED)
    return share


class _ShortIdTaken(Exception):
    pass


def _saved(share: TaskShare, *, custom: bool) -> TaskShare:
    """Insert the share; the unique index settles a race for the same id."""
    try:
        with transaction.atomic():
            share.save(force_insert=True)
    except IntegrityError:
        if custom:
            raise Invalid(
                f"The short id “{share.short_id}” is taken; choose another.",
                field="custom_short_id",
            ) from None
        raise _ShortIdTaken from None
    return share


@transaction.atomic
def share_revoke(*, share: TaskShare, actor: User | None = None) -> TaskShare:
    """Turn the link off for good; revoking twice changes nothing."""
    now = timezone.now()
    # Conditional, so two revokes at once record one event.
    if TaskShare.objects.filter(pk=share.pk, active=True).update(
        active=False, modified=now
    ):
        share.modified = now
        _audit_share(share, actor=actor, action=AuditEvent.Action.SHARE_REVOKED)
    share.active = False
    return share


# Public use ----------------------------------------------------------------------


def share_check_usable(share: TaskShare) -> None:
    """403 unless the link may be viewed: active, unexpired, its task live."""
    task = share.task
    if not share.active:
        raise ShareUnavailable("This share link has been revoked.")
    if share.is_expired:
        raise ShareUnavailable("This share link has expired.")
    if task.deleted is not None or not task.enabled:
        raise ShareUnavailable("This task is not shared any more.")


def share_view_record(*, share: TaskShare) -> None:
    """Count one public view, adding in the database (no lost updates)."""
    TaskShare.objects.filter(pk=share.pk).update(views_count=F("views_count") + 1)
    share.views_count += 1


def _usable_now() -> Q:
    now = timezone.now()
    return (
        Q(active=True)
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & (Q(max_uses__isnull=True) | Q(use_count__lt=F("max_uses")))
    )


def share_use_take(*, share: TaskShare) -> None:
    """Take one use, or raise 403 when none is left.

    One conditional UPDATE: the row changes only if, at that instant, the link
    is usable and below `max_uses`. Concurrent callers are serialised on the
    row by the database, so exactly `max_uses` of them ever succeed.
    """
    taken = TaskShare.objects.filter(Q(pk=share.pk) & _usable_now()).update(
        use_count=F("use_count") + 1
    )
    if not taken:
        share.refresh_from_db(fields=["active", "expires_at", "use_count"])
        share_check_usable(share)
        raise ShareUnavailable(
            "This share link has been used as many times as its owner allows."
        )
    share.use_count += 1


def share_use_give_back(*, share: TaskShare) -> None:
    """Return a use taken for a run that was refused before it started."""
    TaskShare.objects.filter(pk=share.pk, use_count__gt=0).update(
        use_count=F("use_count") - 1
    )
    share.use_count = max(share.use_count - 1, 0)


def _example_uploads(run: TaskRun) -> list[files.Upload]:
    stored = RunFile.objects.filter(task_run=run, direction=RunFile.Direction.INPUT)
    uploads = []
    for file in stored:
        uploads.append(
            files.upload_from_bytes(
                file.original_filename, files.read_stored(file.storage_key)
            )
        )
    return uploads


def share_run_input(
    *,
    share: TaskShare,
    task_input: dict[str, Any] | None,
    uploads: Sequence[files.Upload],
) -> tuple[dict[str, Any], list[files.Upload]]:
    """What a share run runs on: the visitor's input when the link allows it,
    otherwise the example run's input and files, whatever was sent."""
    if not share.allow_inputs:
        example = share.task_run
        if example is None:
            raise Invalid(
                "This link runs only its example, and it has none.",
                field="task_input",
            )
        submitted = (example.run_data or {}).get("submitted") or {}
        return dict(submitted), _example_uploads(example)
    values = dict(task_input or {})
    missing = [
        name
        for name in share.task_revision.input_params
        if values.get(name) in (None, "")
    ]
    if missing:
        raise Invalid(
            "Fill in " + ", ".join(missing) + " to run this task.",
            field=f"task_input.{missing[0]}",
        )
    return values, list(uploads)


def _check_storage_quota(share: TaskShare, uploads: Sequence[files.Upload]) -> None:
    """413 when this run's files would take the link past its storage quota,
    or, once the quota is used up, when the task's runs produce files.

    Checked before the run, so runs racing each other may together pass it
    by their own files: at most RB_MAX_RUN_UPLOAD_BYTES each, few at a time
    under the per-address rate limit."""
    quota = settings.RB_SHARE_STORAGE_QUOTA_BYTES
    incoming = sum(len(upload.data) for upload in uploads)
    stores_output = share.task.output_modality in FILE_MODALITIES
    if not incoming and not stores_output:
        return
    used = share_stored_bytes(share=share)
    if used >= quota:
        raise TooLarge(
            "This link has stored as many files as it may, so it cannot run "
            "with files any more.",
            field="task_files",
        )
    if used + incoming > quota:
        raise TooLarge(
            f"These files would take this link past its storage quota; it has "
            f"room for {quota - used:,} more bytes.",
            field="task_files",
        )


def share_run_execute(
    *,
    share: TaskShare,
    task_input: dict[str, Any] | None,
    uploads: Sequence[files.Upload] = (),
    user: User | None = None,
) -> TaskRun:
    """Run the shared revision for a visitor and record it as a share run.

    Input is checked before a use is taken; a run refused after that (bad
    input the engine finds) gives the use back, so nothing is half-written.
    A run that reaches the model counts as a use even if the model fails:
    its tokens were spent.
    """
    return _share_run(
        share=share,
        task_input=task_input,
        uploads=uploads,
        user=user,
        start=run_execute,
    )


def share_run_submit(
    *,
    share: TaskShare,
    task_input: dict[str, Any] | None,
    uploads: Sequence[files.Upload] = (),
    user: User | None = None,
) -> TaskRun:
    """Queue a run of the shared revision for a visitor (the share page), as
    the dashboard queues its runs, and record it as a share run.

    The checks and the use are those of `share_run_execute`; the use is given
    back when the run is refused or the queue cannot take it. Once queued it
    counts, whatever the worker makes of it. With no broker the run is done
    by the time this returns.
    """
    return _share_run(
        share=share, task_input=task_input, uploads=uploads, user=user, start=run_submit
    )


def _share_run(
    *,
    share: TaskShare,
    task_input: dict[str, Any] | None,
    uploads: Sequence[files.Upload],
    user: User | None,
    start: Callable[..., TaskRun],
) -> TaskRun:
    """Check the visitor's run, take a use, `start` the run (run_execute or
    run_submit) and link it to the share; any refusal gives the use back."""
    share_check_usable(share)
    values, run_uploads = share_run_input(
        share=share, task_input=task_input, uploads=uploads
    )
    revision = revision_for_run(task=share.task, revision_id=share.task_revision_id)
    _check_storage_quota(share, run_uploads)
    share_use_take(share=share)
    try:
        run = start(
            task=share.task,
            revision=revision,
            task_input=values,
            user=user,
            uploads=run_uploads,
        )
    except BudgetExhausted as spent:
        share_use_give_back(share=share)
        # Visitors learn when to come back, not the owner's budget or spend.
        raise BudgetExhausted(
            "This shared task has used its monthly allowance; it runs again on "
            f"{spent.resets:%Y-%m-%d}.",
            resets=spent.resets,
        ) from None
    except BaseException:
        share_use_give_back(share=share)
        raise
    try:
        ShareRun.objects.create(share=share, task_run=run)
    except BaseException:
        # Without its link the run would not count as a share run: undo both.
        run.delete()
        share_use_give_back(share=share)
        raise
    return run


# Cloning ---------------------------------------------------------------------------


def free_task_name(*, project: Project, name: str) -> str:
    """`name`, or `name (2)`, `name (3)`… : the first not used by a live task
    of the project (domain.md §11.2)."""
    taken = set(
        Task.objects.filter(
            project=project, deleted__isnull=True, name__startswith=name
        ).values_list("name", flat=True)
    )
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def _clone_spec(revision: TaskRevision) -> RevisionSpec:
    """The shared revision's configuration without what must not travel: the
    forwarder (another project's webhook and key), RAG, annotation, test."""
    return RevisionSpec(
        system_prompt=revision.system_prompt,
        user_prompt=revision.user_prompt,
        llm_model_id=revision.llm_model_id,
        llm_config=dict(revision.llm_config or {}),
        fallback_llm_model_id=revision.fallback_llm_model_id,
        fallback_llm_config=revision.fallback_llm_config,
        output_format=revision.output_format,
        image_required=revision.image_required,
        optimise_images=revision.optimise_images,
        input_processors=list(revision.input_processors or []),
        input_param_descriptions=dict(revision.input_param_descriptions or {}),
    )


@transaction.atomic
def task_clone(*, share: TaskShare, project: Project, user: User | None) -> Task:
    """A new task in `project` made of the shared revision only (api.md §9.5).

    Takes one use of the link in the same transaction: if the copy fails, the
    use is not spent.
    """
    share_check_usable(share)
    share_use_take(share=share)
    source = share.task
    return task_create(
        project=project,
        user=user,
        name=free_task_name(project=project, name=source.name),
        skip_name_check=True,
        description=source.description,
        enabled=source.enabled,
        public=False,
        exposed_to_agents=False,
        output_modality=source.output_modality,
        task_run_visibility=source.task_run_visibility,
        cloned_from_task_revision_id=share.task_revision_id,
        revision=_clone_spec(share.task_revision),
    )
