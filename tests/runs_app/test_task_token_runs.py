"""A task's access token runs its task and reads the runs made with it, and no
others (api.md §1.2): editors can copy the token, so it must not read what
`task_run_visibility` hides from them."""

from __future__ import annotations

from runs_app.models import TaskRun
from tasks_app.models import Task
from tasks_app.services import task_access_token_rotate
from tests.helpers import ApiClient

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}


def _run(client, task, query=""):
    return client.post(f"/task/{task['id']}/run{query}", INPUT)


def _listed(client, task) -> list[str]:
    response = client.get(f"/task/{task['id']}/run")
    assert response.status_code == 200
    return [run["id"] for run in response.json()["results"]]


def test_an_editors_copy_of_the_token_reads_only_the_runs_made_with_it(
    run_task, fake_llm, api, project_base
):
    owner, task = run_task(persona="owner")  # run visibility: owner_only
    editor = api("editor")
    copied = editor.get(f"/task/{task['id']}").json()["access_token"]
    token = ApiClient(copied, project_base)
    for _ in range(3):
        fake_llm.answer(GOOD)
    owners_run = _run(owner, task).json()["id"]
    editors_run = _run(editor, task).json()["id"]
    tokens_run = _run(token, task).json()["id"]

    assert _listed(token, task) == [tokens_run]
    assert token.get(f"/task/{task['id']}/run/{tokens_run}").status_code == 200
    for hidden in (owners_run, editors_run):
        path = f"/task/{task['id']}/run/{hidden}"
        assert token.get(path).status_code == 404
        assert token.get(f"{path}/forwarder_delivery").status_code == 404
    # The visibility rule itself is unchanged for people.
    assert _listed(editor, task) == [editors_run]
    assert set(_listed(owner, task)) == {owners_run, editors_run, tokens_run}


def test_a_run_by_the_token_is_recorded_as_made_with_it(run_task, fake_llm, api):
    _owner, task = run_task(persona="owner")
    token = ApiClient(task["access_token"], api(None).base)
    fake_llm.answer(GOOD).answer(GOOD)
    by_token = TaskRun.objects.get(pk=_run(token, task).json()["id"])
    by_key = TaskRun.objects.get(pk=_run(api("editor"), task).json()["id"])
    assert (
        by_token.access_token_hash == Task.objects.get(pk=task["id"]).access_token_hash
    )
    assert by_token.user_id is None
    assert by_key.access_token_hash == ""


def test_an_async_run_by_the_token_can_be_polled_with_it(
    run_task, fake_llm, api, broker
):
    broker("memory://")  # a real transport nobody consumes: the run waits
    _owner, task = run_task(persona="owner")
    token = ApiClient(task["access_token"], api(None).base)
    queued = _run(token, task, "?async=true")
    assert queued.status_code == 202
    run_id = queued.json()["id"]
    assert token.get(f"/task/{task['id']}/run/{run_id}").json()["status"] == "queued"
    assert _listed(token, task) == [run_id]


def test_a_rotated_token_reads_none_of_the_old_tokens_runs(
    run_task, fake_llm, api, project_base
):
    owner, task = run_task(persona="owner")
    old = ApiClient(task["access_token"], project_base)
    fake_llm.answer(GOOD).answer(GOOD)
    old_run = _run(old, task).json()["id"]
    new = ApiClient(
        task_access_token_rotate(task=Task.objects.get(pk=task["id"])), project_base
    )
    new_run = _run(new, task).json()["id"]
    assert _listed(new, task) == [new_run]
    assert new.get(f"/task/{task['id']}/run/{old_run}").status_code == 404
    assert old.get(f"/task/{task['id']}/run").status_code == 401
    assert set(_listed(owner, task)) == {old_run, new_run}


def test_the_tokens_run_list_costs_the_same_queries_for_any_number_of_runs(
    run_task, fake_llm, api, project_base, django_assert_num_queries
):
    _owner, task = run_task(persona="owner")
    token = ApiClient(task["access_token"], project_base)
    for count in (1, 3):
        while TaskRun.objects.count() < count:
            fake_llm.answer(GOOD)
            _run(token, task)
        # 1 the task the token belongs to (resolving the bearer)
        # 2 the project with its organisation
        # 3 the task, live and in that project
        # 4 the page of runs made with the token
        # 5 their files
        with django_assert_num_queries(5):
            assert len(_listed(token, task)) == count
