"""Every write to organisations, projects, memberships, invitations,
credentials and the audit log.

Callers check permissions first (see `permissions.py`); these functions enforce
the invariants that must hold whoever calls them, such as "an organisation always
keeps an owner".
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, RefreshToken, get_grant_model

from rightbrain.errors import Invalid
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
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.tokens import hash_token, new_token

DEFAULT_PROJECT_NAME = "Default project"
# Control characters have no place in names or URIs (and PostgreSQL refuses NUL).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


Action = AuditEvent.Action


def audit_record(
    *,
    organization_id: UUID,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: object = "",
    target_label: str = "",
    details: Mapping[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it
    records, so the two are committed, or rolled back, together.

    `actor_label` names what acted when no person did (a scheduled job);
    otherwise the actor's e-mail address is kept beside the link to them.
    """
    if action not in Action.values:
        raise ValueError(f"{action!r} is not an audit action.")
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=str(target_label)[:200],
        details=dict(details or {}),
    )


def _clean_name(name: str, *, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": f"Give the {what} a name."})
    if len(name) > 100:
        raise ValidationError({"name": f"A {what} name has at most 100 characters."})
    return name


@transaction.atomic
def organization_create(
    *, name: str, owner: User, personal: bool = False
) -> Organization:
    """A new organisation with `owner` as its owner and one default project."""
    organization = Organization.objects.create(
        name=_clean_name(name, what="organisation"), personal=personal
    )
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    Project.objects.create(organization=organization, name=DEFAULT_PROJECT_NAME)
    return organization


def personal_organization_create(*, user: User) -> Organization:
    """The organisation every new account starts with."""
    return organization_create(
        name=f"{user.display_name}'s organisation", owner=user, personal=True
    )


def project_create(*, organization: Organization, name: str) -> Project:
    name = _clean_name(name, what="project")
    try:
        with transaction.atomic():
            return Project.objects.create(organization=organization, name=name)
    except IntegrityError:
        raise ValidationError(
            {"name": f"This organisation already has a project named “{name}”."}
        ) from None


def project_rename(*, project: Project, name: str) -> Project:
    project.name = _clean_name(name, what="project")
    try:
        with transaction.atomic():
            project.save(update_fields=["name", "modified"])
    except IntegrityError:
        raise ValidationError(
            {"name": f"This organisation already has a project named “{name}”."}
        ) from None
    return project


# Rate limits and budgets (rightbrain/orgs/limits.py, runs_app/budgets.py) ---------

# Beyond these a value is a typo, not a plan: a million requests a minute, a
# billion credits ($1M at the default credit price) a month.
MAX_PER_MINUTE = 1_000_000
MAX_MONTHLY_CREDIT_BUDGET = Decimal(1_000_000_000)


@dataclass(frozen=True)
class LimitSettings:
    """A project's or an API key's own limits; None: the default (for rates,
    the RB_* setting; for the budget, none)."""

    requests_per_minute: int | None = None
    runs_per_minute: int | None = None
    monthly_credit_budget: Decimal | None = None


def limits_of(owner: Project | ApiKey) -> LimitSettings:
    return LimitSettings(
        requests_per_minute=owner.requests_per_minute,
        runs_per_minute=owner.runs_per_minute,
        monthly_credit_budget=owner.monthly_credit_budget,
    )


def _checked_limits(limits: LimitSettings) -> LimitSettings:
    for field in ("requests_per_minute", "runs_per_minute"):
        value = getattr(limits, field)
        if value is not None and not 1 <= value <= MAX_PER_MINUTE:
            raise Invalid(
                f"{field} is a whole number from 1 to {MAX_PER_MINUTE:,}, "
                "or null for the default.",
                field=field,
            )
    budget = limits.monthly_credit_budget
    if budget is not None:
        if not budget.is_finite() or not 0 <= budget <= MAX_MONTHLY_CREDIT_BUDGET:
            raise Invalid(
                "monthly_credit_budget is a number of credits from 0 to "
                f"{MAX_MONTHLY_CREDIT_BUDGET:,}, or null for no budget.",
                field="monthly_credit_budget",
            )
        if budget != budget.quantize(Decimal("0.01")):
            raise Invalid(
                "monthly_credit_budget has at most two decimal places.",
                field="monthly_credit_budget",
            )
    return limits


def project_limits_set(*, project: Project, limits: LimitSettings) -> Project:
    """Set the project's rate limits and monthly budget (owners and admins)."""
    _checked_limits(limits)
    project.requests_per_minute = limits.requests_per_minute
    project.runs_per_minute = limits.runs_per_minute
    project.monthly_credit_budget = limits.monthly_credit_budget
    project.save(
        update_fields=[
            "requests_per_minute",
            "runs_per_minute",
            "monthly_credit_budget",
            "modified",
        ]
    )
    return project


def api_key_limits_set(*, api_key: ApiKey, limits: LimitSettings) -> ApiKey:
    """Set the key's rate limits and monthly budget (owners and admins)."""
    _checked_limits(limits)
    api_key.requests_per_minute = limits.requests_per_minute
    api_key.runs_per_minute = limits.runs_per_minute
    api_key.monthly_credit_budget = limits.monthly_credit_budget
    api_key.save(
        update_fields=[
            "requests_per_minute",
            "runs_per_minute",
            "monthly_credit_budget",
        ]
    )
    return api_key


@transaction.atomic
def project_archive(*, project: Project) -> Project:
    """Hide a project from the switcher; its data stays and it can be restored.

    An organisation keeps at least one active project, so people always land
    somewhere.
    """
    active = Project.objects.select_for_update().filter(
        organization_id=project.organization_id, archived_at__isnull=True
    )
    if project.archived_at is None and active.count() <= 1:
        raise ValidationError(
            "An organisation needs at least one active project. Create another "
            "project before archiving this one."
        )
    project.archived_at = timezone.now()
    project.save(update_fields=["archived_at", "modified"])
    return project


def project_restore(*, project: Project) -> Project:
    project.archived_at = None
    try:
        with transaction.atomic():
            project.save(update_fields=["archived_at", "modified"])
    except IntegrityError:
        raise ValidationError(
            f"An active project is already named “{project.name}”. Rename it first."
        ) from None
    return project


def _lock_owners(organization_id) -> list[Membership]:
    """Lock the owner rows so two concurrent demotions cannot both pass the check."""
    return list(
        Membership.objects.select_for_update().filter(
            organization_id=organization_id, role=Role.OWNER
        )
    )


@transaction.atomic
def membership_role_change(
    *, membership: Membership, role: str, actor: User | None = None
) -> Membership:
    """Give the member `role`. Their API keys and OAuth tokens follow at once:
    every request reads the credential's user's current role."""
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    demoting_owner = membership.role == Role.OWNER and role != Role.OWNER
    if demoting_owner and len(_lock_owners(membership.organization_id)) <= 1:
        raise ValidationError(
            "The last owner cannot be demoted. Make someone else an owner first."
        )
    previous = membership.role
    if previous == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action=Action.MEMBER_ROLE_CHANGED,
        target_type="user",
        target_id=membership.user_id,
        target_label=membership.user.email,
        details={"from": previous, "to": role},
    )
    return membership


