"""Permission helpers for views: resolve the object, then ask the matrix.

Outsiders get 404 (they cannot tell a missing object from one they may not see);
members whose role lacks the permission get 403.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rightbrain.http import AuthedRequest
from rightbrain.orgs.models import Membership
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import ProjectAccess, membership_for, project_access_for

CURRENT_PROJECT_SESSION_KEY = "current_project_id"


def project_for_user(
    request: AuthedRequest, project_id: UUID, perm: Perm = Perm.PROJECT_VIEW
) -> ProjectAccess:
    """The active project `project_id` if the user may `perm` it.

    Opening a project makes it the one the dashboard returns to.
    """
    access = project_access_for(user=request.user, project_id=project_id)
    if access is None or access.project.is_archived:
        raise Http404("No such project.")
    if not role_allows(access.role, perm):
        raise PermissionDenied
    if request.session.get(CURRENT_PROJECT_SESSION_KEY) != str(project_id):
        request.session[CURRENT_PROJECT_SESSION_KEY] = str(project_id)
    return access


def organization_for_user(
    request: AuthedRequest, organization_id: UUID, perm: Perm = Perm.ORG_VIEW
) -> Membership:
    """The user's membership of the organisation (organisation preloaded)."""
    membership = membership_for(user=request.user, organization_id=organization_id)
    if membership is None:
        raise Http404("No such organisation.")
    if not role_allows(membership.role, perm):
        raise PermissionDenied
    return membership
