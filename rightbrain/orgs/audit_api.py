"""The organisation's audit log over JSON: `GET /api/v1/org/{org_id}/audit_log`.

Owners and admins only (other members 403, everyone else 404). A credential
bound to a project reads the log of that project's organisation; service
accounts and task tokens are not people and cannot read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from rightbrain.api_common import ERRORS, PaginationDetails, page_limit_of
from rightbrain.errors import Forbidden
from rightbrain.orgs import selectors
from rightbrain.orgs.auth import Principal
from rightbrain.orgs.models import AuditEvent, Project
from rightbrain.orgs.permissions import Perm, role_allows

router = Router(tags=["audit"])

AuditAction = Literal[tuple(AuditEvent.Action.values)]  # type: ignore[valid-type]


class AuditLogQuery(Schema):
    action: AuditAction | None = None  # type: ignore[valid-type]
    cursor: UUID | None = None
    page_limit: int = 100


class AuditEventOut(Schema):
    id: UUID
    created: datetime
    action: AuditAction  # type: ignore[valid-type]
    actor_id: UUID | None = None
    actor: str
    target_type: str
    target_id: str
    target_label: str
    details: dict[str, Any]


class PaginatedAuditEventResultSet(Schema):
    results: list[AuditEventOut]
    pagination: PaginationDetails | None


def _audit_log_access(principal: Principal, org_id: UUID) -> None:
    """404 unless the credential belongs to the organisation; 403 unless it
    acts as one of its owners or admins."""
    organization_id: UUID | None = None
    if principal.access is not None:
        organization_id = principal.access.organization.pk
    elif principal.project_id is not None:
        organization_id = (
            Project.objects.filter(pk=principal.project_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id != org_id:
        raise Http404("No such organisation.")
    role = principal.access.role if principal.access is not None else None
    if principal.user is None or not role_allows(role, Perm.ORG_VIEW_AUDIT_LOG):
        raise Forbidden("Only the organisation's owners and admins read its audit log.")


def audit_event_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "created": event.created,
        "action": event.action,
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "details": event.details,
    }


@router.get(
    "/v1/org/{org_id}/audit_log",
    response={200: PaginatedAuditEventResultSet, **ERRORS},
    summary="List the organisation's audit events, newest first",
    operation_id="audit_log_list",
)
def audit_log_list(request: HttpRequest, org_id: UUID, query: Query[AuditLogQuery]):
    _audit_log_access(request.auth, org_id)  # type: ignore[attr-defined]
    limit = page_limit_of(query.page_limit)
    events = selectors.audit_events_of(organization_id=org_id, action=query.action)
    page, has_next = selectors.page_after(events, cursor=query.cursor, limit=limit)
    return {
        "results": [audit_event_out(event) for event in page],
        "pagination": {
            "next_cursor": str(page[-1].pk) if has_next else None,
            "has_next": has_next,
            "page_limit": limit,
        },
    }