# What the apps above hold for a person in an organisation (tasks_app: their
# direct task grants) is theirs to drop: orgs cannot import them. Each app
# registers a hook in its AppConfig.ready(); membership_remove and
# membership_leave call every hook inside their transaction as
# `hook(membership=...)`, and each returns counts of what it dropped, for the
# audit event.
MembershipEndHook = Callable[..., Mapping[str, int]]
_membership_end_hooks: list[MembershipEndHook] = []


def on_membership_end(hook: MembershipEndHook) -> None:
    if hook not in _membership_end_hooks:
        _membership_end_hooks.append(hook)


def _revoke_api_keys_of(membership: Membership, actor: User | None) -> int:
    """Revoke (keep, for the record) the person's keys to the organisation's
    projects, each with its own audit event."""
    keys = list(
        ApiKey.objects.select_for_update()
        .filter(
            user_id=membership.user_id,
            project__organization_id=membership.organization_id,
            revoked_at__isnull=True,
        )
        .order_by("created", "id")
    )
    now = timezone.now()
    ApiKey.objects.filter(pk__in=[key.pk for key in keys]).update(revoked_at=now)
    for key in keys:
        audit_record(
            organization_id=membership.organization_id,
            actor=actor,
            action=Action.API_KEY_REVOKED,
            target_type="api_key",
            target_id=key.pk,
            target_label=f"{key.name} ({key.prefix}…)",
            details={
                "reason": "membership_ended",
                "owner": membership.user.email,
                "project_id": str(key.project_id),
            },
        )
    return len(keys)


