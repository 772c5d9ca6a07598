"""The Integrate tab (dashboard.md §7, checklist 140): how to call this task
from code, over the REST API or as an MCP tool.

The run call is pre-filled with the inputs of the caller's latest run of the
task (a run of their own, so always one they may see), or with placeholders.
Stored credentials are hashed, so a snippet names the chosen key and reads its
secret from an environment variable; a key made here is shown once, in the
answer to the POST that made it, and written into the snippets of that answer
only (as on Settings → API clients).

The tab lives in runs_app, next to the runs it reads; tasks_app sits below
runs_app and may not read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rightbrain.http import AuthedRequest
from rightbrain.orgs import selectors as org_selectors
from rightbrain.orgs import services as org_services
from rightbrain.orgs.credentials_views import TOKEN_PATH, client_env
from rightbrain.orgs.forms import ApiKeyForm
from rightbrain.orgs.models import ApiKey, OAuthClient
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import ProjectAccess
from rightbrain.orgs.tokens import decrypt_secret
from runs_app import selectors, snippets
from runs_app.models import TaskRun
from tasks_app import selectors as task_selectors
from tasks_app import services as task_services
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.input_processors import processor_named

INTEGRATE = "runs_app/task_integrate.html"
API_KEY_ENV = "RB_API_KEY"
TASK_TOKEN = "task-token"
PLACEHOLDER = "env"


@dataclass(frozen=True)
class Credential:
    """One choice of the credential picker."""

    value: str  # key:<id> | client:<id> | task-token
    label: str
    api_key: ApiKey | None = None
    client: OAuthClient | None = None


def _sdk_env(project: ProjectAccess) -> str:
    """The SDK's environment block, for when no OAuth client is chosen."""
    return "\n".join(
        [
            f"RB_ORG_ID={project.organization.pk}",
            f"RB_PROJECT_ID={project.project.pk}",
            f"RB_OAUTH2_URL={settings.SITE_ROOT}",
            f"RB_API_URL={settings.SITE_ROOT}/api/v1",
            "RB_CLIENT_ID=<your client id>",
            "RB_CLIENT_SECRET=<your client secret>",
            f"RB_OAUTH2_TOKEN_PATH={TOKEN_PATH}",
        ]
    )


def _base_url(request: AuthedRequest) -> str:
    # The address the person is using now, so a pasted command reaches it.
    return request.build_absolute_uri("/").rstrip("/")


def _credentials(request: AuthedRequest, access: TaskAccess) -> list[Credential]:
    """API keys and OAuth clients of the project the person may see (as on
    Settings → API clients, which only editors and up open), then the task's
    own token for those who may edit the task."""
    project = access.project
    choices = [Credential(PLACEHOLDER, f"An API key in ${API_KEY_ENV}")]
    if role_allows(project.role, Perm.PROJECT_MANAGE_CREDENTIALS):
        for key in org_selectors.api_keys_for(
            project=project.project, user=request.user, role=project.role
        ):
            choices.append(
                Credential(f"key:{key.pk}", f"API key · {key.name}", api_key=key)
            )
        for client in org_selectors.oauth_clients_for(
            project=project.project, user=request.user, role=project.role
        ):
            choices.append(
                Credential(
                    f"client:{client.pk}",
                    f"OAuth client · {client.name}",
                    client=client,
                )
            )
    if access.allows(Perm.TASK_EDIT):
        choices.append(Credential(TASK_TOKEN, "This task's access token"))
    return choices


def _chosen(choices: list[Credential], raw: str | None) -> Credential | None:
    """The picked credential, else the newest API key, else the first choice."""
    by_value = {choice.value: choice for choice in choices}
    if raw and raw in by_value:
        return by_value[raw]
    keys = [choice for choice in choices if choice.api_key is not None]
    return next(iter(keys or choices), None)


def _latest_own_run(request: AuthedRequest, access: TaskAccess) -> TaskRun | None:
    """The caller's latest successful run of the task, else their latest."""
    return (
        selectors.runs_for_task(
            task=access.task,
            sees_all=selectors.sees_all_runs(access.task, access.role),
            user_id=request.user.pk,
        )
        .filter(user_id=request.user.pk)
        .order_by("is_error", "-created", "-id")
        .first()
    )


def _task_input(params: list[str], run: TaskRun | None) -> dict[str, Any]:
    """Every variable of the live revisions, valued from the run where it has
    one, else a placeholder naming it."""
    submitted = ((run.run_data or {}).get("submitted") or {}) if run else {}
    return {name: submitted.get(name, f"<{name}>") for name in params}


@dataclass(frozen=True)
class LiveInputs:
    """What runs of the live revisions take."""

    params: list[str]  # their variables, in order
    files: bool  # a variable reads an uploaded document
    images: bool  # a model sees images
    images_required: bool  # a revision refuses runs without one


def _live_inputs(access: TaskAccess) -> LiveInputs:
    params: list[str] = []
    files = images = images_required = False
    for entry in task_selectors.traffic_of(task=access.task):
        revision = entry.task_revision
        images_required = images_required or revision.image_required
        params += [name for name in revision.input_params if name not in params]
        images = images or revision.llm_model.supports_vision
        for processor in revision.input_processors or []:
            definition = processor_named(processor.get("input_processor", ""))
            files = files or bool(definition and definition.accepts_files)
    return LiveInputs(params, files, images, images_required)


