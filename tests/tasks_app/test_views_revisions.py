"""Revisions and traffic (dashboard.md §5, checklist 139): the list, the diff of
two revisions, weights that must total 100 %, and test revisions kept out."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tasks_app.models import ActiveRevision, TaskRevision
from tasks_app.services import RevisionSpec, task_create, task_update

HX = {"HX-Request": "true"}


@pytest.fixture
def task(personas, llm):
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Splitter",
        revision=RevisionSpec(user_prompt="First {x}", llm_model_id=llm.vision.pk),
    )
    task_update(
        task=task,
        user=personas.editor,
        revision_fields={"user_prompt": "Second {x}", "annotation": "Shorter"},
    )
    task_update(
        task=task,
        user=personas.editor,
        revision_fields={"user_prompt": "Trial {x}", "test": True},
    )
    return task


def _revisions(task):
    first, second = TaskRevision.objects.filter(task=task, test=False).order_by(
        "created"
    )
    return first, second, TaskRevision.objects.get(task=task, test=True)


def _url(name, personas, task):
    return reverse(name, args=[personas.project.pk, task.pk])


def test_the_list_shows_notes_authors_and_hides_test_revisions_unless_asked(
    personas, as_user, task
):
    page = as_user("viewer").get(_url("task_revisions", personas, task))
    assert page.status_code == 200
    assert "Shorter" in page.text
    assert "Editor Person" in page.text
    assert "Trial" not in page.text and ">Test<" not in page.text
    with_tests = as_user("viewer").get(
        _url("task_revisions", personas, task) + "?tests=1",
        headers={**HX, "HX-Target": "revision-list"},
    )
    assert "<html" not in with_tests.text
    assert ">Test</span>" in with_tests.text


def test_viewers_see_traffic_but_no_controls(personas, as_user, task):
    page = as_user("viewer").get(_url("task_revisions", personas, task))
    assert "Save traffic" not in page.text
    assert "Make live at 100 %" not in page.text


def test_test_revisions_are_never_offered_for_traffic(personas, as_user, task):
    _first, _second, trial = _revisions(task)
    page = as_user("editor").get(_url("task_revisions", personas, task) + "?tests=1")
    row = page.text.split(f'id="revision-{trial.pk}"')[1].split("</tr>")[0]
    assert "Make live" not in row and "Split 50/50" not in row
    response = as_user("editor").post(
        _url("task_traffic", personas, task),
        {"revision": [str(trial.pk)], f"weight_{trial.pk}": "100"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Test revisions never receive traffic" in response.text


def test_weights_must_total_100_percent(personas, as_user, task):
    first, second, _trial = _revisions(task)
    data = {
        "revision": [str(first.pk), str(second.pk)],
        f"weight_{first.pk}": "60",
        f"weight_{second.pk}": "30",
        "traffic_action": "save",
    }
    refused = as_user("editor").post(
        _url("task_traffic", personas, task), data, headers=HX
    )
    assert refused.status_code == 200
    assert refused.text.lstrip().startswith('<section class="card" id="traffic"')
    assert "The weights add up to 90 %; they must total 100 %." in refused.text
    assert ActiveRevision.objects.get(task=task).task_revision == first
    data[f"weight_{second.pk}"] = "40"
    saved = as_user("editor").post(_url("task_traffic", personas, task), data)
    assert saved.status_code == 302
    weights = dict(
        ActiveRevision.objects.filter(task=task).values_list("task_revision", "weight")
    )
    assert {k: float(v) for k, v in weights.items()} == {first.pk: 0.6, second.pk: 0.4}


def test_split_fifty_fifty_and_make_live(personas, as_user, task):
    first, second, _trial = _revisions(task)
    client = as_user("editor")
    split = client.post(
        _url("task_traffic", personas, task),
        {"traffic_action": f"split:{second.pk}"},
        headers=HX,
    )
    assert split.status_code == 200
    assert split.text.lstrip().startswith('<div id="revisions-body"')
    assert sorted(
        float(w) for w in ActiveRevision.objects.values_list("weight", flat=True)
    ) == [0.5, 0.5]
    client.post(
        _url("task_traffic", personas, task), {"traffic_action": f"live:{second.pk}"}
    )
    assert ActiveRevision.objects.get(task=task).task_revision == second


def test_adding_a_row_and_splitting_evenly_save_nothing(personas, as_user, task):
    first, second, _trial = _revisions(task)
    client = as_user("editor")
    added = client.post(
        _url("task_traffic", personas, task),
        {
            "revision": [str(first.pk)],
            f"weight_{first.pk}": "100",
            "traffic_action": f"add:{second.pk}",
        },
        headers=HX,
    )
    assert f'name="weight_{second.pk}" value="0"' in added.text
    even = client.post(
        _url("task_traffic", personas, task),
        {"revision": [str(first.pk), str(second.pk)], "traffic_action": "even"},
    )
    assert even.status_code == 200 and "<html" in even.text
    assert f'name="weight_{second.pk}" value="50"' in even.text
    assert ActiveRevision.objects.get(task=task).task_revision == first


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("outsider", 404)])
def test_traffic_changes_are_refused_to_viewers_and_hidden_from_outsiders(
    personas, as_user, task, persona, status
):
    _first, second, _trial = _revisions(task)
    response = as_user(persona).post(
        _url("task_traffic", personas, task), {"traffic_action": f"live:{second.pk}"}
    )
    assert response.status_code == status


def test_outsiders_cannot_see_revisions_or_diffs(personas, as_user, task):
    first, second, _trial = _revisions(task)
    client = as_user("outsider")
    assert client.get(_url("task_revisions", personas, task)).status_code == 404
    diff = _url("revision_diff", personas, task) + f"?a={first.pk}&b={second.pk}"
    assert client.get(diff).status_code == 404


def test_the_diff_shows_two_revisions_side_by_side(personas, as_user, task):
    first, second, _trial = _revisions(task)
    page = as_user("viewer").get(
        _url("revision_diff", personas, task) + f"?a={first.pk}&b={second.pk}"
    )
    assert page.status_code == 200
    assert '<tr class="diff-changed">' in page.text
    assert "First {x}" in page.text and "Second {x}" in page.text
    assert 'Note <span class="badge badge-warning">changed</span>' in page.text
    missing = as_user("viewer").get(_url("revision_diff", personas, task) + "?a=nope")
    assert missing.status_code == 302


def test_the_revisions_page_costs_the_same_with_many_revisions(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("owner")
    url = _url("task_revisions", personas, task)
    client.get(url)
    for n in range(30):
        task_update(
            task=task,
            user=personas.owner,
            revision_fields={"user_prompt": f"v{n} {{x}}"},
        )
    # 1 session, 2 user, 3 project with role, 4 task, 5 revisions page with
    # models and authors, 6 their tags, 7 traffic with revisions, 8 the
    # project's task tags, 9 the task's tags, 10-11 switcher.
    with django_assert_num_queries(11):
        page = client.get(url)
    assert page.text.count('<tr id="revision-') == 25


def test_task_pages_load_nothing_from_elsewhere_and_have_no_inline_scripts(
    personas, as_user, task
):
    from tests.test_pages_assets import _assert_self_hosted

    first, second, _trial = _revisions(task)
    client = as_user("owner")
    project = personas.project.pk
    for url in (
        reverse("project_home", args=[project]),
        reverse("task_create", args=[project]),
        reverse("task_gallery", args=[project]),
        _url("task_edit", personas, task),
        _url("task_revisions", personas, task),
        _url("task_run", personas, task),
        _url("revision_diff", personas, task) + f"?a={first.pk}&b={second.pk}",
    ):
        _assert_self_hosted(client.get(url))
