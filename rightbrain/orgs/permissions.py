"""The permission matrix: which role may do what.

This is the only place that says so. Views, API handlers and the apps above ask
`role_allows(role, permission)`; each resolves the caller's effective role on its
own objects first (an organisation membership here; direct task grants in
tasks_app), so this module imports nothing from the apps above it.

Organisation roles apply to every project of the organisation:

    owner   everything, including the organisation's owners and its deletion
    admin   everything in every project, members (but not owners), projects,
            the audit log
    editor  create and change tasks, run them, share them
    viewer  read and run
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class TaskRole(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Perm(StrEnum):
    # Organisation
    ORG_VIEW = "org.view"
    ORG_MANAGE_MEMBERS = "org.manage_members"
    ORG_MANAGE_OWNERS = "org.manage_owners"
    ORG_MANAGE_PROJECTS = "org.manage_projects"
    ORG_RENAME = "org.rename"
    ORG_VIEW_AUDIT_LOG = "org.view_audit_log"
    # Project
    PROJECT_VIEW = "project.view"
    PROJECT_CREATE_TASK = "project.create_task"
    PROJECT_MANAGE_TAGS = "project.manage_tags"
    PROJECT_MANAGE_CREDENTIALS = "project.manage_credentials"
    PROJECT_MANAGE_FORWARDERS = "project.manage_forwarders"
    # Task (spec: domain.md §9.1)
    TASK_VIEW = "view"
    TASK_RUN = "run_task"
    TASK_EDIT = "edit"
    TASK_VIEW_MEMBERS = "view_members"
    TASK_ADD_MEMBER = "add_member"
    TASK_REMOVE_MEMBER = "remove_member"
    TASK_ADD_EDITOR = "add_editor"
    TASK_REMOVE_EDITOR = "remove_editor"
    TASK_ADD_OWNER = "add_owner"
    TASK_REMOVE_OWNER = "remove_owner"


_VIEWER = frozenset({Perm.ORG_VIEW, Perm.PROJECT_VIEW})
_EDITOR = _VIEWER | {
    Perm.PROJECT_CREATE_TASK,
    Perm.PROJECT_MANAGE_TAGS,
    Perm.PROJECT_MANAGE_CREDENTIALS,
    Perm.PROJECT_MANAGE_FORWARDERS,
}
_ADMIN = _EDITOR | {
    Perm.ORG_MANAGE_MEMBERS,
    Perm.ORG_MANAGE_PROJECTS,
    Perm.ORG_RENAME,
    Perm.ORG_VIEW_AUDIT_LOG,
}
_OWNER = _ADMIN | {Perm.ORG_MANAGE_OWNERS}

ORG_MATRIX: dict[str, frozenset[Perm]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

_TASK_VIEWER = frozenset({Perm.TASK_VIEW, Perm.TASK_RUN})
_TASK_EDITOR = _TASK_VIEWER | {
    Perm.TASK_EDIT,
    Perm.TASK_VIEW_MEMBERS,
    Perm.TASK_ADD_MEMBER,
    Perm.TASK_REMOVE_MEMBER,
}
_TASK_OWNER = _TASK_EDITOR | {
    Perm.TASK_ADD_EDITOR,
    Perm.TASK_REMOVE_EDITOR,
    Perm.TASK_ADD_OWNER,
    Perm.TASK_REMOVE_OWNER,
}

TASK_MATRIX: dict[str, frozenset[Perm]] = {
    TaskRole.VIEWER: _TASK_VIEWER,
    TaskRole.EDITOR: _TASK_EDITOR,
    TaskRole.OWNER: _TASK_OWNER,
}

# How an organisation role carries over to every task of the organisation
# (domain.md §9.2: org owner/admin → task owner).
TASK_ROLE_FROM_ORG_ROLE: dict[str, str] = {
    Role.OWNER: TaskRole.OWNER,
    Role.ADMIN: TaskRole.OWNER,
    Role.EDITOR: TaskRole.EDITOR,
    Role.VIEWER: TaskRole.VIEWER,
}

_ORG_RANK: dict[str, int] = {
    Role.VIEWER: 1,
    Role.EDITOR: 2,
    Role.ADMIN: 3,
    Role.OWNER: 4,
}
_TASK_RANK: dict[str, int] = {
    TaskRole.VIEWER: 1,
    TaskRole.EDITOR: 2,
    TaskRole.OWNER: 3,
}


def role_allows(role: str | None, perm: Perm) -> bool:
    """True when an organisation role grants `perm`. No role grants nothing."""
    if role is None:
        return False
    return perm in ORG_MATRIX.get(role, frozenset())


def task_role_allows(role: str | None, perm: Perm) -> bool:
    if role is None:
        return False
    return perm in TASK_MATRIX.get(role, frozenset())


def highest_task_role(*roles: str | None) -> str | None:
    """The strongest of several task roles (effective role = highest grant)."""
    present = [role for role in roles if role]
    return max(present, key=lambda role: _TASK_RANK[role], default=None)


def assignable_roles(actor_role: str | None) -> list[str]:
    """Organisation roles `actor_role` may hand out: only owners make owners."""
    if not role_allows(actor_role, Perm.ORG_MANAGE_MEMBERS):
        return []
    roles = [Role.ADMIN, Role.EDITOR, Role.VIEWER]
    if role_allows(actor_role, Perm.ORG_MANAGE_OWNERS):
        roles.insert(0, Role.OWNER)
    return [str(role) for role in roles]


def outranks_or_equals(actor_role: str | None, target_role: str) -> bool:
    """Whether an actor may act on a member holding `target_role`.

    Admins manage admins, editors and viewers; only owners touch owners.
    """
    if actor_role is None:
        return False
    if target_role == Role.OWNER:
        return role_allows(actor_role, Perm.ORG_MANAGE_OWNERS)
    return _ORG_RANK[actor_role] >= _ORG_RANK[target_role]
