"""Who is calling the API: bearer tokens resolved to a Principal.

Three kinds of bearer token exist (api.md §1.2): API keys and OAuth access tokens
resolve here; a task's own access token is resolved by tasks_app, which registers
its resolver at start-up (orgs cannot import the apps above it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthlibRequest

from rightbrain.orgs.limits import RateLimits, admit_request
from rightbrain.orgs.models import ApiKey, Membership, OAuthClient, Project, User
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.selectors import ProjectAccess
from rightbrain.orgs.tokens import hash_token
from rightbrain.queries import Precompiled

# OAuth tokens carry a prefix (rightbrain/orgs/oauth.py makes them) so that
# resolving any other kind of token costs no OAuth query.
OAUTH_ACCESS_TOKEN_PREFIX = "rbo_"
OAUTH_REFRESH_TOKEN_PREFIX = "rbr_"

# Writing last_used on every request would turn each read into a write; once a
# minute is precise enough for "last used".
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """The caller. `project_id` limits credentials bound to one project;
    `task_id` limits a task access token to that task's runs."""

    user: User | None
    project_id: UUID | None = None
    task_id: UUID | None = None
    # Service accounts (project OAuth clients) act with this project role.
    service_role: str | None = None
    credential: str = "api_key"
    # The credential's project with the caller's role, when resolving the
    # credential could read it in the same query (API keys).
    access: ProjectAccess | None = field(default=None, compare=False)
    # The API key itself (its budget), when the credential is one.
    api_key: ApiKey | None = field(default=None, compare=False)
    # The credential's rate limits; None for the dashboard's session.
    limits: RateLimits | None = field(default=None, compare=False)

    @property
    def member_key(self) -> str | None:
        return f"user:{self.user.pk}" if self.user else None


BearerResolver = Callable[[str], Principal | None]
_resolvers: list[BearerResolver] = []


def register_bearer_resolver(resolver: BearerResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


# Every API request made with a key runs this query.
_API_KEY_BY_HASH = Precompiled(
    lambda key_hash: (
        ApiKey.objects.select_related("user", "project__organization")
        .annotate(
            member_role=Subquery(
                Membership.objects.filter(
                    user=OuterRef("user_id"),
                    organization_id=OuterRef("project__organization_id"),
                ).values("role")[:1]
            )
        )
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by()[:1]
    ),
    "key_hash",
)


def api_key_principal(token: str) -> Principal | None:
    """A key acts as its user with their role as it is now: a demoted user's
    key is demoted with them. Keys are made by members for their project, so a
    key whose user is no longer a member of its organisation is refused (401),
    even where membership_remove (which revokes it) was bypassed."""
    if not token.startswith("rbk_"):
        return None
    key = _API_KEY_BY_HASH.one_or_none(key_hash=hash_token(token))
    if key is None or not key.user.is_active:
        return None
    if key.member_role is None:  # type: ignore[attr-defined]
        return None
    now = timezone.now()
    if key.last_used is None or now - key.last_used > _LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used=now)
    project = key.project
    return Principal(
        user=key.user,
        project_id=key.project_id,
        credential="api_key",
        access=ProjectAccess(
            project,
            project.organization,
            key.member_role,  # type: ignore[attr-defined]
        ),
        api_key=key,
        limits=RateLimits(
            kind="api_key",
            credential_id=key.pk,
            project_id=project.pk,
            requests_per_minute=key.requests_per_minute,
            runs_per_minute=key.runs_per_minute,
            project_requests_per_minute=project.requests_per_minute,
            project_runs_per_minute=project.runs_per_minute,
        ),
    )


register_bearer_resolver(api_key_principal)


# A person's OAuth token: the client's project with the person's role in it.
_PROJECT_WITH_ROLE = Precompiled(
    lambda project_id, user_id: (
        Project.objects.select_related("organization")
        .annotate(
            member_role=Subquery(
                Membership.objects.filter(
                    user_id=user_id, organization_id=OuterRef("organization_id")
                ).values("role")[:1]
            )
        )
        .filter(pk=project_id)
        .order_by()[:1]
    ),
    "project_id",
    "user_id",
)


