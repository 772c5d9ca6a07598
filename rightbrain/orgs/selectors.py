"""Reads of organisations and projects, always scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import F, Model, OuterRef, Prefetch, Q, QuerySet, Subquery

from rightbrain.errors import BadRequest
from rightbrain.orgs.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    Membership,
    OAuthClient,
    Organization,
    Project,
    User,
)
from rightbrain.orgs.permissions import Perm, role_allows
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


def audit_events_of(
    *, organization_id: UUID, action: str | None = None
) -> QuerySet[AuditEvent]:
    """The organisation's audit events, newest first, optionally of one action.

    The actor and target are read from the event's own text columns: listing
    needs no join, whatever has been deleted since.
    """
    events = AuditEvent.objects.filter(organization_id=organization_id)
    if action:
        events = events.filter(action=action)
    return events.order_by("-created", "-id")


def invitation_for_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


# Credentials ---------------------------------------------------------------------
#
# Who sees which credentials of a project (everyone here holds
# PROJECT_MANAGE_CREDENTIALS): an API key or a `user` OAuth client acts as the
# person who made it, so editors see only their own, plus the project's service
# clients; admins and owners, who manage everything in every project, see all.


def sees_all_credentials(role: str) -> bool:
    return role_allows(role, Perm.ORG_MANAGE_PROJECTS)


def may_change_oauth_client(*, client: OAuthClient, user: User) -> bool:
    """A new secret or redirect URI for a client that acts as someone would let
    the changer act as them: only its creator may change a `user` client."""
    return client.acts_as == OAuthClient.ActsAs.PROJECT or client.user_id == user.pk


def api_keys_for(*, project: Project, user: User, role: str) -> QuerySet[ApiKey]:
    """The project's active keys the person may see, newest first."""
    keys = ApiKey.objects.filter(project=project, revoked_at__isnull=True)
    if not sees_all_credentials(role):
        keys = keys.filter(user=user)
    return keys.select_related("user").order_by("-created", "-id")


def oauth_clients_for(
    *, project: Project, user: User, role: str
) -> QuerySet[OAuthClient]:
    """The project's OAuth clients the person may see, newest first."""
    clients = OAuthClient.objects.filter(project=project)
    if not sees_all_credentials(role):
        clients = clients.filter(Q(acts_as=OAuthClient.ActsAs.PROJECT) | Q(user=user))
    return clients.select_related("user").order_by("-created", "-id")


def page_after[M: Model](
    items: QuerySet[M], *, cursor: UUID | None, limit: int
) -> tuple[list[M], bool]:
    """One page of `items` (ordered newest first by `created`, then `id`) after
    the item whose id is `cursor`, and whether more follow."""
    if cursor is not None:
        anchor = items.filter(pk=cursor).values_list("created", flat=True).first()
        if anchor is None:
            raise BadRequest("Unknown cursor.", field="cursor")
        items = items.filter(Q(created__lt=anchor) | Q(created=anchor, id__lt=cursor))
    page = list(items[: limit + 1])
    return page[:limit], len(page) > limit