def _bearer(
    access: TaskAccess, chosen: Credential | None, new_secret: str | None
) -> tuple[snippets.Bearer, str | None]:
    """The bearer of the snippets and the secret in them (masked on screen)."""
    if chosen is None or chosen.value == PLACEHOLDER:
        return snippets.Bearer(API_KEY_ENV), None
    if chosen.value == TASK_TOKEN:
        token = decrypt_secret(access.task.access_token_encrypted)
        return snippets.Bearer("RB_TASK_TOKEN", token), token
    if chosen.client is not None:
        return snippets.Bearer("RB_ACCESS_TOKEN"), None
    return snippets.Bearer(API_KEY_ENV, new_secret), new_secret


def _api_context(
    request: AuthedRequest,
    access: TaskAccess,
    live: LiveInputs,
    chosen: Credential | None,
    new_secret: str | None,
) -> dict[str, Any]:
    """The run call in three languages, with the chosen credential."""
    project = access.project
    bearer, secret = _bearer(access, chosen, new_secret)
    client = chosen.client if chosen else None
    token_request = None
    if client is not None and "client_credentials" in client.grant_types:
        token_request = snippets.TokenRequest(_base_url(request) + TOKEN_PATH)
    run = _latest_own_run(request, access)
    url = snippets.run_url(
        _base_url(request), project.organization.pk, project.project.pk, access.task.pk
    )
    body = snippets.run_body(_task_input(live.params, run))
    code = {
        "curl": snippets.curl(url, body, bearer, token_request),
        "python": snippets.python(url, body, bearer, token_request),
        "javascript": snippets.javascript(url, body, bearer, token_request),
    }
    return {
        "bearer": bearer,
        "secret": secret,
        "token_request": token_request,
        "client_env": client_env(project, client) if client else "",
        "sdk_env": "" if client else _sdk_env(project),
        "run_url": url,
        "run_body": body,
        "from_run": run,
        "takes_files": live.files,
        "needs_image": live.images_required,
        "snippets": [
            {"name": name, "code": text, "shown": snippets.mask(text, secret)}
            for name, text in code.items()
        ],
        "docs_url": reverse("api:openapi-view"),
    }


def _mcp_context(
    request: AuthedRequest,
    access: TaskAccess,
    live: LiveInputs,
    keys: list[Credential],
    new_key: ApiKey | None,
    new_secret: str | None,
) -> dict[str, Any]:
    """The MCP server, the tool as it is listed, and a client configuration
    for the chosen key."""
    raw = request.GET.get("mcp_key") or request.GET.get("credential")
    mcp_key = _chosen(keys, f"key:{new_key.pk}" if new_key else raw)
    mcp_secret = (
        new_secret if new_key and mcp_key and mcp_key.api_key == new_key else None
    )
    mcp_url = _base_url(request) + "/mcp"
    config = snippets.mcp_config(mcp_url, snippets.Bearer(API_KEY_ENV, mcp_secret))
    return {
        "mcp_url": mcp_url,
        "mcp_keys": keys,
        "mcp_key": mcp_key,
        "mcp_config": config,
        "mcp_config_shown": snippets.mask(config, mcp_secret),
        "mcp_tool_name": snippets.mcp_tool_name(access.task.name),
        "mcp_schema": json.dumps(
            snippets.mcp_input_schema(live.params, images=live.images), indent=2
        ),
    }


def _context(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    new_key: ApiKey | None = None,
    new_secret: str | None = None,
    key_form: ApiKeyForm | None = None,
) -> dict[str, Any]:
    choices = _credentials(request, access)
    chosen = _chosen(
        choices, f"key:{new_key.pk}" if new_key else request.GET.get("credential")
    )
    keys = [choice for choice in choices if choice.api_key is not None]
    may_make_keys = role_allows(access.project.role, Perm.PROJECT_MANAGE_CREDENTIALS)
    live = _live_inputs(access)
    return {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": access.task,
        "credentials": choices,
        "chosen": chosen,
        "new_key": new_key,
        "new_secret": new_secret,
        "can_edit": access.allows(Perm.TASK_EDIT),
        "may_make_keys": may_make_keys,
        "key_form": key_form or (ApiKeyForm() if may_make_keys else None),
        **_api_context(request, access, live, chosen, new_secret),
        **_mcp_context(request, access, live, keys, new_key, new_secret),
    }


def _render(request: AuthedRequest, access: TaskAccess, **extra) -> HttpResponse:
    template = INTEGRATE
    if request.htmx and request.htmx.target == "integrate-body":
        template += "#integrate_body"
    return render(request, template, _context(request, access, **extra))


@require_GET
@login_required
def task_integrate(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    return _render(request, access)


@require_POST
@login_required
def task_integrate_key(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """Make an API key here and write its secret into the snippets, once."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    if not role_allows(access.project.role, Perm.PROJECT_MANAGE_CREDENTIALS):
        raise PermissionDenied
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            api_key, secret = org_services.api_key_create(
                project=access.project.project,
                user=request.user,
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            response = _render(request, access, new_key=api_key, new_secret=secret)
            response["HX-Trigger"] = "api-key-created"
            return response
    return _render(request, access, key_form=form)


@require_POST
@login_required
def task_integrate_mcp(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """Turn the task's MCP tool on or off (`mcp_enabled`)."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    enabled = request.POST.get("mcp_enabled") == "on"
    task_services.task_update(
        task=access.task, user=request.user, task_fields={"mcp_enabled": enabled}
    )
    access.task.mcp_enabled = enabled
    if not request.htmx:
        messages.success(
            request,
            "MCP clients can now call this task."
            if enabled
            else "The task is no longer offered to MCP clients.",
        )
        return redirect("task_integrate", project_id=project_id, task_id=task_id)
    response = _render(request, access)
    response["HX-Trigger"] = "mcp-toggled"
    return response
