from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user


@require_GET
@login_required
def project_home(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """The project's task list: the dashboard's home page."""
    access = project_for_user(request, project_id)
    return render(
        request, "tasks_app/project_home.html", {"access": access, "nav": "tasks"}
    )
