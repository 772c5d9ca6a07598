"""A task's members (dashboard.md §10, checklist 145): the direct grants on the
task, who else has access through the organisation, and adding, changing or
removing a grant.

The same rules as the IAM API (api.md §7.3) through the same services: each
role touched needs its permission (owner ↔ add_owner/remove_owner, editor ↔
add_editor/remove_editor, viewer ↔ add_member/remove_member), a member holds
one role at most, and the page offers only what the caller may do; a request
for anything else is refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from rightbrain.http import AuthedRequest
from rightbrain.orgs.permissions import Perm, Role, TaskRole
from tasks_app import selectors, services
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.models import TaskMember

MEMBERS = "tasks_app/task_members.html"
ROLE_LABELS = dict(TaskRole.choices)
GROUP_LABELS: dict[str, str] = {
    TaskMember.SubjectType.USER: "People",
    TaskMember.SubjectType.ORGANIZATION: "The organisation",
    TaskMember.SubjectType.PROJECT: "Projects",
}


@dataclass
class MemberRow:
    """One direct grant as the caller sees it."""

    member: str
    subject_type: str
    name: str
    role: str
    total_subjects: int
    # (role, label) the caller may switch it to, its own role included
    roles_offered: list[tuple[str, str]]
    removable: bool

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class AddMemberForm(forms.Form):
    member = forms.ChoiceField(label="Member")
    role = forms.ChoiceField(label="Role", choices=TaskRole.choices)

    def __init__(self, *args, subjects: list[tuple[str, str, str]], roles, **kwargs):
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        assert isinstance(member, forms.ChoiceField)
        groups: dict[str, list[tuple[str, str]]] = {}
        for value, subject_type, label in subjects:
            groups.setdefault(subject_type, []).append((value, label))
        choices: list[tuple[str, Any]] = [("", "Choose…")]
        choices += [(GROUP_LABELS[kind], group) for kind, group in groups.items()]
        member.choices = choices
        # Every role validates; one the caller may not hand out is refused
        # with 403 after validation, as the API does.
        self.roles_offered = roles
        self.labels = {value: label for value, _kind, label in subjects}


def _allowed(access: TaskAccess, current: list[str], role: str | None) -> bool:
    """Whether the caller may make `current` into exactly `role` (or none)."""
    needed = services.permissions_needed(
        current=current, add=[role] if role else [], remove=[], remove_all=True
    )
    return all(access.allows(Perm(perm)) for perm in needed)


def _rows(access: TaskAccess) -> list[MemberRow]:
    grants = list(selectors.task_grants(task=access.task))
    names = selectors.subject_names(grants=grants)
    rows = []
    for grant in grants:
        name, size = names.get(grant.member, (grant.member, 1))
        rows.append(
            MemberRow(
                member=grant.member,
                subject_type=grant.subject_type,
                name=name,
                role=grant.role,
                total_subjects=size,
                roles_offered=[
                    (role, label)
                    for role, label in TaskRole.choices
                    if role == grant.role or _allowed(access, [grant.role], role)
                ],
                removable=_allowed(access, [grant.role], None),
            )
        )
    return rows


def _addable_roles(access: TaskAccess) -> list[tuple[str, str]]:
    return [
        (role, label) for role, label in TaskRole.choices if _allowed(access, [], role)
    ]


def _add_form(access: TaskAccess, data=None) -> AddMemberForm:
    return AddMemberForm(
        data,
        subjects=selectors.member_subjects(organization=access.project.organization),
        roles=_addable_roles(access),
        initial={"role": TaskRole.VIEWER},
    )


def _page(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    form: AddMemberForm | None = None,
    panel_only: bool = False,
) -> HttpResponse:
    counts = selectors.organization_role_counts(
        organization_id=access.project.organization.pk
    )
    addable = _addable_roles(access)
    context: dict[str, Any] = {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": access.task,
        "rows": _rows(access),
        "form": form or (_add_form(access) if addable else None),
        "addable_roles": addable,
        "inherited": [
            (
                Role.OWNER.label + "s and admins",
                "owner",
                counts.get(Role.OWNER, 0) + counts.get(Role.ADMIN, 0),
            ),
            (Role.EDITOR.label + "s", "editor", counts.get(Role.EDITOR, 0)),
            (Role.VIEWER.label + "s", "viewer", counts.get(Role.VIEWER, 0)),
        ],
    }
    template = f"{MEMBERS}#members_panel" if panel_only else MEMBERS
    return render(request, template, context)


def _done(request: AuthedRequest, access: TaskAccess, message: str) -> HttpResponse:
    """After a change: the members again, as the caller may now see them; the
    project's tasks if their own change took that right away."""
    messages.success(request, message)
    project_id, task_id = access.project.project.pk, access.task.pk
    try:
        access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW_MEMBERS)
    except (PermissionDenied, Http404):
        home = reverse("project_home", args=[project_id])
        return HttpResponseClientRedirect(home) if request.htmx else redirect(home)
    if not request.htmx:
        return redirect("task_members", project_id=project_id, task_id=task_id)
    response = _page(request, access, panel_only=True)
    response["HX-Trigger"] = "task-members-changed"
    return response


def _current_roles(access: TaskAccess, member: str) -> list[str]:
    subject_type, _, subject_id = member.partition(":")
    return list(
        TaskMember.objects.filter(
            task=access.task, subject_type=subject_type, subject_id=UUID(subject_id)
        ).values_list("role", flat=True)
    )


@require_http_methods(["GET", "POST"])
@login_required
def task_members(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """The members and, by POST, a new direct grant."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW_MEMBERS)
    if request.method == "GET":
        return _page(request, access)
    form = _add_form(access, request.POST)
    if form.is_valid():
        member, role = form.cleaned_data["member"], form.cleaned_data["role"]
        if not _allowed(access, [], role):
            raise PermissionDenied
        if _current_roles(access, member):
            form.add_error(
                "member", "They already have a role on this task: change it below."
            )
        else:
            subject_type, _, subject_id = member.partition(":")
            services.task_member_set_role(
                task=access.task,
                subject_type=subject_type,
                subject_id=UUID(subject_id),
                role=role,
                actor=request.user,
            )
            label = form.labels[member]
            return _done(
                request, access, f"{label} is now {ROLE_LABELS[role].lower()}."
            )
    return _page(request, access, form=form, panel_only=bool(request.htmx))


@require_POST
@login_required
def task_member_update(
    request: AuthedRequest, project_id: UUID, task_id: UUID, member: str
) -> HttpResponse:
    """Change a direct grant's role, or remove it (`role` empty)."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW_MEMBERS)
    try:
        current = _current_roles(access, member)
    except ValueError:
        current = []
    if not current:
        raise Http404("No such member of this task.")
    role = request.POST.get("role", "") or None
    if role is not None and role not in TaskRole.values:
        raise BadRequest("A task role is owner, editor or viewer.")
    if not _allowed(access, current, role):
        raise PermissionDenied
    subject_type, _, subject_id = member.partition(":")
    services.task_member_set_role(
        task=access.task,
        subject_type=subject_type,
        subject_id=UUID(subject_id),
        role=role,
        actor=request.user,
    )
    if role is None:
        return _done(request, access, "Removed the member's role on this task.")
    return _done(request, access, f"Changed the role to {ROLE_LABELS[role].lower()}.")
