"""What the public sees of a share link (api.md §13): built in one place for
the JSON view and the HTML page, so both show the same fields and leave out
the same secrets.

Only fields named here leave the server. The task's access token, its
forwarder (destination and signing key), model credentials and any run other
than the example and the visitor's own never appear; a failed run's provider
message is replaced by a plain sentence, since it may name internal hosts.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from runs_app import file_serving
from runs_app.models import RunFile, TaskRun
from sharing.models import TaskShare
from tasks_app.api.tags import tag_out

RUN_FAILED = "The task could not produce an answer this time. Please try again later."


def file_out(share: TaskShare, file: RunFile) -> dict[str, Any]:
    return {
        "original_filename": file.original_filename,
        "stored_filename": file.stored_filename,
        "content_type": file.content_type,
        "download_url": file_serving.download_url(
            file,
            reverse(
                "share_file",
                args=[share.short_id, file.task_run_id, file.stored_filename],
            ),
        ),
        "size_bytes": file.size_bytes,
    }


def public_response(run: TaskRun) -> Any:
    return {"error": RUN_FAILED} if run.is_error else run.response


def example_run_out(share: TaskShare) -> dict[str, Any] | None:
    run = share.task_run
    if run is None:
        return None
    listed = getattr(run, "listed_files", None)
    run_files = list(run.files.all()) if listed is None else listed
    if not share.show_output:
        run_files = [f for f in run_files if f.direction == RunFile.Direction.INPUT]
    return {
        "run_data": {"submitted": (run.run_data or {}).get("submitted") or {}},
        "response": public_response(run) if share.show_output else None,
        "files": [file_out(share, file) for file in run_files],
    }


def public_share_out(share: TaskShare) -> dict[str, Any]:
    """PublicTaskShare (api.md §13.1)."""
    task = share.task
    revision = share.task_revision
    tags = getattr(task, "task_tags", None)
    return {
        "short_id": share.short_id,
        "title": share.title or None,
        "description": share.description or None,
        "task_name": task.name,
        "task_description": task.description or None,
        "output_modality": task.output_modality,
        "input_params": list(revision.input_params),
        "image_required": revision.image_required,
        "system_prompt": revision.system_prompt,
        "user_prompt": revision.user_prompt,
        "output_format": revision.output_format,
        "llm_model": {
            "alias": revision.llm_model.alias,
            "provider": revision.llm_model.provider,
        },
        "allow_inputs": share.allow_inputs,
        "show_output": share.show_output,
        "expires_at": share.expires_at,
        "tags": [
            tag_out(tag)
            for tag in (task.tags.order_by("name") if tags is None else tags)
        ],
        "views_count": share.views_count,
        "created": share.created,
        "example_run": example_run_out(share),
        "is_shared": True,
        "read_only": True,
    }


def public_run_out(share: TaskShare, run: TaskRun) -> dict[str, Any]:
    """The TaskRun subset a share run answers with (api.md §13.2)."""
    return {
        "id": run.pk,
        "response": public_response(run),
        "files": [file_out(share, file) for file in run.files.all()],
        "created": run.created,
        "is_error": run.is_error,
    }
