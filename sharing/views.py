"""Share pages (dashboard.md §9): managing a task's links, the project's list
of links, the public page `/s/<short_id>` with its run form, and cloning.

The per-task page lives at /projects/<project>/tasks/<task>/shares, next to
the task's other pages, and is linked from the project's Shares page.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import page_after
from runs_app import file_serving, file_types, files
from runs_app.display import friendly
from runs_app.models import RunFile, TaskRun
from runs_app.selectors import sees_all_runs
from runs_app.services import QueueUnavailable
from sharing import limits, selectors, services
from sharing.forms import CloneForm, ShareForm
from sharing.models import TaskShare
from sharing.public import RUN_FAILED, file_out, public_share_out
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.models import Task
from tasks_app.selectors import visible_tasks


class PublicRequest(HttpRequest):
    """A request to the public pages: maybe anonymous, maybe over htmx."""

    htmx: HtmxDetails


TASK_PAGE = "sharing/task_shares.html"
PUBLIC_PAGE = "sharing/share_public.html"
RUN_PANEL = "sharing/_share_public.html#run_panel"
RUN_RESULT = "sharing/_share_public.html#run_result"
# A visitor's run is shown only to whoever holds its signed poll address.
POLL_SALT = "sharing.run-poll"
POLL_MAX_AGE = 24 * 3600
PENDING = {TaskRun.Status.QUEUED, TaskRun.Status.RUNNING}
QUEUE_DOWN = "Runs cannot be started just now. Try again in a minute."
UNAVAILABLE_PAGE = "sharing/share_unavailable.html"
SHARES_PER_PAGE = 50


# Managing a task's links ------------------------------------------------------------


def _share_form(request: AuthedRequest, access: TaskAccess, data=None) -> ShareForm:
    task = access.task
    revisions = selectors.revisions_for_sharing(task=task)
    live = selectors.live_revision_ids(task=task)
    shareable = [r.pk for r in revisions if not services.shareable_problem(r)]
    default = next((pk for pk in live if pk in shareable), None) or next(
        iter(shareable), None
    )
    form = ShareForm(
        data,
        revisions=revisions,
        live_ids=set(live),
        runs=selectors.example_runs_for(
            task=task,
            sees_all=sees_all_runs(task, access.role),
            user_id=request.user.pk,
        ),
        initial={"task_revision": str(default or ""), "show_output": True},
    )
    # Choosing another revision offers that revision's runs as the example.
    form.fields["task_revision"].widget.attrs.update(
        {
            "hx-get": reverse("task_shares", args=[task.project_id, task.pk]),
            "hx-trigger": "change",
            "hx-target": "#share-example-field",
            "hx-swap": "outerHTML",
        }
    )
    return form


def _task_page(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    form: ShareForm | None = None,
    new_share: TaskShare | None = None,
    partial: str | None = None,
) -> HttpResponse:
    can_edit = access.allows(Perm.TASK_EDIT)
    context = {
        "nav": "shares",
        "access": access.project,
        "task": access.task,
        "can_edit": can_edit,
        "form": form or (_share_form(request, access) if can_edit else None),
        "shares": list(selectors.shares_of_task(task=access.task, with_tags=False)),
        # Share runs are runs of the task: listed for those who see them all.
        "share_runs": selectors.share_runs_of_task(task=access.task)
        if sees_all_runs(access.task, access.role)
        else None,
        "new_share": new_share,
    }
    template = f"{TASK_PAGE}#{partial}" if partial else TASK_PAGE
    return render(request, template, context)


@require_GET
@login_required
def task_shares(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    if request.htmx and request.htmx.target == "share-example-field":
        # The revision changed: offer that revision's runs as the example.
        form = _share_form(request, access)
        form.set_example_runs(request.GET.get("task_revision", ""))
        return render(
            request,
            f"{TASK_PAGE}#example_field",
            {"form": form, "task": access.task, "access": access.project},
        )
    return _task_page(request, access)


@require_POST
@login_required
def task_share_create(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    form = _share_form(request, access, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            share = services.share_create(
                task=access.task,
                user=request.user,
                title=data["title"],
                description=data["description"],
                task_revision_id=UUID(data["task_revision"]),
                task_run_id=UUID(data["task_run"]) if data["task_run"] else None,
                custom_short_id=data["custom_short_id"] or None,
                expires_at=data["expires_at"],
                expires_in_hours=data["expires_in_hours"],
                max_uses=data["max_uses"],
                allow_inputs=data["allow_inputs"],
                show_output=data["show_output"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if not request.htmx:
                messages.success(request, f"Share link ready: {share.url}")
                return redirect("task_shares", project_id=project_id, task_id=task_id)
            response = _task_page(
                request, access, new_share=share, partial="shares_panel"
            )
            response["HX-Trigger"] = "share-created"
            return response
    partial = "shares_panel" if request.htmx else None
    return _task_page(request, access, form=form, partial=partial)


@require_POST
@login_required
def task_share_revoke(
    request: AuthedRequest, project_id: UUID, task_id: UUID, share_id: UUID
) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    share = selectors.share_in_task(task=access.task, share_id=share_id)
    if share is None:
        raise Http404("This task has no such share link.")
    services.share_revoke(share=share, actor=request.user)
    messages.success(request, f"Revoked {share.path}: it no longer opens.")
    if not request.htmx:
        return redirect("task_shares", project_id=project_id, task_id=task_id)
    response = _task_page(request, access, partial="shares_panel")
    response["HX-Trigger"] = "share-revoked"
    return response


# The project's links -----------------------------------------------------------------


@require_GET
@login_required
def project_shares(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    access = project_for_user(request, project_id)
    try:
        cursor = UUID(request.GET["after"]) if request.GET.get("after") else None
    except ValueError:
        cursor = None
    shares, has_next = page_after(
        selectors.shares_of_project(project_id=project_id, with_tags=False),
        cursor=cursor,
        limit=SHARES_PER_PAGE,
    )
    tasks = list(
        visible_tasks(project_id=project_id, is_member=True, grant_keys=set()).only(
            "id", "name"
        )[:500]
    )
    return render(
        request,
        "sharing/project_shares.html",
        {
            "access": access,
            "nav": "shares",
            "shares": shares,
            "tasks": tasks,
            "next_cursor": shares[-1].pk if has_next else None,
            "paged": cursor is not None,
        },
    )


@require_GET
@login_required
def project_share_task(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """The Shares page's task picker: off to that task's share links."""
    project_for_user(request, project_id)
    try:
        task_id = UUID(request.GET.get("task", ""))
    except ValueError:
        messages.error(request, "Choose a task to share.")
        return redirect("project_shares", project_id=project_id)
    return redirect("task_shares", project_id=project_id, task_id=task_id)


# The public page -------------------------------------------------------------------


def _unavailable(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    heading = (
        "There is no link here" if status == 404 else "This link is no longer available"
    )
    return render(
        request, UNAVAILABLE_PAGE, {"reason": reason, "heading": heading}, status=status
    )


def _public_share(request: HttpRequest, short_id: str) -> TaskShare | HttpResponse:
    """The usable share, or the page that says why there is none."""
    share = selectors.share_for_public(short_id=short_id)
    if share is None:
        return _unavailable(request, "There is no share link at this address.", 404)
    try:
        services.share_check_usable(share)
    except services.ShareUnavailable as error:
        return _unavailable(request, error.message, 403)
    return share


def _input_fields(share: TaskShare, values: dict) -> list[dict]:
    revision = share.task_revision
    descriptions = revision.input_param_descriptions or {}
    return [
        {
            "name": name,
            "label": name.replace("_", " ").capitalize(),
            "value": values.get(name, ""),
            "help": descriptions.get(name, ""),
        }
        for name in revision.input_params
    ]


def _takes_files(share: TaskShare) -> bool:
    revision = share.task_revision
    return bool(
        revision.image_required
        or revision.llm_model.supports_vision
        or any(
            p.get("input_processor") == "document_content_extractor"
            for p in revision.input_processors or []
        )
    )


def _public_context(share: TaskShare, request: HttpRequest, **extra) -> dict:
    data = public_share_out(share)
    example = share.task_run
    submitted = data["example_run"]["run_data"]["submitted"] if example else {}
    example_values = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in submitted.items()
    }
    values = extra.pop("values", None)
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    clone_path = reverse("share_clone", args=[share.short_id])
    return {
        "share": share,
        "public": data,
        "page_title": share.title or share.task.name,
        "og_description": (
            share.description
            or share.task.description
            or "A shared LLM task: try it, then clone it into your own project."
        )[:300],
        "page_url": share.url,
        "example_inputs": example_values,
        "example_output": friendly(example.response)
        if example and share.show_output and not example.is_error
        else None,
        "example_failed": bool(example and example.is_error),
        "output_fields": _output_fields(share.task_revision.output_format),
        "inputs": _input_fields(share, example_values if values is None else values),
        "takes_files": _takes_files(share) and share.allow_inputs,
        "file_limits": {
            "count": settings.RB_MAX_FILES_PER_RUN,
            "megabytes": settings.RB_MAX_FILE_BYTES // 1_000_000,
        },
        "can_run": share.allow_inputs or example is not None,
        "used_up": share.is_used_up,
        "signed_in": signed_in,
        "clone_path": clone_path,
        "login_url": reverse("account_login") + "?" + urlencode({"next": clone_path}),
        "signup_url": reverse("account_signup") + "?" + urlencode({"next": clone_path}),
        **extra,
    }


def _output_fields(output_format, prefix: str = "") -> list[dict]:
    """The output schema as rows: name, type, description, nested ones
    indented under their parent."""
    rows: list[dict] = []
    for name, spec in (output_format or {}).items():
        if isinstance(spec, str):
            rows.append({"name": prefix + name, "type": spec, "description": ""})
            continue
        kind = str(spec.get("type", ""))
        if spec.get("item_type"):
            kind += f" of {spec['item_type']}"
        if spec.get("options"):
            kind += " (" + " | ".join(str(o) for o in spec["options"]) + ")"
        rows.append(
            {
                "name": prefix + name,
                "type": kind,
                "description": spec.get("description") or "",
            }
        )
        nested = spec.get("nested_structure")
        if isinstance(nested, dict):
            rows.extend(_output_fields(nested, prefix=f"{prefix}{name}."))
    return rows


def _noindex[R: HttpResponseBase](response: R) -> R:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def public_share(request: HttpRequest, short_id: str) -> HttpResponse:
    """`/s/<short_id>`: the shared task for anyone with the link."""
    found = _public_share(request, short_id)
    if isinstance(found, HttpResponse):
        return _noindex(found)
    services.share_view_record(share=found)
    return _noindex(render(request, PUBLIC_PAGE, _public_context(found, request)))


def _run_form_values(request: HttpRequest, share: TaskShare) -> dict:
    return {
        name: request.POST.get(f"input_{name}", "")
        for name in share.task_revision.input_params
    }


def _run_answer(
    request: PublicRequest, share: TaskShare, status: int = 200, **extra
) -> HttpResponse:
    """The run region over htmx, otherwise the whole page around it."""
    context = _public_context(share, request, **extra)
    template = RUN_PANEL if request.htmx else PUBLIC_PAGE
    return _noindex(render(request, template, context, status=status))


@require_POST
def public_share_run(request: PublicRequest, short_id: str) -> HttpResponse:
    """Run the shared task from its page: rate-limited per visitor address,
    counted against the link's uses, recorded as a share run."""
    retry_after = limits.share_run_refused(limits.visitor_address(request))
    found = _public_share(request, short_id)
    if isinstance(found, HttpResponse):
        return _noindex(found)
    share = found
    if retry_after is not None:
        response = _run_answer(
            request,
            share,
            status=429,
            run_error=f"That was a lot of runs in a short time. Try again in "
            f"{retry_after} seconds.",
        )
        response["Retry-After"] = str(retry_after)
        return response
    values = None
    try:
        values = _run_form_values(request, share) if share.allow_inputs else None
        uploads = (
            files.uploads_from_parts(request.FILES.getlist("task_files"))
            if share.allow_inputs
            else []
        )
        user = request.user if request.user.is_authenticated else None
        run = services.share_run_submit(
            share=share, task_input=values, uploads=uploads, user=user
        )
    except RequestDataTooBig:
        return _run_answer(
            request,
            share,
            status=413,
            values=values,
            run_error="That upload is too large.",
        )
    except DomainError as error:
        return _run_answer(
            request, share, status=error.status, values=values, run_error=error.message
        )
    except QueueUnavailable:
        return _run_answer(
            request, share, status=503, values=values, run_error=QUEUE_DOWN
        )
    return _run_answer(
        request, share, values=values, run=run, **_run_display(share, run)
    )


