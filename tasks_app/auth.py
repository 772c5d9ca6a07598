"""A task's own access token as an API credential: runs of that task only."""

from __future__ import annotations

from rightbrain.orgs.auth import Principal
from rightbrain.orgs.limits import RateLimits
from rightbrain.orgs.tokens import hash_token
from tasks_app.models import Task


def task_token_principal(token: str) -> Principal | None:
    if not token.startswith("rbt_"):
        return None
    task = (
        Task.objects.filter(access_token_hash=hash_token(token), deleted__isnull=True)
        .values(
            "pk",
            "project_id",
            "project__requests_per_minute",
            "project__runs_per_minute",
        )
        .first()
    )
    if task is None:
        return None
    return Principal(
        user=None,
        project_id=task["project_id"],
        task_id=task["pk"],
        credential="task_token",
        limits=RateLimits(
            kind="task_token",
            credential_id=task["pk"],
            project_id=task["project_id"],
            project_requests_per_minute=task["project__requests_per_minute"],
            project_runs_per_minute=task["project__runs_per_minute"],
        ),
    )
