"""A project's rate limits and monthly credit budget over the API, with this
month's spend (runs_app/budgets.py): `GET`/`POST .../limits`.

Members read them; owners and admins change them (as for an API key's, in
rightbrain/orgs/api.py, whose body schema this shares).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from rightbrain.api_common import ERRORS, PROJECT
from rightbrain.orgs import services as orgs_services
from rightbrain.orgs.api import LimitsUpdate, limits_after, require_limit_manager
from rightbrain.orgs.models import Project
from runs_app.budgets import month_after, month_of, project_credits_in_month
from runs_app.credits import credits_shown
from tasks_app.api.common import member_access, principal_of

router = Router(tags=["budgets"])


class ProjectLimitsOut(Schema):
    requests_per_minute: int | None = Field(
        description="The project's own limit across its credentials; null: default."
    )
    runs_per_minute: int | None
    monthly_credit_budget: str | None = Field(
        description="Credits per calendar month (UTC); null: no budget."
    )
    effective_requests_per_minute: int = Field(description="0: no limit.")
    effective_runs_per_minute: int = Field(description="0: no limit.")
    credits_this_month: str = Field(
        description="Credits the project's runs have cost this month (UTC): their "
        "unrounded amounts summed, then rounded half up to two places."
    )
    month_resets: datetime = Field(description="When this month's spend restarts.")


def project_limits_out(project: Project) -> dict[str, Any]:
    def effective(own: int | None, setting: str) -> int:
        return getattr(settings, setting) if own is None else own

    month = month_of(timezone.now())
    spent = project_credits_in_month(project_id=project.pk, month=month)
    return {
        "requests_per_minute": project.requests_per_minute,
        "runs_per_minute": project.runs_per_minute,
        "monthly_credit_budget": credits_shown(project.monthly_credit_budget),
        "effective_requests_per_minute": effective(
            project.requests_per_minute, "RB_PROJECT_REQUESTS_PER_MINUTE"
        ),
        "effective_runs_per_minute": effective(
            project.runs_per_minute, "RB_PROJECT_RUNS_PER_MINUTE"
        ),
        "credits_this_month": credits_shown(spent),
        "month_resets": month_after(month),
    }


@router.get(
    PROJECT + "/limits",
    response={200: ProjectLimitsOut, **ERRORS},
    summary="The project's rate limits, monthly credit budget and this month's spend",
    operation_id="project_limits_get",
)
def project_limits_get(request: HttpRequest, org_id: UUID, project_id: UUID):
    access = member_access(request, org_id, project_id)
    return project_limits_out(access.project)


@router.post(
    PROJECT + "/limits",
    response={200: ProjectLimitsOut, **ERRORS},
    summary="Set the project's rate limits and monthly credit budget",
    operation_id="project_limits_update",
)
def project_limits_update(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: LimitsUpdate
):
    access = member_access(request, org_id, project_id)
    require_limit_manager(access, principal_of(request))
    project = orgs_services.project_limits_set(
        project=access.project, limits=limits_after(access.project, payload)
    )
    return project_limits_out(project)
