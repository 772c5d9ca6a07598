"""Per-credential and per-project rate limits on the JSON API.

Every request made with a credential (API key, OAuth client, a task's access
token) counts against that credential's requests per minute and then its
project's; every run counts against the runs per minute of both as well. The
credential is the unit: an OAuth client's tokens share one count, since the
client can mint as many tokens as it likes. A request the credential's own
limit refuses is not counted against the project, so one busy key cannot use
up its neighbours' share by being refused.

Defaults come from the RB_API_* (credential) and RB_PROJECT_* (project)
settings; an ApiKey or a Project with its own value overrides them. The
counters are fixed one-minute windows in the cache (rightbrain/limits.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.conf import settings

from rightbrain.errors import TooManyRequests
from rightbrain.limits import window_refusal

_CREDENTIAL_NAMES = {
    "api_key": "This API key",
    "oauth_client": "This OAuth client",
    "task_token": "This task's access token",
}


@dataclass(frozen=True)
class RateLimits:
    """One credential's ceilings and its project's; None means the setting."""

    kind: str  # a key of _CREDENTIAL_NAMES
    credential_id: UUID
    project_id: UUID
    requests_per_minute: int | None = None
    runs_per_minute: int | None = None
    project_requests_per_minute: int | None = None
    project_runs_per_minute: int | None = None


def admit_request(limits: RateLimits) -> None:
    """Count one API request; TooManyRequests (429) when over a limit."""
    _admit(
        limits,
        "requests",
        own=_or_default(limits.requests_per_minute, "RB_API_REQUESTS_PER_MINUTE"),
        project=_or_default(
            limits.project_requests_per_minute, "RB_PROJECT_REQUESTS_PER_MINUTE"
        ),
    )


def admit_run(limits: RateLimits) -> None:
    """Count one run (synchronous or queued); TooManyRequests when over."""
    _admit(
        limits,
        "runs",
        own=_or_default(limits.runs_per_minute, "RB_API_RUNS_PER_MINUTE"),
        project=_or_default(
            limits.project_runs_per_minute, "RB_PROJECT_RUNS_PER_MINUTE"
        ),
    )


def _or_default(value: int | None, setting: str) -> int:
    return getattr(settings, setting) if value is None else value


def _per_minute(count: int, what: str) -> str:
    return f"{count} {what if count != 1 else what.removesuffix('s')} a minute"


def _admit(limits: RateLimits, what: str, *, own: int, project: int) -> None:
    retry_after = window_refusal(
        f"{limits.kind}:{limits.credential_id}:{what}", limit=own
    )
    if retry_after is not None:
        who = _CREDENTIAL_NAMES[limits.kind]
        raise TooManyRequests(
            f"{who} may make {_per_minute(own, what)}; try again in "
            f"{retry_after} seconds.",
            retry_after=retry_after,
        )
    retry_after = window_refusal(f"project:{limits.project_id}:{what}", limit=project)
    if retry_after is not None:
        raise TooManyRequests(
            f"This project may make {_per_minute(project, what)} across all of its "
            f"credentials; try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
