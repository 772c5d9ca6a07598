"""perplexity_search puts web search results into the prompt (a local server plays
the search API), and checklist item 47: `max_results` is 5 to 20."""

from __future__ import annotations

import pytest

from runs_app.models import TaskRun
from tasks_app.models import TaskRevision

GOOD = {"sentiment": "positive"}


def _processor(**config):
    return [
        {
            "param_name": "company",
            "input_processor": "perplexity_search",
            "config": config,
        }
    ]


def _task(run_task, **config):
    return run_task(
        user_prompt="Competitors: {company}", input_processors=_processor(**config)
    )


def _run(client, task, company="Acme"):
    return client.post(f"/task/{task['id']}/run", {"task_input": {"company": company}})


def _results(count: int) -> list[dict]:
    return [
        {
            "title": f"Rival {n}",
            "url": f"https://rival{n}.example/",
            "snippet": f"Rival {n} sells blenders.",
            "date": "2026-01-01",
        }
        for n in range(1, count + 1)
    ]


@pytest.fixture
def search_key(settings, fake_web):
    settings.RB_SEARCH_PROVIDER = "perplexity"
    settings.RB_SEARCH_API_KEY = "pplx-test"
    return fake_web


def test_the_whole_augmented_phrase_is_searched_and_the_top_results_used(
    run_task, fake_llm, search_key
):
    fake_web = search_key
    fake_web.answer_search(_results(7))
    client, task = _task(
        run_task, max_results=5, query_context="top competitors for {company}"
    )
    fake_llm.answer(GOOD)
    response = _run(client, task)
    assert response.status_code == 200
    (call,) = fake_web.requests
    assert call["path"] == "/search"
    assert call["json"] == {"query": "top competitors for Acme", "max_results": 5}
    assert call["authorization"] == "Bearer pplx-test"
    prompt = fake_llm.requests[0]["messages"][-1]["content"]
    assert prompt.startswith(
        "Competitors: Web search results for 'top competitors for Acme':"
    )
    assert (
        "1. Rival 1\n   https://rival1.example/\n   Rival 1 sells blenders." in prompt
    )
    assert "5. Rival 5" in prompt
    assert "Rival 6" not in prompt
    assert response.json()["run_data"] == {"submitted": {"company": "Acme"}}
    assert response.json()["input_processor_timing"] > 0


def test_without_query_context_the_value_is_searched_for_five_results(
    run_task, fake_llm, search_key
):
    search_key.answer_search(_results(5))
    client, task = _task(run_task)
    fake_llm.answer(GOOD)
    assert _run(client, task, "Blendtec").status_code == 200
    assert search_key.requests[0]["json"] == {"query": "Blendtec", "max_results": 5}


def test_without_an_api_key_the_run_is_a_422_naming_the_processor(
    run_task, fake_llm, fake_web, settings
):
    settings.RB_SEARCH_PROVIDER = "perplexity"
    settings.RB_SEARCH_API_KEY = ""
    client, task = _task(run_task)
    response = _run(client, task)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_input", "company"]
    assert detail["msg"].startswith("perplexity_search (company): ")
    assert "PERPLEXITY_API_KEY" in detail["msg"]
    assert fake_web.requests == []
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("status", "results", "message"),
    [
        (401, [], "refused this instance's API key"),
        (503, [], "answered 503"),
        (200, [], "found nothing"),
    ],
)
def test_a_failed_search_is_a_422_saying_why(
    run_task, fake_llm, search_key, status, results, message
):
    search_key.answer_search(results, status=status)
    client, task = _task(run_task)
    response = _run(client, task)
    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]
    assert not TaskRun.objects.exists()


def test_the_mock_provider_answers_offline_without_a_key(
    run_task, fake_llm, fake_web, settings
):
    settings.RB_SEARCH_PROVIDER = "mock"
    settings.RB_SEARCH_API_KEY = ""
    client, task = _task(run_task, max_results=6)
    fake_llm.answer(GOOD)
    assert _run(client, task).status_code == 200
    prompt = fake_llm.requests[0]["messages"][-1]["content"]
    assert "6. Result 6 for Acme" in prompt
    assert fake_web.requests == []


def test_an_unknown_provider_is_a_422_naming_the_setting(run_task, fake_llm, settings):
    settings.RB_SEARCH_PROVIDER = "altavista"
    client, task = _task(run_task)
    response = _run(client, task)
    assert response.status_code == 422
    assert "RB_SEARCH_PROVIDER" in response.json()["detail"][0]["msg"]


# 47
@pytest.mark.parametrize("max_results", [4, 21])
def test_saving_a_revision_with_max_results_outside_5_to_20_is_a_422(
    run_task, max_results
):
    client, task = _task(run_task)
    before = TaskRevision.objects.count()
    created = client.post(
        "/task",
        {
            "name": "Search",
            "enabled": True,
            "system_prompt": "",
            "user_prompt": "About {company}",
            "llm_model_id": task["revisions"][0]["llm_model_id"],
            "input_processors": _processor(max_results=max_results),
        },
    )
    revised = client.post(
        f"/task/{task['id']}",
        {"input_processors": _processor(max_results=max_results)},
    )
    for response in (created, revised):
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert detail["loc"][-3:] == ["0", "config", "max_results"]
        assert "perplexity_search" in detail["msg"]
    assert TaskRevision.objects.count() == before


@pytest.mark.parametrize("max_results", [5, 20])
def test_saving_a_revision_with_max_results_5_or_20_is_accepted(run_task, max_results):
    client, task = _task(run_task, max_results=max_results)
    assert task["revisions"][0]["input_processors"][0]["config"] == {
        "max_results": max_results
    }
    # An update that changes nothing makes no revision: revise to the other bound.
    other = 25 - max_results
    revised = client.post(
        f"/task/{task['id']}",
        {"input_processors": _processor(max_results=other)},
    )
    assert revised.status_code == 200
    revisions = revised.json()["revisions"]
    assert len(revisions) == 2
    assert {r["input_processors"][0]["config"]["max_results"] for r in revisions} == {
        5,
        20,
    }