def _poll_url(share: TaskShare, run: TaskRun) -> str:
    token = signing.dumps([share.short_id, str(run.pk)], salt=POLL_SALT)
    return reverse("share_run_result", args=[share.short_id, token])


def _poll_run_id(share: TaskShare, token: str) -> UUID | None:
    """The run a poll address names, when it was made for this link."""
    try:
        short_id, run_id = signing.loads(token, salt=POLL_SALT, max_age=POLL_MAX_AGE)
        return UUID(run_id) if short_id == share.short_id else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


@require_GET
def public_share_run_result(
    request: PublicRequest, short_id: str, token: str
) -> HttpResponse:
    """A visitor's run as it stands: the result region while it is queued or
    running (polled over htmx, or the whole page with a refresh link), then
    its result. Reached only through the signed address the run form gave."""
    found = _public_share(request, short_id)
    if isinstance(found, HttpResponse):
        return _noindex(found)
    run_id = _poll_run_id(found, token)
    run = (
        None
        if run_id is None
        else selectors.share_run_made_through(share=found, task_run_id=run_id)
    )
    if run is None:
        raise Http404("This link has no such run.")
    if request.htmx:
        context = {"share": found, "run": run, **_run_display(found, run)}
        return _noindex(render(request, RUN_RESULT, context))
    return _run_answer(request, found, run=run, **_run_display(found, run))