def _revoke_oauth_tokens_of(membership: Membership) -> int:
    """End the OAuth access that acts as the person in the organisation: tokens
    and codes they consented to, and client-credentials tokens of `user`
    clients they created. Rows are kept: access tokens and codes expire now,
    refresh tokens are marked revoked (DOT refuses a revoked refresh token)."""
    now = timezone.now()
    in_org = Q(application__project__organization_id=membership.organization_id)
    as_person = Q(user_id=membership.user_id) | Q(
        user__isnull=True,
        application__user_id=membership.user_id,
        application__acts_as=OAuthClient.ActsAs.USER,
    )
    access = AccessToken.objects.filter(in_org, as_person, expires__gt=now).update(
        expires=now
    )
    refresh = RefreshToken.objects.filter(
        in_org, user_id=membership.user_id, revoked__isnull=True
    ).update(revoked=now)
    get_grant_model().objects.filter(
        in_org, user_id=membership.user_id, expires__gt=now
    ).update(expires=now)
    return access + refresh


def _membership_end(*, membership: Membership, actor: User | None) -> None:
    """Remove the membership and everything that let the person act in the
    organisation, in one transaction (the caller's), audited."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .get(pk=membership.pk)
    )
    if (
        membership.role == Role.OWNER
        and len(_lock_owners(membership.organization_id)) <= 1
    ):
        raise ValidationError(
            "The last owner cannot leave or be removed. Make someone else an "
            "owner first."
        )
    details: dict[str, Any] = {
        "role": membership.role,
        "api_keys_revoked": _revoke_api_keys_of(membership, actor),
        "oauth_tokens_revoked": _revoke_oauth_tokens_of(membership),
    }
    for hook in _membership_end_hooks:
        details.update(hook(membership=membership))
    leaving = actor is not None and actor.pk == membership.user_id
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action=Action.MEMBER_LEFT if leaving else Action.MEMBER_REMOVED,
        target_type="user",
        target_id=membership.user_id,
        target_label=membership.user.email,
        details=details,
    )
    membership.delete()


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None = None) -> None:
    """Take someone out of the organisation: their API keys and OAuth tokens
    for it are revoked and their direct task grants in it dropped."""
    _membership_end(membership=membership, actor=actor)


@transaction.atomic
def membership_leave(*, membership: Membership) -> None:
    """The person leaves the organisation; as membership_remove, by themselves."""
    _membership_end(membership=membership, actor=membership.user)


def invitation_create(
    *, organization: Organization, email: str, role: str, invited_by: User
) -> Invitation:
    """Record an invitation and e-mail its link. The token is never stored."""
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    if Membership.objects.filter(
        organization=organization, user__email__iexact=email
    ).exists():
        raise ValidationError({"email": f"{email} is already a member."})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # A newer invitation to the same address replaces any pending one.
        Invitation.objects.filter(
            organization=organization,
            email=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.RB_INVITATION_DAYS),
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation


def _send_invitation(invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "accept_url": settings.SITE_ROOT
        + reverse("invitation_accept", kwargs={"token": token}),
        "site_name": settings.SITE_NAME,
    }
    send_mail(
        subject=f"[{settings.SITE_NAME}] Join {invitation.organization.name}",
        message=render_to_string("orgs/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise ValidationError("This invitation was withdrawn.")
    if invitation.expires_at <= timezone.now():
        raise ValidationError(
            "This invitation has expired. Ask for a new one from the person who "
            "invited you."
        )
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            f"This invitation was sent to {invitation.email}. Sign in with that "
            "address to accept it."
        )
    membership, created = Membership.objects.get_or_create(
        organization_id=invitation.organization_id,
        user=user,
        defaults={"role": invitation.role},
    )
    if created:
        audit_record(
            organization_id=invitation.organization_id,
            actor=user,
            action=Action.MEMBER_ADDED,
            target_type="user",
            target_id=user.pk,
            target_label=user.email,
            details={
                "role": membership.role,
                "invited_by": invitation.invited_by.email
                if invitation.invited_by
                else None,
            },
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


API_KEY_PREFIX = "rbk_"


def api_key_create(*, project: Project, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned here and never again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(
            {"name": "Give the key a name that says where it is used."}
        )
    if len(name) > 100:
        raise ValidationError({"name": "A key name has at most 100 characters."})
    if _CONTROL_CHARACTERS.search(name):
        raise ValidationError({"name": "A key name cannot contain control characters."})
    secret = new_token(API_KEY_PREFIX)
    with transaction.atomic():
        key = ApiKey.objects.create(
            project=project,
            user=user,
            name=name,
            prefix=secret[:8],
            key_hash=hash_token(secret),
        )
        _audit_api_key(key, project, actor=user, action=Action.API_KEY_CREATED)
    return key, secret


def _audit_api_key(
    key: ApiKey, project: Project, *, actor: User | None, action: str
) -> None:
    audit_record(
        organization_id=project.organization_id,
        actor=actor,
        action=action,
        target_type="api_key",
        target_id=key.pk,
        target_label=f"{key.name} ({key.prefix}…)",
        details={"project_id": str(project.pk), "project": project.name},
    )


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: User | None = None) -> ApiKey:
    """Revoke the key (kept, for the record); revoking twice changes nothing."""
    now = timezone.now()
    # Conditional, so two revokes at once record one event.
    if ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now
    ):
        api_key.revoked_at = now
        _audit_api_key(
            api_key, api_key.project, actor=actor, action=Action.API_KEY_REVOKED
        )
    return api_key


@transaction.atomic
def api_key_replace(*, project: Project, user: User, name: str) -> tuple[ApiKey, str]:
    """Revoke the person's active keys of this name in the project, then issue a
    new one: for keys a script re-creates on every run (the demo key)."""
    for api_key in ApiKey.objects.filter(
        project=project, user=user, name=name, revoked_at__isnull=True
    ).select_related("project"):
        api_key_revoke(api_key=api_key, actor=user)
    return api_key_create(project=project, user=user, name=name)


# OAuth clients (api.md §12.1) ----------------------------------------------------

_URI_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Schemes that would run or read something in the browser instead of reaching an app.
_REFUSED_SCHEMES = {"javascript", "data", "file", "vbscript", "about", "blob"}
MAX_REDIRECT_URI_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 2000
GrantType = OAuthClient.GrantType


def _client_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Invalid("Give the client a name.", field="name")
    if len(name) > 100:
        raise Invalid("A client name has at most 100 characters.", field="name")
    if _CONTROL_CHARACTERS.search(name):
        raise Invalid("A client name cannot contain control characters.", field="name")
    return name


def _client_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise Invalid(
            f"A description has at most {MAX_DESCRIPTION_LENGTH} characters.",
            field="description",
        )
    if _CONTROL_CHARACTERS.search(description.replace("\n", "").replace("\t", "")):
        raise Invalid(
            "A description cannot contain control characters.", field="description"
        )
    return description


def _redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered (api.md §12.1), or None when it can."""
    if not uri:
        return "A redirect URI cannot be empty."
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        return f"A redirect URI has at most {MAX_REDIRECT_URI_LENGTH} characters."
    if _CONTROL_CHARACTERS.search(uri) or any(char.isspace() for char in uri):
        return "A redirect URI cannot contain spaces or control characters."
    if "#" in uri:
        return "A redirect URI cannot have a #fragment."
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:
        return "This is not a valid URI."
    scheme = parts.scheme.lower()
    if not _URI_SCHEME.match(scheme):
        return (
            "A redirect URI must be absolute, such as https://app.example.com/callback."
        )
    if scheme in _REFUSED_SCHEMES:
        return f"The {scheme}: scheme cannot be a redirect URI."
    if scheme not in {"http", "https"}:
        # A custom scheme of a native app, such as myapp://oauth/callback.
        if not (parts.netloc or parts.path.strip("/")):
            return (
                "A custom-scheme redirect URI needs a path, such as myapp://callback."
            )
        return None
    if not hostname:
        return "A redirect URI needs a host."
    if "@" in parts.netloc:
        return "A redirect URI cannot carry a user name or password."
    if scheme == "http" and hostname not in _LOOPBACK_HOSTS:
        return "Use https:// (http:// is allowed only for localhost and 127.0.0.1)."
    return None


