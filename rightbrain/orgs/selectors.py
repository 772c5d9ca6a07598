"""Reads of organisations and projects, always scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery

from rightbrain.orgs.models import Invitation, Membership, Organization, Project, User
from rightbrain.orgs.tokens import hash_token


@dataclass(frozen=True)
class ProjectAccess:
    """A project as one person sees it: the project, its organisation, their role."""

    project: Project
    organization: Organization
    role: str


def membership_for(*, user: User, organization_id: UUID) -> Membership | None:
    """The person's membership of an organisation (with the organisation), or None."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization_id=organization_id)
        .first()
    )


def project_access_for(*, user: User, project_id: UUID) -> ProjectAccess | None:
    """The project and the person's role in its organisation, in one query.

    None when the project does not exist or the person is not a member: callers
    answer both with 404, so outsiders cannot tell which it was.
    """
    if not user.is_authenticated:
        return None
    role = Membership.objects.filter(
        organization=OuterRef("organization_id"), user=user
    ).values("role")[:1]
    project = (
        Project.objects.select_related("organization")
        .annotate(member_role=Subquery(role))
        .filter(pk=project_id, member_role__isnull=False)
        .first()
    )
    if project is None:
        return None
    return ProjectAccess(
        project=project,
        organization=project.organization,
        role=project.member_role,
    )


def workspaces_for(*, user: User) -> list[Membership]:
    """The person's memberships, each with its organisation's active projects.

    Two queries whatever the number of organisations: the switcher's data.
    """
    active_projects = Prefetch(
        "organization__projects",
        queryset=Project.objects.filter(archived_at__isnull=True).order_by("name"),
        to_attr="active_projects",
    )
    return list(
        Membership.objects.filter(user=user)
        .select_related("organization")
        .prefetch_related(active_projects)
        .order_by("-organization__personal", "organization__name")
    )


def first_project_for(*, user: User) -> Project | None:
    """Where a person lands with no remembered project: their first active one."""
    return (
        Project.objects.filter(
            organization__memberships__user=user, archived_at__isnull=True
        )
        .order_by("-organization__personal", "organization__name", "created")
        .first()
    )


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def pending_invitations_of(*, organization: Organization) -> list[Invitation]:
    invitations = Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")
    return [invitation for invitation in invitations if invitation.is_pending]


def projects_of(*, organization: Organization) -> QuerySet[Project]:
    """Active projects first, then archived ones."""
    return Project.objects.filter(organization=organization).order_by(
        F("archived_at").asc(nulls_first=True), "name"
    )


def invitation_for_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
