"""Credentials over JSON: API keys (api.md §12.2) and OAuth clients (§12.1).

Every endpoint needs PROJECT_MANAGE_CREDENTIALS (editors and up; viewers 403,
outsiders 404) and a person behind the token: credentials belong to people, so a
project service account cannot mint more of them. Editors see their own API keys
and `user` clients plus the project's `project` clients; admins and owners see
them all (selectors.py). Secrets appear only in the answer that creates them.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from rightbrain.api_common import (
    ERRORS,
    PROJECT,
    PaginationDetails,
    json_null,
    page_limit_of,
)
from rightbrain.errors import Forbidden, Invalid
from rightbrain.orgs import selectors, services
from rightbrain.orgs.auth import Principal, project_access_for_principal
from rightbrain.orgs.models import ApiKey, OAuthClient, Project, User
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import ProjectAccess

router = Router(tags=["credentials"])

GrantTypeName = Literal[
    "client_credentials", "authorization_code", "refresh_token", "implicit"
]
ClientKind = Literal["user", "project"]


def _default_grants() -> list[GrantTypeName]:
    return ["client_credentials"]


class StrictBody(Schema):
    # A value of the wrong JSON type is an envelope error (400), never coerced:
    # "yes" is not a boolean and 42 is not a name.
    model_config = ConfigDict(strict=True)


class ListQuery(Schema):
    cursor: UUID | None = None
    page_limit: int = 100


class ApiKeyCreate(StrictBody):
    name: str


class ApiKeyOut(Schema):
    id: UUID
    name: str
    prefix: str
    created: datetime
    last_used: datetime | None = None
    user_id: UUID
    key: str | None = Field(
        None, description="The full key: only in the answer that creates it."
    )
    requests_per_minute: int | None = Field(
        None, description="This key's own limit; null: the server's default."
    )
    runs_per_minute: int | None = Field(
        None, description="This key's own limit; null: the server's default."
    )
    monthly_credit_budget: str | None = Field(
        None, description="Credits per calendar month (UTC); null: no budget."
    )


class LimitsUpdate(Schema):
    """Rate limits and budget to set (a key's here, a project's in
    runs_app/budgets_api.py): only the fields sent change; null resets one to
    its default."""

    # Strict: true is not 1 a minute, and "5" is not a number.
    requests_per_minute: int | None = Field(None, strict=True)
    runs_per_minute: int | None = Field(None, strict=True)
    monthly_credit_budget: Decimal | None = Field(
        None, description='Credits, e.g. "5000.00"; null: no budget.'
    )


class PaginatedApiKeyResultSet(Schema):
    results: list[ApiKeyOut]
    pagination: PaginationDetails | None


class OAuthClientCreate(StrictBody):
    name: str
    description: str | None = None
    grant_types: list[GrantTypeName] = Field(default_factory=_default_grants)
    redirect_uris: list[str] = Field(default_factory=list)
    client_type: ClientKind = "user"
    public_client: bool = False


class OAuthClientUpdate(StrictBody):
    name: str | None = None
    description: str | None = None
    grant_types: list[GrantTypeName] | None = None
    redirect_uris: list[str] | None = None
    client_type: ClientKind | None = Field(
        None, description="Immutable: sending a different value answers 422."
    )


class OAuthClientOut(Schema):
    id: UUID
    project_id: UUID
    name: str
    description: str | None = None
    client_id: str
    grant_types: list[GrantTypeName]
    redirect_uris: list[str]
    client_type: ClientKind
    public_client: bool
    created: datetime
    modified: datetime
    client_secret: str | None = Field(
        None,
        description="Only in the answers that create the client or regenerate "
        "its secret; stored hashed.",
    )


class PaginatedOAuthClientResultSet(Schema):
    results: list[OAuthClientOut]
    pagination: PaginationDetails | None


# Access -----------------------------------------------------------------------------


def _credentials_access(
    request: HttpRequest, org_id: UUID, project_id: UUID
) -> tuple[ProjectAccess, User]:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    access = project_access_for_principal(
        principal, org_id=org_id, project_id=project_id
    )
    if access is None or not access.role:
        raise Http404("No such project.")
    if not role_allows(access.role, Perm.PROJECT_MANAGE_CREDENTIALS):
        raise Forbidden(
            "Your role in this project does not allow managing credentials."
        )
    if principal.user is None:
        raise Forbidden(
            "Credentials belong to people; a service account cannot manage them."
        )
    return access, principal.user


def _visible_client(
    access: ProjectAccess, user: User, oauth_client_id: UUID
) -> OAuthClient:
    client = (
        selectors.oauth_clients_for(project=access.project, user=user, role=access.role)
        .filter(pk=oauth_client_id)
        .first()
    )
    if client is None:
        raise Http404("No such OAuth client.")
    return client


def _changeable_client(
    access: ProjectAccess, user: User, oauth_client_id: UUID
) -> OAuthClient:
    client = _visible_client(access, user, oauth_client_id)
    if not selectors.may_change_oauth_client(client=client, user=user):
        raise Forbidden("Only the person who created a user client can change it.")
    return client


# Serialisation ----------------------------------------------------------------------


def _credits(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def api_key_out(api_key: ApiKey, key: str | None = None) -> dict[str, Any]:
    return {
        "id": api_key.pk,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "created": api_key.created,
        "last_used": api_key.last_used,
        "user_id": api_key.user_id,
        "key": key,
        "requests_per_minute": api_key.requests_per_minute,
        "runs_per_minute": api_key.runs_per_minute,
        "monthly_credit_budget": _credits(api_key.monthly_credit_budget),
    }


def limits_after(
    owner: Project | ApiKey, payload: LimitsUpdate
) -> services.LimitSettings:
    """The owner's limits with the fields the caller sent replaced."""
    changes = {name: getattr(payload, name) for name in payload.model_fields_set}
    return dataclasses.replace(services.limits_of(owner), **changes)


