"""The dashboard's task pages (dashboard.md §1, §2, §5, §12): the task list, the
editor (create and edit), the template gallery and revisions with traffic.

Each view reads as: scoped fetch (permission helper) → validate → one service
call → render or redirect. One template per page; the regions htmx re-renders
are inline partials rendered as "page.html#part".
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from rightbrain.errors import BadRequest, DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import ProjectAccess, page_after
from tasks_app import gallery, schema_editor, selectors, services, tag_views
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.forms import (
    INPUT_FORMATS,
    MODALITIES,
    ModelChoice,
    PropertyForm,
    TaskEditorForm,
    TaskListFilterForm,
    describe_format_error,
    initial_for_new,
    initial_from_revision,
    initial_from_template,
)
from tasks_app.models import LLMModel, Tag, TaskRevision
from tasks_app.output_format import OutputFormatError

TASKS_PER_PAGE = 25


# The task list (dashboard.md §1) ---------------------------------------------------


@dataclass(frozen=True)
class TagChoice:
    id: UUID
    name: str
    depth: int

    @property
    def label(self) -> str:
        return "\u2003" * self.depth + self.name


def tag_tree(tags: list[Tag]) -> list[TagChoice]:
    """Tags in tree order (parents before their children, siblings by name)."""
    children: dict[UUID | None, list[Tag]] = {}
    for tag in sorted(tags, key=lambda t: t.name.lower()):
        children.setdefault(tag.parent_id, []).append(tag)
    ordered: list[TagChoice] = []

    def walk(parent: UUID | None, depth: int) -> None:
        for tag in children.get(parent, []):
            ordered.append(TagChoice(tag.pk, tag.name, depth))
            walk(tag.pk, depth + 1)

    walk(None, 0)
    return ordered


@require_GET
@login_required
def project_home(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """The project's task list, newest first, searchable by name and tag."""
    access = project_for_user(request, project_id)
    tags = tag_tree(
        selectors.tags_of(project_id=project_id, entity_type=Tag.EntityType.TASK)
    )
    filters = TaskListFilterForm(request.GET, tags=tags)
    filters.is_valid()
    query = filters.cleaned_data
    tasks = selectors.visible_tasks(
        project_id=project_id,
        is_member=True,
        grant_keys=set(),
        name=query.get("q") or None,
        tag_id=query.get("tag"),
    )
    try:
        page, has_next, total = selectors.tasks_page(
            selectors.with_list_details(tasks),
            cursor=query.get("after"),
            limit=TASKS_PER_PAGE,
            grant_keys=set(),
        )
    except BadRequest:
        # A cursor from a task that has since gone: start from the newest.
        return redirect("project_home", project_id=project_id)
    filtered = bool(query.get("q") or query.get("tag"))
    context = {
        "access": access,
        "nav": "tasks",
        "filters": filters,
        "tags": tags,
        "tasks": page,
        "total": total,
        "filtered": filtered,
        "paged": query.get("after") is not None,
        "next_cursor": page[-1].pk if has_next else None,
        "can_create": role_allows(access.role, Perm.PROJECT_CREATE_TASK),
    }
    template = "tasks_app/project_home.html"
    if request.htmx and request.htmx.target == "task-results":
        template += "#results"
    return render(request, template, context)


# The editor: create and edit (dashboard.md §2) -------------------------------------

EDITOR = "tasks_app/task_editor.html"
# What a refresh action re-renders: the part of the editor it changes.
REFRESH_PARTS = {
    "inputs": "inputs",
    "model": "model_settings",
    "name": "name_errors",
    "schema:parse": "schema_visual",
}


def _model_choices(current: LLMModel | None = None) -> list[ModelChoice]:
    """The models offered for new choices (retired ones hidden), plus the one a
    revision being edited uses, even if it has since retired."""
    choices = [
        ModelChoice(model)
        for model in selectors.models_for_listing(include_retired=False)
    ]
    if current is not None and all(c.model.pk != current.pk for c in choices):
        choices.append(ModelChoice(current, current=True))
    return choices


