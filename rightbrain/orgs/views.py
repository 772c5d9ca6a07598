"""Landing, organisation creation, account settings and the admin console."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from rightbrain import health
from rightbrain.errors import BadRequest, Invalid
from rightbrain.http import AuthedRequest
from rightbrain.orgs import selectors, services
from rightbrain.orgs.access import CURRENT_PROJECT_SESSION_KEY, organization_for_user
from rightbrain.orgs.forms import (
    AuditFilterForm,
    InvitationForm,
    LimitsForm,
    NameForm,
    ProfileForm,
    RoleForm,
)
from rightbrain.orgs.models import AuditEvent, Invitation, Membership, Project
from rightbrain.orgs.permissions import (
    Perm,
    assignable_roles,
    outranks_or_equals,
    role_allows,
)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and the container HEALTHCHECK: each service's state.
    503 only when the database does not answer; without the cache or the broker
    Rightbrain still serves ("degraded")."""
    states = health.service_states()
    if not states["database"]:
        status = "error"
    elif all(states.values()):
        status = "ok"
    else:
        status = "degraded"
    body = {"status": status} | {
        service: "ok" if answers else "error" for service, answers in states.items()
    }
    return JsonResponse(body, status=503 if status == "error" else 200)


@require_GET
@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """Send people to the project they used last, or to their first one."""
    remembered = request.session.get(CURRENT_PROJECT_SESSION_KEY)
    if remembered:
        try:
            access = selectors.project_access_for(
                user=request.user,
                project_id=UUID(remembered),
            )
        except ValueError:
            access = None
        if access is not None and not access.project.is_archived:
            return redirect("project_home", project_id=access.project.pk)
    project = selectors.first_project_for(user=request.user)
    if project is not None:
        return redirect("project_home", project_id=project.pk)
    return render(request, "orgs/home_no_organization.html", {"form": NameForm()})