def require_limit_manager(access: ProjectAccess, principal: Principal) -> None:
    """Limits and budgets are for owners and admins, acting as themselves."""
    if principal.user is None or not role_allows(access.role, Perm.ORG_MANAGE_PROJECTS):
        raise Forbidden("Only owners and admins may change limits and budgets.")


def oauth_client_out(client: OAuthClient, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": client.pk,
        "project_id": client.project_id,
        "name": client.name,
        "description": client.description or None,
        "client_id": client.client_id,
        "grant_types": client.grant_types,
        "redirect_uris": client.redirect_uri_list,
        "client_type": client.acts_as,
        "public_client": client.public_client,
        "created": client.created,
        "modified": client.modified,
        "client_secret": secret,
    }


def _pagination(page: list, has_next: bool, limit: int) -> dict[str, Any]:
    return {
        "next_cursor": str(page[-1].pk) if has_next else None,
        "has_next": has_next,
        "page_limit": limit,
    }


# API keys ---------------------------------------------------------------------------


@router.get(
    PROJECT + "/api_key",
    response={200: PaginatedApiKeyResultSet, **ERRORS},
    summary="List API keys",
    operation_id="api_key_list",
)
def api_key_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[ListQuery]
):
    access, user = _credentials_access(request, org_id, project_id)
    limit = page_limit_of(query.page_limit)
    keys = selectors.api_keys_for(project=access.project, user=user, role=access.role)
    page, has_next = selectors.page_after(keys, cursor=query.cursor, limit=limit)
    return {
        "results": [api_key_out(key) for key in page],
        "pagination": _pagination(page, has_next, limit),
    }


@router.post(
    PROJECT + "/api_key",
    response={200: ApiKeyOut, **ERRORS},
    summary="Create an API key (the key is shown once)",
    operation_id="api_key_create",
)
def api_key_create(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: ApiKeyCreate
):
    access, user = _credentials_access(request, org_id, project_id)
    try:
        api_key, secret = services.api_key_create(
            project=access.project, user=user, name=payload.name
        )
    except ValidationError as error:
        raise Invalid(" ".join(error.messages), field="name") from None
    return api_key_out(api_key, secret)


@router.delete(
    PROJECT + "/api_key/{api_key_id}",
    response={200: None, **ERRORS},
    summary="Revoke an API key",
    operation_id="api_key_revoke",
)
def api_key_revoke(
    request: HttpRequest, org_id: UUID, project_id: UUID, api_key_id: UUID
):
    access, user = _credentials_access(request, org_id, project_id)
    api_key = (
        selectors.api_keys_for(project=access.project, user=user, role=access.role)
        .filter(pk=api_key_id)
        .first()
    )
    if api_key is None:
        raise Http404("No such API key.")
    services.api_key_revoke(api_key=api_key, actor=user)
    return json_null()