def _editor_form(
    data: QueryDict | None,
    *,
    project: ProjectAccess,
    models: list[ModelChoice],
    initial: dict[str, Any] | None = None,
    editing: bool,
) -> TaskEditorForm:
    return TaskEditorForm(
        data,
        initial=initial,
        models=models,
        forwarders=list(selectors.forwarders_of(project_id=project.project.pk)[:200]),
        editing=editing,
    )


def _wire(form: TaskEditorForm, url: str) -> None:
    """htmx attributes for the fields whose edits refresh part of the editor.
    Each sends the whole form (it sits inside it) and names its action."""

    def live(field: str, action: str, target: str, trigger: str) -> None:
        if field in form.fields:
            form.fields[field].widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": trigger,
                    "hx-target": target,
                    "hx-swap": "outerHTML",
                    "hx-vals": json.dumps({"editor_action": action}),
                }
            )

    live("user_prompt", "inputs", "#io-inputs", "input changed delay:400ms")
    live("name", "name", "#name-errors", "input changed delay:300ms")
    live("output_format", "schema:parse", "#schema-visual", "input changed delay:500ms")


def _schema_context(
    form: TaskEditorForm, property_form: PropertyForm | None = None
) -> dict[str, Any]:
    text = form["output_format"].value() or ""
    parsed = schema_editor.parse_format_text(text)
    return {
        "schema": parsed,
        "schema_error": describe_format_error(parsed.error) if parsed.error else "",
        "properties": schema_editor.property_views(parsed.value),
        "property_form": property_form or PropertyForm(),
    }


def _editor_context(
    request: AuthedRequest,
    form: TaskEditorForm,
    *,
    project: ProjectAccess,
    url: str,
    task_access: TaskAccess | None = None,
    show_errors: bool = False,
    property_form: PropertyForm | None = None,
) -> dict[str, Any]:
    _wire(form, url)
    error_tabs = form.tabs_with_errors() if show_errors else set()
    tab = form["tab"].value() or "prompts"
    if error_tabs and tab not in error_tabs:
        tab = next(t for t in ("prompts", "io", "settings") if t in error_tabs)
    schema_view = request.POST.get("schema_view", "visual")
    return {
        "access": project,
        "nav": "tasks",
        "form": form,
        "editor_url": url,
        "task_access": task_access,
        "task": task_access.task if task_access else None,
        "show_errors": show_errors,
        "error_tabs": error_tabs,
        "active_tab": tab,
        "schema_view": "json" if schema_view == "json" else "visual",
        "modalities": MODALITIES,
        "input_formats": INPUT_FORMATS,
        **_schema_context(form, property_form),
    }


def _schema_action(
    request: AuthedRequest, form: TaskEditorForm, action: str
) -> tuple[TaskEditorForm, PropertyForm]:
    """Apply a Visual action to the format in the JSON view; the form comes
    back holding the new JSON, the property form holding what to show next."""
    verb, _, path = action.removeprefix("schema:").partition(":")
    parsed = schema_editor.parse_format_text(form["output_format"].value() or "")
    property_form = PropertyForm()
    if not parsed.ok:
        # Nothing to act on until the JSON reads again; its error is shown.
        return form, property_form
    value = parsed.value
    try:
        if verb == "save":
            property_form = PropertyForm(request.POST)
            if not property_form.is_valid():
                return form, property_form
            value = schema_editor.property_set(value, property_form.property_input())
            property_form = PropertyForm()
        elif verb == "edit":
            property_form = PropertyForm.for_property(
                schema_editor.property_spec(value, path)
            )
        elif verb == "sub":
            property_form = PropertyForm(initial={"prop_parent": path})
        elif verb == "remove":
            value = schema_editor.property_remove(value, path)
    except OutputFormatError as error:
        field = "prop_options" if error.path.endswith(".options") else "prop_name"
        property_form.add_error(field, describe_format_error(error))
        return form, property_form
    data = request.POST.copy()
    data["output_format"] = schema_editor.format_text(value)
    return form.__class__(
        data,
        models=form.models,
        forwarders=form.forwarders,
        editing=form.editing,
    ), property_form


