"""The share page queues its runs as the Run view does: the form answers at
once with the run queued and a progress indicator, the result region polls a
signed address that only the visitor who made the run holds, and without
JavaScript the page offers a refresh link to the same address."""

from __future__ import annotations

import re

import pytest
from django.core import signing

from runs_app.models import TaskRun
from runs_app.services import run_complete_queued
from sharing.models import ShareRun
from sharing.services import share_revoke
from tests.sharing.conftest import GOOD

HX = {"HX-Request": "true"}
POLL_ADDRESS = re.compile(r'hx-get="(/s/[^"]+)"')


def _poll_url(html: str) -> str:
    match = POLL_ADDRESS.search(html)
    assert match, html
    return match.group(1)


@pytest.fixture
def queued(broker):
    """A real transport that nobody consumes yet: runs stay queued until the
    test does what the worker does."""
    broker("memory://")


def test_a_share_run_is_queued_then_polled_to_its_result(
    shared, client, fake_llm, queued
):
    shared.share(custom_short_id="que1", allow_inputs=True)
    response = client.post("/s/que1/run", {"input_review": "Sturdy"}, headers=HX)
    assert response.status_code == 200
    run = TaskRun.objects.get(share_link__isnull=False)
    assert run.status == TaskRun.Status.QUEUED
    assert "The run is queued" in response.text
    assert 'class="spinner"' in response.text
    assert 'hx-trigger="load delay:1s"' in response.text
    poll = _poll_url(response.text)

    still = client.get(poll, headers=HX)
    assert still.status_code == 200
    assert still.text.lstrip().startswith('<div id="share-result"')
    assert "The run is queued" in still.text

    fake_llm.answer(GOOD)
    run_complete_queued(run_id=run.pk)  # what the worker does

    done = client.get(poll, headers=HX)
    assert done.status_code == 200
    assert done.text.lstrip().startswith('<div id="share-result"')
    assert "hx-get" not in done.text
    assert "Result" in done.text and "positive" in done.text
    assert done["X-Robots-Tag"] == "noindex, nofollow"


def test_without_javascript_the_page_links_to_its_result(
    shared, client, fake_llm, queued
):
    shared.share(custom_short_id="que2")
    response = client.post("/s/que2/run")
    assert response.status_code == 200
    assert "<html" in response.text
    poll = _poll_url(response.text)
    assert f'<a href="{poll}">Refresh</a>' in response.text
    page = client.get(poll)
    assert "<html" in page.text and "The run is queued" in page.text

    fake_llm.answer(GOOD)
    run_complete_queued(run_id=TaskRun.objects.get(share_link__isnull=False).pk)
    page = client.get(poll)
    assert "<html" in page.text
    assert "positive" in page.text and "The run is" not in page.text
    # The form is there again for the next run.
    assert 'action="/s/que2/run"' in page.text


def test_a_failed_run_says_so_when_polled(shared, client, fake_llm, queued):
    shared.share(custom_short_id="que3")
    poll = _poll_url(client.post("/s/que3/run", headers=HX).text)
    for _ in range(4):
        fake_llm.answer({"wrong": "shape"})
    run_complete_queued(run_id=TaskRun.objects.get(share_link__isnull=False).pk)
    done = client.get(poll, headers=HX)
    assert done.status_code == 200
    assert "could not produce an answer" in done.text
    assert "hx-get" not in done.text


def test_nobody_polls_a_run_through_another_address(
    shared, client, fake_llm, queued, personas
):
    shared.share(custom_short_id="mine")
    other = shared.share(custom_short_id="other")
    poll = _poll_url(client.post("/s/mine/run", headers=HX).text)
    run = TaskRun.objects.get(share_link__isnull=False)
    token = poll.rsplit("/", 1)[1]
    # The same token under another link of the same task.
    assert client.get(f"/s/other/run/{token}", headers=HX).status_code == 404
    # A token for the run id, signed with another salt or not at all.
    forged = signing.dumps(["mine", str(run.pk)], salt="another purpose")
    assert client.get(f"/s/mine/run/{forged}").status_code == 404
    assert client.get(f"/s/mine/run/{run.pk}").status_code == 404
    # A genuine token for a run that is not this link's: the example run.
    example = signing.dumps(["mine", str(shared.example.pk)], salt="sharing.run-poll")
    assert client.get(f"/s/mine/run/{example}").status_code == 404
    # The other link's own run is not reachable through this one's token.
    ShareRun.objects.filter(task_run=run).update(share=other)
    assert client.get(poll, headers=HX).status_code == 404


@pytest.mark.parametrize(
    "token", ["x", "not-a-token", "a" * 300, "..", signing.dumps("bare")]
)
def test_bad_poll_addresses_are_404_not_500(shared, client, token):
    shared.share(custom_short_id="bad1")
    response = client.get(f"/s/bad1/run/{token}")
    assert response.status_code == 404
    # A NUL in the address is refused before any view, as everywhere.
    assert client.get("/s/bad1/run/%00").status_code == 422


def test_a_revoked_link_stops_answering_its_polls(shared, client, queued):
    share = shared.share(custom_short_id="rv1")
    poll = _poll_url(client.post("/s/rv1/run", headers=HX).text)
    share_revoke(share=share)
    assert client.get(poll, headers=HX).status_code == 403


def test_a_broker_that_is_down_gives_the_use_back(shared, client, broker):
    share = shared.share(custom_short_id="down", max_uses=1)
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.post("/s/down/run", headers=HX)
    assert response.status_code == 503
    assert "cannot be started just now" in response.text
    assert not TaskRun.objects.filter(share_link__isnull=False).exists()
    share.refresh_from_db()
    assert share.use_count == 0


def test_polling_costs_a_fixed_number_of_queries(
    shared, client, queued, django_assert_num_queries
):
    shared.share(custom_short_id="qry1")
    poll = _poll_url(client.post("/s/qry1/run", headers=HX).text)
    client.get(poll, headers=HX)
    # The link as every public view reads it (1 with its task and revision,
    # 2 the task's tags, 3 the example's files), then 4 the run, 5 its files.
    with django_assert_num_queries(5):
        client.get(poll, headers=HX)
