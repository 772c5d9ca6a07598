from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from rightbrain.orgs.access import CURRENT_PROJECT_SESSION_KEY
from rightbrain.orgs.models import Membership, Project, User
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import workspaces_for


@dataclass
class Workspace:
    """What the dashboard chrome shows: the switcher and the current project."""

    user: User
    current_project_id: str | None

    @cached_property
    def memberships(self) -> list[Membership]:
        return workspaces_for(user=self.user)

    @cached_property
    def _current(self) -> tuple[Membership | None, Project | None]:
        first: tuple[Membership | None, Project | None] = (None, None)
        for membership in self.memberships:
            for project in membership.organization.active_projects:  # type: ignore[attr-defined]
                if str(project.pk) == self.current_project_id:
                    return membership, project
                if first[1] is None:
                    first = (membership, project)
        return first

    @property
    def membership(self) -> Membership | None:
        return self._current[0]

    @property
    def project(self) -> Project | None:
        return self._current[1]

    @property
    def can_manage_members(self) -> bool:
        return self.membership is not None and role_allows(
            self.membership.role, Perm.ORG_MANAGE_MEMBERS
        )

    @property
    def can_manage_projects(self) -> bool:
        return self.membership is not None and role_allows(
            self.membership.role, Perm.ORG_MANAGE_PROJECTS
        )


def workspace(request: HttpRequest) -> dict:
    """The chrome's data, queried only if the page shows it (two queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = request.session.get(CURRENT_PROJECT_SESSION_KEY)
    return {"workspace": SimpleLazyObject(lambda: Workspace(user, current))}