def _editor_response(
    request: AuthedRequest,
    form: TaskEditorForm,
    *,
    project: ProjectAccess,
    url: str,
    task_access: TaskAccess | None = None,
) -> HttpResponse | None:
    """The answer to a refresh action (anything but Save), or None for Save."""
    action = request.POST.get("editor_action", "save")
    if action == "save":
        return None
    property_form = None
    part = REFRESH_PARTS.get(action)
    if action.startswith("schema:") and part is None:
        form, property_form = _schema_action(request, form, action)
        part = "schema_editor"
    if part is None:
        raise BadRequest("Unknown editor action.")
    context = _editor_context(
        request,
        form,
        project=project,
        url=url,
        task_access=task_access,
        property_form=property_form,
    )
    context["inputs_oob"] = part == "inputs"
    if part == "name_errors":
        try:
            services.validate_task_name(request.POST.get("name", ""))
        except DomainError as error:
            context["name_error"] = error.message
    template = f"{EDITOR}#{part}" if request.htmx else EDITOR
    return render(request, template, context)


def _editor_page(
    request: AuthedRequest, form: TaskEditorForm, **context: Any
) -> HttpResponse:
    """The editor again, with its errors: the whole form over htmx, else the page.
    Always 200, so htmx swaps it in."""
    ctx = _editor_context(request, form, show_errors=True, **context)
    return render(request, f"{EDITOR}#editor" if request.htmx else EDITOR, ctx)


