"""Every write to organisations, projects, memberships and invitations.

Callers check permissions first (see `permissions.py`); these functions enforce
the invariants that must hold whoever calls them, such as "an organisation always
keeps an owner".
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rightbrain.orgs.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Project,
    User,
)
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.tokens import hash_token, new_token

DEFAULT_PROJECT_NAME = "Default project"


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
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    demoting_owner = membership.role == Role.OWNER and role != Role.OWNER
    if demoting_owner and len(_lock_owners(membership.organization_id)) <= 1:
        raise ValidationError(
            "The last owner cannot be demoted. Make someone else an owner first."
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if (
        membership.role == Role.OWNER
        and len(_lock_owners(membership.organization_id)) <= 1
    ):
        raise ValidationError(
            "The last owner cannot be removed. Make someone else an owner first."
        )
    membership.delete()


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
    secret = new_token(API_KEY_PREFIX)
    key = ApiKey.objects.create(
        project=project,
        user=user,
        name=name,
        prefix=secret[:8],
        key_hash=hash_token(secret),
    )
    return key, secret


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