def _run_display(share: TaskShare, run: TaskRun) -> dict:
    if run.status in PENDING:
        return {"pending": True, "poll_url": _poll_url(share, run)}
    if run.is_error:
        return {"result_error": RUN_FAILED}
    return {
        "run_output": friendly(run.response),
        "run_files": [
            {
                **file_out(share, file),
                "shown_as_image": file.direction == RunFile.Direction.OUTPUT
                and file.content_type in file_types.INLINE_TYPES,
            }
            for file in run.files.all()
        ],
    }


@require_GET
def share_file(
    request: HttpRequest, short_id: str, task_run_id: UUID, stored_filename: str
) -> HttpResponseBase:
    """A file of the example run or of a run made through this link."""
    found = _public_share(request, short_id)
    if isinstance(found, HttpResponse):
        return found
    file = selectors.share_run_file(
        share=found, task_run_id=task_run_id, stored_filename=stored_filename
    )
    if file is None:
        raise Http404("This link has no such file.")
    try:
        return _noindex(file_serving.file_download(file))
    except (files.StoredFileMissing, files.StoreUnavailable) as error:
        return _noindex(file_serving.refusal_for(error))


# Cloning ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def share_clone(request: AuthedRequest, short_id: str) -> HttpResponse:
    """Choose one of your projects and copy the shared task into it."""
    share = selectors.share_for_clone(short_id=short_id)
    if share is None:
        return _unavailable(request, "There is no share link at this address.", 404)
    try:
        services.share_check_usable(share)
        if share.is_used_up:
            raise services.ShareUnavailable(
                "This share link has been used as many times as its owner allows."
            )
    except services.ShareUnavailable as error:
        return _unavailable(request, error.message, 403)
    projects = selectors.projects_for_cloning(user=request.user)
    form = CloneForm(request.POST or None, projects=projects)
    if request.method == "POST" and form.is_valid():
        project = next(p for p in projects if str(p.pk) == form.cleaned_data["project"])
        try:
            task = services.task_clone(share=share, project=project, user=request.user)
        except services.ShareUnavailable as error:
            return _unavailable(request, error.message, 403)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Cloned “{share.task.name}” into {project.name} as “{task.name}”.",
            )
            return redirect(_cloned_task_page(task))
    return render(
        request,
        "sharing/share_clone.html",
        {"share": share, "form": form, "projects": projects},
    )


def _cloned_task_page(task: Task) -> str:
    """Where a fresh clone opens: its Run view (dashboard.md §9), or the
    project's task list, where it is first, on an instance without one."""
    try:
        return reverse("task_run", args=[task.project_id, task.pk])
    except NoReverseMatch:
        return reverse("project_home", args=[task.project_id])
