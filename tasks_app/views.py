from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rightbrain.orgs.access import project_for_user


@require_GET
@login_required
def project_home(request: HttpRequest, project_id: UUID) -> HttpResponse:
    """The project's task list: the dashboard's home page."""
    access = project_for_user(request, project_id)
    return render(request, "tasks_app/project_home.html", {"access": access, "nav": "tasks"})