@router.post(
    PROJECT + "/api_key/{api_key_id}",
    response={200: ApiKeyOut, **ERRORS},
    summary="Set an API key's rate limits and monthly credit budget",
    operation_id="api_key_update",
)
def api_key_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    api_key_id: UUID,
    payload: LimitsUpdate,
):
    access, user = _credentials_access(request, org_id, project_id)
    require_limit_manager(access, request.auth)  # type: ignore[attr-defined]
    api_key = (
        selectors.api_keys_for(project=access.project, user=user, role=access.role)
        .filter(pk=api_key_id)
        .first()
    )
    if api_key is None:
        raise Http404("No such API key.")
    services.api_key_limits_set(api_key=api_key, limits=limits_after(api_key, payload))
    return api_key_out(api_key)


# OAuth clients ----------------------------------------------------------------------


@router.get(
    PROJECT + "/oauth_client",
    response={200: PaginatedOAuthClientResultSet, **ERRORS},
    summary="List OAuth clients",
    operation_id="oauth_client_list",
)
def oauth_client_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[ListQuery]
):
    access, user = _credentials_access(request, org_id, project_id)
    limit = page_limit_of(query.page_limit)
    clients = selectors.oauth_clients_for(
        project=access.project, user=user, role=access.role
    )
    page, has_next = selectors.page_after(clients, cursor=query.cursor, limit=limit)
    return {
        "results": [oauth_client_out(client) for client in page],
        "pagination": _pagination(page, has_next, limit),
    }


@router.post(
    PROJECT + "/oauth_client",
    response={200: OAuthClientOut, **ERRORS},
    summary="Create an OAuth client (the secret is shown once)",
    operation_id="oauth_client_create",
)
def oauth_client_create(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: OAuthClientCreate
):
    access, user = _credentials_access(request, org_id, project_id)
    client, secret = services.oauth_client_create(
        project=access.project,
        created_by=user,
        name=payload.name,
        description=payload.description,
        grant_types=list(payload.grant_types),
        redirect_uris=payload.redirect_uris,
        client_type=payload.client_type,
        public_client=payload.public_client,
    )
    return oauth_client_out(client, secret)


@router.get(
    PROJECT + "/oauth_client/{oauth_client_id}",
    response={200: OAuthClientOut, **ERRORS},
    summary="Get an OAuth client",
    operation_id="oauth_client_get",
)
def oauth_client_get(
    request: HttpRequest, org_id: UUID, project_id: UUID, oauth_client_id: UUID
):
    access, user = _credentials_access(request, org_id, project_id)
    return oauth_client_out(_visible_client(access, user, oauth_client_id))


@router.post(
    PROJECT + "/oauth_client/{oauth_client_id}",
    response={200: OAuthClientOut, **ERRORS},
    summary="Update an OAuth client's name, description, grant types or redirect URIs",
    operation_id="oauth_client_update",
)
def oauth_client_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    oauth_client_id: UUID,
    payload: OAuthClientUpdate,
):
    access, user = _credentials_access(request, org_id, project_id)
    client = _changeable_client(access, user, oauth_client_id)
    sent = payload.model_dump(exclude_unset=True)
    services.oauth_client_update(
        client=client,
        name=payload.name,
        # An explicit null clears the description.
        description=(payload.description or "") if "description" in sent else None,
        grant_types=None if payload.grant_types is None else list(payload.grant_types),
        redirect_uris=payload.redirect_uris,
        client_type=payload.client_type,
    )
    return oauth_client_out(client)


@router.delete(
    PROJECT + "/oauth_client/{oauth_client_id}",
    response={200: None, **ERRORS},
    summary="Delete an OAuth client and revoke its tokens",
    operation_id="oauth_client_delete",
)
def oauth_client_delete(
    request: HttpRequest, org_id: UUID, project_id: UUID, oauth_client_id: UUID
):
    access, user = _credentials_access(request, org_id, project_id)
    services.oauth_client_delete(
        client=_visible_client(access, user, oauth_client_id), actor=user
    )
    return json_null()


@router.post(
    PROJECT + "/oauth_client/{oauth_client_id}/client_secret",
    response={200: OAuthClientOut, **ERRORS},
    summary="Regenerate an OAuth client's secret (the old one stops working)",
    operation_id="oauth_client_regenerate_secret",
)
def oauth_client_regenerate_secret(
    request: HttpRequest, org_id: UUID, project_id: UUID, oauth_client_id: UUID
):
    access, user = _credentials_access(request, org_id, project_id)
    client = _changeable_client(access, user, oauth_client_id)
    secret = services.oauth_client_regenerate_secret(client=client, actor=user)
    return oauth_client_out(client, secret)