def _redirect_uris(uris: list[str]) -> list[str]:
    cleaned: list[str] = []
    for index, uri in enumerate(uris):
        uri = uri.strip()
        problem = _redirect_uri_problem(uri)
        if problem:
            raise Invalid(problem, field=f"redirect_uris.{index}")
        if uri not in cleaned:
            cleaned.append(uri)
    return cleaned


def _grant_types(
    grant_types: list[str], *, redirect_uris: list[str], public_client: bool
) -> list[str]:
    grants = list(dict.fromkeys(grant_types))
    if not grants:
        raise Invalid("Choose at least one grant type.", field="grant_types")
    unknown = [grant for grant in grants if grant not in GrantType.values]
    if unknown:
        raise Invalid(f"Unknown grant type “{unknown[0]}”.", field="grant_types")
    if GrantType.REFRESH_TOKEN in grants and GrantType.AUTHORIZATION_CODE not in grants:
        raise Invalid(
            "refresh_token is only granted together with authorization_code.",
            field="grant_types",
        )
    redirecting = {GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT} & set(grants)
    if redirecting and not redirect_uris:
        raise Invalid(
            f"{sorted(redirecting)[0]} needs at least one redirect URI.",
            field="redirect_uris",
        )
    if public_client and GrantType.CLIENT_CREDENTIALS in grants:
        raise Invalid(
            "A public client has no secret, so it cannot use client_credentials.",
            field="grant_types",
        )
    return grants