def oauth_principal(token: str) -> Principal | None:
    """An OAuth 2.0 access token, checked by django-oauth-toolkit's validator
    (known, unexpired, client usable); None (→ 401) otherwise.

    * authorization code (and its refreshes): the person who consented, limited
      to the client's project;
    * client credentials of a `project` client: a service account with the
      editor role in the client's project;
    * client credentials of a `user` client: the person who created the client.

    A token that acts as a person carries their role in the client's
    organisation as it is now, read here in the query the endpoint would
    otherwise make (`project_access_for_principal`). A person outside the
    organisation (one who consented from outside, or was removed by other means
    than membership_remove, which revokes their tokens) acts as any signed-in
    non-member: public tasks only, 404 for everything project-wide.
    """
    if not token.startswith(OAUTH_ACCESS_TOKEN_PREFIX):
        return None
    request = OAuthlibRequest("")
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    if not validator.validate_bearer_token(token, [], request):
        return None
    access_token = request.access_token
    client = access_token.application
    if client is None:
        return None
    if access_token.user is not None:
        user = access_token.user
    elif client.acts_as == OAuthClient.ActsAs.PROJECT:
        return Principal(
            user=None,
            project_id=client.project_id,
            service_role=Role.EDITOR,
            credential="oauth",
            limits=_oauth_client_limits(client),
        )
    else:
        user = client.user
    if user is None or not user.is_active:
        return None
    project = _PROJECT_WITH_ROLE.one_or_none(
        project_id=client.project_id, user_id=user.pk
    )
    if project is None:
        return None
    return Principal(
        user=user,
        project_id=client.project_id,
        credential="oauth",
        access=ProjectAccess(
            project,
            project.organization,
            project.member_role or "",  # type: ignore[attr-defined]
        ),
        limits=_oauth_client_limits(client, project),
    )


def _oauth_client_limits(
    client: OAuthClient, project: Project | None = None
) -> RateLimits:
    """The client's limits (the settings) and its project's: from `project` when
    the caller has read it, else one query (DOT's token lookup does not read the
    project)."""
    if project is not None:
        requests_per_minute = project.requests_per_minute
        runs_per_minute = project.runs_per_minute
    else:
        row = (
            Project.objects.filter(pk=client.project_id)
            .values_list("requests_per_minute", "runs_per_minute")
            .first()
        )
        requests_per_minute, runs_per_minute = row or (None, None)
    return RateLimits(
        kind="oauth_client",
        credential_id=client.pk,
        project_id=client.project_id,
        project_requests_per_minute=requests_per_minute,
        project_runs_per_minute=runs_per_minute,
    )


register_bearer_resolver(oauth_principal)


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>` for every kind of token."""

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        """The caller, counted against its rate limits (429 when over)."""
        for resolver in _resolvers:
            principal = resolver(token)
            if principal is not None:
                if principal.limits is not None:
                    admit_request(principal.limits)
                request.principal = principal  # type: ignore[attr-defined]
                return principal
        return None


@dataclass(frozen=True)
class UncheckedToken:
    """A bearer token not looked up yet (see DeferredBearerAuth)."""

    token: str


class DeferredBearerAuth(HttpBearer):
    """Bearer auth for async views that do their database work in one
    blocking section: the token is taken here, on the event loop, and looked
    up at the start of that section by `principal_from` (401 when unknown).
    One thread hop fewer per request than looking it up in its own."""

    async def authenticate(self, request: HttpRequest, token: str) -> UncheckedToken:
        return UncheckedToken(token)


def principal_from(request: HttpRequest) -> Principal:
    """The caller of a DeferredBearerAuth view (blocking: it may query)."""
    auth = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, UncheckedToken):
        principal = BearerAuth().authenticate(request, auth.token)
        if principal is None:
            raise AuthenticationError()
        request.auth = auth = principal  # type: ignore[attr-defined]
    return auth


def project_access_for_principal(
    principal: Principal, *, org_id: UUID, project_id: UUID
) -> ProjectAccess | None:
    """The project in the path and the caller's role in it, or None (→ 404).

    A project outside the org in the path, or outside the credential's project,
    is not found: callers cannot tell it exists.
    """
    if principal.project_id is not None and principal.project_id != project_id:
        return None
    if principal.access is not None:
        access = principal.access
        if access.organization.pk != org_id or access.project.archived_at:
            return None
        return access
    projects = Project.objects.select_related("organization").filter(
        pk=project_id, organization_id=org_id, archived_at__isnull=True
    )
    if principal.user is not None and principal.service_role is None:
        # The caller's role rides along in the same query.
        projects = projects.annotate(
            member_role=Subquery(
                Membership.objects.filter(
                    user=principal.user, organization_id=OuterRef("organization_id")
                ).values("role")[:1]
            )
        )
    project = projects.first()
    if project is None:
        return None
    if principal.service_role is not None:
        return ProjectAccess(project, project.organization, principal.service_role)
    if principal.task_id is not None:
        # A task token sees the project only through its one task.
        return ProjectAccess(project, project.organization, "")
    if principal.user is None:
        return None
    # Non-members get an empty role: they may still reach a public task or one
    # shared with them directly; everything project-wide answers them 404.
    role = project.member_role  # type: ignore[attr-defined]
    return ProjectAccess(project, project.organization, role or "")