@require_http_methods(["GET", "POST"])
@login_required
def organization_create(request: AuthedRequest) -> HttpResponse:
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(
                name=form.cleaned_data["name"],
                owner=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            project = organization.projects.get()
            messages.success(request, f"Created {organization.name}.")
            return redirect("project_home", project_id=project.pk)
    return render(
        request, "orgs/organization_create.html", {"form": form, "nav": "settings"}
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_settings(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial={"name": user.name})
    if request.method == "POST" and form.is_valid():
        user.name = form.cleaned_data["name"]
        user.save(update_fields=["name"])
        messages.success(request, "Saved your profile.")
        return redirect("account_settings")
    return render(
        request, "orgs/settings_account.html", {"form": form, "nav": "settings"}
    )


@require_POST
@login_required
def organization_leave(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    """Leave an organisation: any member may, except its last owner."""
    membership = organization_for_user(request, org_id)
    try:
        services.membership_leave(membership=membership)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("account_settings")
    messages.success(request, f"You left {membership.organization.name}.")
    return redirect("home")


# The admin console ------------------------------------------------------------


def _members_context(request: AuthedRequest, membership: Membership, **extra) -> dict:
    organization = membership.organization
    members = list(selectors.members_of(organization=organization))
    for member in members:
        # Which rows the viewer may act on; the template only shows what is allowed.
        can_manage = member.pk != membership.pk and outranks_or_equals(
            membership.role, member.role
        )
        member.can_manage = can_manage  # type: ignore[attr-defined]
    assignable = assignable_roles(membership.role)
    return {
        "nav": "settings",
        "organization": organization,
        "membership": membership,
        "members": members,
        "invitation_days": settings.RB_INVITATION_DAYS,
        "invitations": selectors.pending_invitations_of(organization=organization),
        "assignable_roles": [(r, r.title()) for r in assignable],
        "invite_form": extra.pop("invite_form", None)
        or InvitationForm(assignable=assignable),
        **extra,
    }


def _render_members(request: AuthedRequest, membership: Membership, **extra):
    template = "orgs/console_members.html"
    if request.htmx:
        template += "#members_panel"
    return render(request, template, _members_context(request, membership, **extra))


@require_GET
@login_required
def console_members(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    membership = organization_for_user(request, org_id, Perm.ORG_MANAGE_MEMBERS)
    return _render_members(request, membership)


@require_POST
@login_required
def console_invite(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    membership = organization_for_user(request, org_id, Perm.ORG_MANAGE_MEMBERS)
    form = InvitationForm(request.POST, assignable=assignable_roles(membership.role))
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                organization=membership.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            if not request.htmx:
                return redirect("console_members", org_id=org_id)
            return _render_members(request, membership)
    # Errors re-render the form with its messages, as a fragment or a full page.
    return _render_members(request, membership, invite_form=form)


def _managed_membership(
    request: AuthedRequest, org_id: UUID, membership_id: UUID
) -> tuple[Membership, Membership]:
    """(the actor's membership, the target membership) or 404/403."""
    actor = organization_for_user(request, org_id, Perm.ORG_MANAGE_MEMBERS)
    target = get_object_or_404(
        Membership.objects.select_related("user"),
        pk=membership_id,
        organization_id=org_id,
    )
    if not outranks_or_equals(actor.role, target.role):
        raise PermissionDenied
    return actor, target


def _after_member_change(request: AuthedRequest, actor: Membership, org_id: UUID):
    if not request.htmx:
        return redirect("console_members", org_id=org_id)
    return _render_members(request, actor)


@require_POST
@login_required
def console_member_role(
    request: AuthedRequest, org_id: UUID, membership_id: UUID
) -> HttpResponse:
    actor, target = _managed_membership(request, org_id, membership_id)
    form = RoleForm(request.POST, assignable=assignable_roles(actor.role))
    if not form.is_valid():
        messages.error(request, "Choose one of the roles offered.")
        return _after_member_change(request, actor, org_id)
    try:
        services.membership_role_change(
            membership=target, role=form.cleaned_data["role"], actor=request.user
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"{target.user} is now {target.get_role_display()}.")
    if target.user_id == request.user.pk and not role_allows(
        target.role, Perm.ORG_MANAGE_MEMBERS
    ):
        # People who step down from admin can no longer see this page.
        url = reverse("home")
        if request.htmx:
            return HttpResponseClientRedirect(url)
        return redirect(url)
    return _after_member_change(request, actor, org_id)


@require_POST
@login_required
def console_member_remove(
    request: AuthedRequest, org_id: UUID, membership_id: UUID
) -> HttpResponse:
    actor, target = _managed_membership(request, org_id, membership_id)
    try:
        services.membership_remove(membership=target, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _after_member_change(request, actor, org_id)
    messages.success(request, f"Removed {target.user} from {actor.organization}.")
    if target.user_id == request.user.pk:
        if request.htmx:
            return HttpResponseClientRedirect(reverse("home"))
        return redirect("home")
    return _after_member_change(request, actor, org_id)


@require_POST
@login_required
def console_invitation_revoke(
    request: AuthedRequest, org_id: UUID, invitation_id: UUID
) -> HttpResponse:
    actor = organization_for_user(request, org_id, Perm.ORG_MANAGE_MEMBERS)
    invitation = get_object_or_404(Invitation, pk=invitation_id, organization_id=org_id)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"Withdrew the invitation to {invitation.email}.")
    return _after_member_change(request, actor, org_id)


def _render_projects(request: AuthedRequest, membership: Membership, **extra):
    template = "orgs/console_projects.html"
    if request.htmx:
        template += "#projects_panel"
    # A refused limits form is shown again, open, with its errors.
    refused = extra.pop("refused_limits", None)
    projects = list(selectors.projects_of(organization=membership.organization))
    for project in projects:
        project.limits_form = (  # type: ignore[attr-defined]
            refused
            if refused is not None and refused.owner_pk == project.pk
            else _project_limits_form(project)
        )
    context = {
        "nav": "settings",
        "organization": membership.organization,
        "membership": membership,
        "projects": projects,
        "create_form": extra.pop("create_form", None) or NameForm(),
        **extra,
    }
    return render(request, template, context)


def _project_limits_form(project: Project, data=None) -> LimitsForm:
    defaults = (
        settings.RB_PROJECT_REQUESTS_PER_MINUTE,
        settings.RB_PROJECT_RUNS_PER_MINUTE,
    )
    return LimitsForm(data, owner=project, defaults=defaults)


def _after_project_change(request: AuthedRequest, membership: Membership):
    if not request.htmx:
        return redirect("console_projects", org_id=membership.organization_id)
    return _render_projects(request, membership)


@require_GET
@login_required
def console_projects(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    membership = organization_for_user(request, org_id, Perm.ORG_MANAGE_PROJECTS)
    return _render_projects(request, membership)


@require_POST
@login_required
def console_project_create(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    membership = organization_for_user(request, org_id, Perm.ORG_MANAGE_PROJECTS)
    form = NameForm(request.POST)
    if form.is_valid():
        try:
            project = services.project_create(
                organization=membership.organization, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            form.add_error("name", error.message_dict.get("name", error.messages))
        else:
            messages.success(request, f"Created project {project.name}.")
            return _after_project_change(request, membership)
    return _render_projects(request, membership, create_form=form)


def _managed_project(
    request: AuthedRequest, org_id: UUID, project_id: UUID
) -> tuple[Membership, Project]:
    membership = organization_for_user(request, org_id, Perm.ORG_MANAGE_PROJECTS)
    project = get_object_or_404(Project, pk=project_id, organization_id=org_id)
    return membership, project


@require_POST
@login_required
def console_project_rename(
    request: AuthedRequest, org_id: UUID, project_id: UUID
) -> HttpResponse:
    membership, project = _managed_project(request, org_id, project_id)
    form = NameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A project needs a name of at most 100 characters.")
        return _after_project_change(request, membership)
    try:
        services.project_rename(project=project, name=form.cleaned_data["name"])
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Renamed the project to {project.name}.")
    return _after_project_change(request, membership)


@require_POST
@login_required
def console_project_limits(
    request: AuthedRequest, org_id: UUID, project_id: UUID
) -> HttpResponse:
    """Set the project's rate limits and monthly budget (owners and admins)."""
    membership, project = _managed_project(request, org_id, project_id)
    form = _project_limits_form(project, request.POST)
    if form.is_valid():
        try:
            services.project_limits_set(project=project, limits=form.limits())
        except Invalid as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Saved the limits and budget of {project.name}.")
            return _after_project_change(request, membership)
    return _render_projects(request, membership, refused_limits=form)


@require_POST
@login_required
def console_project_archive(
    request: AuthedRequest, org_id: UUID, project_id: UUID
) -> HttpResponse:
    membership, project = _managed_project(request, org_id, project_id)
    try:
        services.project_archive(project=project)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Archived {project.name}.")
    return _after_project_change(request, membership)


@require_POST
@login_required
def console_project_restore(
    request: AuthedRequest, org_id: UUID, project_id: UUID
) -> HttpResponse:
    membership, project = _managed_project(request, org_id, project_id)
    try:
        services.project_restore(project=project)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Restored {project.name}.")
    return _after_project_change(request, membership)


AUDIT_EVENTS_PER_PAGE = 50


def _detail_text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return "—" if value is None else str(value)


def _detail_rows(event: AuditEvent) -> list[tuple[str, str]]:
    return [
        (key.replace("_", " "), _detail_text(value))
        for key, value in event.details.items()
    ]


@require_GET
@login_required
def console_audit(request: AuthedRequest, org_id: UUID) -> HttpResponse:
    """Who changed what in the organisation, newest first (owners and admins)."""
    membership = organization_for_user(request, org_id, Perm.ORG_VIEW_AUDIT_LOG)
    filters = AuditFilterForm(request.GET)
    filters.is_valid()
    query = filters.cleaned_data
    action = query.get("action") or None
    events = selectors.audit_events_of(organization_id=org_id, action=action)
    try:
        page, has_next = selectors.page_after(
            events, cursor=query.get("after"), limit=AUDIT_EVENTS_PER_PAGE
        )
    except BadRequest:
        # A cursor from another organisation or filter: start from the newest.
        url = reverse("console_audit", args=[org_id])
        return redirect(f"{url}?action={action}" if action else url)
    for event in page:
        event.detail_rows = _detail_rows(event)  # type: ignore[attr-defined]
    context = {
        "nav": "settings",
        "organization": membership.organization,
        "membership": membership,
        "filters": filters,
        "events": page,
        "filtered": action is not None,
        "paged": query.get("after") is not None,
        "next_cursor": page[-1].pk if has_next else None,
    }
    template = "orgs/console_audit.html"
    if request.htmx and request.htmx.target == "audit-results":
        template += "#results"
    return render(request, template, context)


# Invitations -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; signed-in invitees accept it with a POST."""
    invitation = selectors.invitation_for_token(token=token)
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    error = None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, f"Welcome to {invitation.organization.name}.")
            project = (
                invitation.organization.projects.filter(archived_at__isnull=True)
                .order_by("created")
                .first()
            )
            if project is None:
                return redirect("home")
            return redirect("project_home", project_id=project.pk)
    status = 200 if error is None else 400
    return render(
        request,
        "orgs/invitation_accept.html",
        {"invitation": invitation, "error": error},
        status=status,
    )