def oauth_client_create(
    *,
    project: Project,
    created_by: User,
    name: str,
    description: str | None = None,
    grant_types: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    client_type: str = OAuthClient.ActsAs.USER,
    public_client: bool = False,
) -> tuple[OAuthClient, str | None]:
    """A new client and its secret, returned here and never again (None for a
    public client, which has no secret)."""
    if client_type not in OAuthClient.ActsAs.values:
        raise Invalid("client_type is user or project.", field="client_type")
    uris = _redirect_uris(redirect_uris or [])
    client = OAuthClient(
        project=project,
        user=created_by,
        name=_client_name(name),
        description=_client_description(description),
        grant_types=_grant_types(
            [GrantType.CLIENT_CREDENTIALS] if grant_types is None else grant_types,
            redirect_uris=uris,
            public_client=public_client,
        ),
        redirect_uris=" ".join(uris),
        acts_as=client_type,
        client_type=OAuthClient.CLIENT_PUBLIC
        if public_client
        else OAuthClient.CLIENT_CONFIDENTIAL,
    )
    secret = None if public_client else generate_client_secret()
    # DOT hashes the secret when the row is saved.
    client.client_secret = secret or ""
    client.hash_client_secret = not public_client
    with transaction.atomic():
        client.save()
        _audit_oauth_client(
            client, actor=created_by, action=Action.OAUTH_CLIENT_CREATED
        )
    return client, secret


def _audit_oauth_client(client: OAuthClient, *, actor: User | None, action: str):
    audit_record(
        organization_id=client.project.organization_id,
        actor=actor,
        action=action,
        target_type="oauth_client",
        target_id=client.pk,
        target_label=client.name or client.client_id,
        details={
            "client_id": client.client_id,
            "client_type": client.acts_as,
            "project_id": str(client.project_id),
        },
    )


def oauth_client_update(
    *,
    client: OAuthClient,
    name: str | None = None,
    description: str | None = None,
    grant_types: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    client_type: str | None = None,
) -> OAuthClient:
    """Change what was given (None leaves a field as it is), all or nothing.

    The client id, the secret and the client type never change; tokens already
    issued stay valid.
    """
    if client_type is not None and client_type != client.acts_as:
        raise Invalid(
            f"client_type cannot be changed (this client is a {client.acts_as} "
            "client). Create a new client instead.",
            field="client_type",
        )
    new_name = client.name if name is None else _client_name(name)
    new_description = (
        client.description if description is None else _client_description(description)
    )
    uris = (
        client.redirect_uri_list
        if redirect_uris is None
        else _redirect_uris(redirect_uris)
    )
    grants = _grant_types(
        client.grant_types if grant_types is None else grant_types,
        redirect_uris=uris,
        public_client=client.public_client,
    )
    client.name = new_name
    client.description = new_description
    client.redirect_uris = " ".join(uris)
    client.grant_types = grants
    client.save(
        update_fields=["name", "description", "redirect_uris", "grant_types", "updated"]
    )
    return client


@transaction.atomic
def oauth_client_regenerate_secret(
    *, client: OAuthClient, actor: User | None = None
) -> str:
    """A new secret, returned once; the old one stops working at once."""
    if client.public_client:
        raise Invalid(
            "A public client has no secret to regenerate; it proves itself with PKCE."
        )
    secret = generate_client_secret()
    client.client_secret = secret
    client.hash_client_secret = True
    client.save(update_fields=["client_secret", "hash_client_secret", "updated"])
    _audit_oauth_client(
        client, actor=actor, action=Action.OAUTH_CLIENT_SECRET_REGENERATED
    )
    return secret


@transaction.atomic
def oauth_client_delete(*, client: OAuthClient, actor: User | None = None) -> None:
    """Delete the client; its access and refresh tokens and pending authorization
    codes go with it (the token tables cascade), so they stop working at once."""
    _audit_oauth_client(client, actor=actor, action=Action.OAUTH_CLIENT_DELETED)
    client.delete()