def _go(request: AuthedRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_http_methods(["GET", "POST"])
@login_required
def task_create(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """Create Task: nothing is saved until Create task; then the Run view."""
    project = project_for_user(request, project_id, Perm.PROJECT_CREATE_TASK)
    url = reverse("task_create", args=[project_id])
    models = _model_choices()
    if request.method == "GET":
        template = gallery.template_named(request.GET.get("template", ""))
        initial = (
            initial_from_template(template, models)
            if template
            else initial_for_new(models)
        )
        form = _editor_form(
            None, project=project, models=models, initial=initial, editing=False
        )
        return render(
            request,
            EDITOR,
            _editor_context(request, form, project=project, url=url)
            | {"template": template},
        )
    form = _editor_form(request.POST, project=project, models=models, editing=False)
    refreshed = _editor_response(request, form, project=project, url=url)
    if refreshed is not None:
        return refreshed
    if form.is_valid():
        try:
            task = services.task_create(
                project=project.project,
                user=request.user,
                revision=form.revision_spec(),
                **form.task_fields(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Created {task.name}. Try it out.")
            return _go(request, reverse("task_run", args=[project_id, task.pk]))
    return _editor_page(request, form, project=project, url=url)


def _source_revision(access: TaskAccess, revision_id: Any) -> TaskRevision:
    """The revision the editor starts from: the one asked for, else the one
    with the most traffic."""
    if revision_id:
        revision = selectors.revision_of_task(
            task_id=access.task.pk, revision_id=revision_id
        )
        if revision is None:
            raise Http404("This task has no such revision.")
        return revision
    return services.base_revision(access.task)


@require_http_methods(["GET", "POST"])
@login_required
def task_edit(request: AuthedRequest, project_id: UUID, task_id: UUID) -> HttpResponse:
    """The editor on an existing task: saving makes a new revision, live only
    if "Make live" is ticked."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    url = reverse("task_edit", args=[project_id, task_id])
    raw_source = request.POST.get("source_revision") or request.GET.get("revision")
    try:
        source = _source_revision(access, UUID(raw_source) if raw_source else None)
    except ValueError:
        raise Http404("This task has no such revision.") from None
    models = _model_choices(source.llm_model)
    context: dict[str, Any] = {
        "project": access.project,
        "url": url,
        "task_access": access,
    }
    if request.method == "GET":
        single = selectors.active_revision_count(task=access.task) == 1
        initial = initial_from_revision(access.task, source, models, make_live=single)
        form = _editor_form(
            None, project=access.project, models=models, initial=initial, editing=True
        )
        return render(
            request,
            EDITOR,
            _editor_context(request, form, **context) | {"split": not single},
        )
    form = _editor_form(
        request.POST, project=access.project, models=models, editing=True
    )
    refreshed = _editor_response(request, form, **context)
    if refreshed is not None:
        return refreshed
    if form.is_valid():
        try:
            revision = _save_edit(request, access, form, source)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if revision is None:
                messages.success(
                    request,
                    "Saved. The configuration is unchanged, "
                    "so no new revision was made.",
                )
            elif revision.test:
                messages.success(
                    request,
                    "Saved a test revision. Run it from the "
                    "Run view or compare it with others.",
                )
            elif form.cleaned_data.get("make_live"):
                messages.success(
                    request, "Saved a new revision; it now takes all the traffic."
                )
            else:
                messages.success(
                    request,
                    "Saved a new revision. It takes no traffic until you make it live.",
                )
            return _go(request, reverse("task_run", args=[project_id, task_id]))
    return _editor_page(request, form, **context)


def _save_edit(
    request: AuthedRequest,
    access: TaskAccess,
    form: TaskEditorForm,
    source: TaskRevision,
) -> TaskRevision | None:
    """One update through the same service as the API, making the new
    revision live in the same transaction when the user asked for it."""
    _task, revision = services.task_update(
        task=access.task,
        user=request.user,
        task_fields=form.task_fields(),
        revision_fields=form.revision_edits(task=access.task, source=source),
        revision_source=source,
        make_live=bool(form.cleaned_data.get("make_live")),
    )
    return revision


# The template gallery (dashboard.md §12) -------------------------------------------


def _template_matches(template: gallery.Template, words: list[str]) -> bool:
    text = " ".join(
        [template.name, template.description, template.category, template.user_prompt]
    ).lower()
    return all(word in text for word in words)


@require_GET
@login_required
def task_gallery(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """Ready-made tasks by category, searchable; "Use template" opens Create
    Task filled in from it."""
    access = project_for_user(request, project_id)
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    words = query.lower().split()
    sections = [
        (name, [t for t in templates if _template_matches(t, words)])
        for name, templates in gallery.templates_by_category()
        if not category or name == category
    ]
    sections = [(name, templates) for name, templates in sections if templates]
    context = {
        "access": access,
        "nav": "templates",
        "query": query,
        "category": category,
        "categories": gallery.CATEGORIES,
        "sections": sections,
        "found": sum(len(templates) for _name, templates in sections),
        "can_create": role_allows(access.role, Perm.PROJECT_CREATE_TASK),
    }
    template = "tasks_app/task_gallery.html"
    if request.htmx and request.htmx.target == "gallery-results":
        template += "#results"
    return render(request, template, context)


# Revisions and traffic (dashboard.md §5) -------------------------------------------

REVISIONS_PER_PAGE = 25
REVISIONS = "tasks_app/task_revisions.html"


@dataclass
class TrafficRow:
    revision: TaskRevision
    percent: str
    error: str = ""


def _percent(weight: Decimal) -> str:
    return f"{(weight * 100).normalize():f}"


def _traffic_rows(access: TaskAccess) -> list[TrafficRow]:
    return [
        TrafficRow(entry.task_revision, _percent(entry.weight))
        for entry in selectors.traffic_of(task=access.task)
    ]


def _revisions_context(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    traffic: list[TrafficRow] | None = None,
    traffic_error: str = "",
) -> dict[str, Any]:
    include_tests = request.GET.get("tests") == "1"
    cursor = request.GET.get("after")
    try:
        after = UUID(cursor) if cursor else None
        page, has_next = page_after(
            selectors.revisions_of(task_id=access.task.pk, include_tests=include_tests),
            cursor=after,
            limit=REVISIONS_PER_PAGE,
        )
    except (ValueError, BadRequest):
        raise Http404("No such page of revisions.") from None
    rows = traffic if traffic is not None else _traffic_rows(access)
    total = sum((_decimal(row.percent) or Decimal(0) for row in rows), Decimal(0))
    return {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": access.task,
        "revisions": page,
        "next_cursor": page[-1].pk if has_next else None,
        "paged": after is not None,
        "include_tests": include_tests,
        "traffic": rows,
        "traffic_ids": {row.revision.pk for row in rows},
        "traffic_total": f"{total.normalize():f}",
        "traffic_error": traffic_error,
        "can_edit": access.allows(Perm.TASK_EDIT),
    }


@require_GET
@login_required
def task_revisions(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """Every revision with its note, tags, author and traffic; the traffic
    editor for those who may edit."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    template = REVISIONS
    if request.htmx and request.htmx.target == "revision-list":
        template += "#revision_list"
        return render(request, template, _revisions_context(request, access))
    context = _revisions_context(request, access) | tag_views.tags_context(access)
    return render(request, template, context)


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (ArithmeticError, ValueError, AttributeError):
        return None
    return number if number.is_finite() else None


def _posted_traffic(
    request: AuthedRequest, access: TaskAccess
) -> tuple[list[TrafficRow], str]:
    """The traffic rows as sent (ids and percentages), and the action asked."""
    action = request.POST.get("traffic_action", "save")
    ids: list[UUID] = []
    for raw in request.POST.getlist("revision"):
        try:
            ids.append(UUID(raw))
        except ValueError:
            continue
    verb, _, target = action.partition(":")
    target_id = None
    if target:
        try:
            target_id = UUID(target)
        except ValueError:
            raise BadRequest("Unknown traffic action.") from None
    if verb == "add" and target_id and target_id not in ids:
        ids.append(target_id)
    if verb == "remove" and target_id in ids:
        ids.remove(target_id)
    found = selectors.revisions_by_id(task_id=access.task.pk, revision_ids=ids)
    rows = [
        TrafficRow(found[i], request.POST.get(f"weight_{i}", "0").strip() or "0")
        for i in ids
        if i in found
    ]
    if verb == "add" and target_id in found and len(rows) > 1:
        rows[-1].percent = "0"
    if verb == "even" and rows:
        share = (Decimal(100) / len(rows)).quantize(Decimal("0.0001"))
        for row in rows:
            row.percent = f"{share.normalize():f}"
        rows[0].percent = f"{(Decimal(100) - share * (len(rows) - 1)).normalize():f}"
    return rows, verb


def _traffic_entries(rows: list[TrafficRow]) -> tuple[list[tuple[UUID, Decimal]], str]:
    """(revision id, weight) pairs from percentages, or what is wrong with them."""
    if not rows:
        return [], "Choose at least one revision to receive traffic."
    entries = []
    for row in rows:
        percent = _decimal(row.percent)
        if percent is None or percent < 0 or percent > 100:
            row.error = "A percentage from 0 to 100."
            return [], "Each weight is a percentage from 0 to 100."
        if row.revision.test:
            row.error = "Test revisions never receive traffic."
            return [], "Test revisions never receive traffic."
        entries.append((row.revision.pk, percent / 100))
    total = sum((weight for _id, weight in entries), Decimal(0))
    if abs(total - 1) > services.WEIGHT_TOLERANCE:
        return [], (
            f"The weights add up to {(total * 100).normalize():f} %; "
            "they must total 100 %."
        )
    return entries, ""


@require_http_methods(["POST"])
@login_required
def task_traffic(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """Change the traffic split: the editor's rows, or a quick action (make one
    revision live at 100 %, split 50/50 with the current one)."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    action = request.POST.get("traffic_action", "save")
    verb, _, target = action.partition(":")
    if verb in {"live", "split"}:
        rows, error = _quick_traffic(access, verb, target)
    else:
        rows, verb = _posted_traffic(request, access)
        error = ""
        if verb != "save":
            # Adding, removing or evening out rows changes nothing until saved.
            context = _revisions_context(request, access, traffic=rows)
            template = f"{REVISIONS}#traffic" if request.htmx else REVISIONS
            return render(request, template, context)
    entries, error = _traffic_entries(rows) if not error else ([], error)
    if not error:
        try:
            services.task_update(
                task=access.task,
                user=request.user,
                active_revisions=list(entries),
            )
        except DomainError as failure:
            error = failure.message
    if error:
        context = _revisions_context(request, access, traffic=rows, traffic_error=error)
        template = f"{REVISIONS}#traffic" if request.htmx else REVISIONS
        return render(request, template, context)
    messages.success(request, "Traffic updated.")
    url = reverse("task_revisions", args=[project_id, task_id])
    if request.htmx:
        response = render(
            request, f"{REVISIONS}#revisions_body", _revisions_context(request, access)
        )
        return response
    return redirect(url)


def _quick_traffic(
    access: TaskAccess, verb: str, target: str
) -> tuple[list[TrafficRow], str]:
    try:
        revision_id = UUID(target)
    except ValueError:
        raise BadRequest("Unknown traffic action.") from None
    base = services.base_revision(access.task)
    ids = [revision_id] if verb == "live" else [base.pk, revision_id]
    found = selectors.revisions_by_id(task_id=access.task.pk, revision_ids=ids)
    if revision_id not in found:
        raise Http404("This task has no such revision.")
    if verb == "split" and base.pk == revision_id:
        return _traffic_rows(access), "This revision is already the current one."
    if verb == "live":
        return [TrafficRow(found[revision_id], "100")], ""
    return [TrafficRow(found[base.pk], "50"), TrafficRow(found[revision_id], "50")], ""


# The diff of two revisions -----------------------------------------------------------


@dataclass
class DiffLine:
    left: str | None
    right: str | None
    kind: str  # "same", "changed", "added", "removed"


def _line_diff(left: str, right: str) -> list[DiffLine]:
    """Side-by-side rows: equal lines once, changed lines paired."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [DiffLine(line, line, "same") for line in a[i1:i2]]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            old = olds[k] if k < len(olds) else None
            new = news[k] if k < len(news) else None
            kind = (
                "changed"
                if old is not None and new is not None
                else ("removed" if new is None else "added")
            )
            rows.append(DiffLine(old, new, kind))
    return rows


def _settings_of(revision: TaskRevision) -> list[tuple[str, str]]:
    def shown(value: Any) -> str:
        if value in (None, "", [], {}):
            return "—"
        if isinstance(value, (dict, list)):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
        return str(value)

    return [
        ("Model", revision.llm_model.alias),
        ("Model settings", shown(revision.llm_config)),
        (
            "Fallback model",
            revision.fallback_llm_model.alias if revision.fallback_llm_model else "—",
        ),
        ("Fallback settings", shown(revision.fallback_llm_config)),
        ("Inputs", shown(revision.input_params)),
        ("Input descriptions", shown(revision.input_param_descriptions)),
        ("Input processors", shown(revision.input_processors)),
        ("Required images", "Yes" if revision.image_required else "No"),
        ("Auto convert images", "Yes" if revision.optimise_images else "No"),
        ("Forwarder", revision.task_forwarder.name if revision.task_forwarder else "—"),
        ("Test revision", "Yes" if revision.test else "No"),
        ("Note", revision.annotation or "—"),
    ]


@require_GET
@login_required
def revision_diff(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """Two revisions side by side: prompts, output format and settings."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    try:
        ids = [UUID(request.GET.get("a", "")), UUID(request.GET.get("b", ""))]
    except ValueError:
        messages.error(request, "Choose two revisions to compare.")
        return redirect("task_revisions", project_id=project_id, task_id=task_id)
    found = selectors.revisions_by_id(task_id=task_id, revision_ids=ids)
    if any(revision_id not in found for revision_id in ids):
        raise Http404("This task has no such revision.")
    left, right = found[ids[0]], found[ids[1]]
    settings = [
        (label, a, b, a != b)
        for (label, a), (_label, b) in zip(
            _settings_of(left), _settings_of(right), strict=True
        )
    ]
    sections = [
        ("User prompt", _line_diff(left.user_prompt, right.user_prompt)),
        ("System prompt", _line_diff(left.system_prompt, right.system_prompt)),
        (
            "Output format",
            _line_diff(
                schema_editor.format_text(left.output_format),
                schema_editor.format_text(right.output_format),
            ),
        ),
    ]
    return render(
        request,
        "tasks_app/revision_diff.html",
        {
            "access": access.project,
            "nav": "tasks",
            "task_access": access,
            "task": access.task,
            "left": left,
            "right": right,
            "sections": sections,
            "settings": settings,
            "changed_settings": sum(1 for row in settings if row[3]),
        },
    )
