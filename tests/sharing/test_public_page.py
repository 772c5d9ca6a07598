"""The public share page /s/<short_id> (dashboard.md §9, checklist 142): no
login, the task and its example shown friendly, a run form within the link's
limits, "Clone to my project" through sign-in and a project choice."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from rightbrain.orgs.models import Membership
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import organization_create
from runs_app.models import TaskRun
from sharing.models import ShareRun, TaskShare
from tasks_app.models import Task
from tests.helpers import make_user
from tests.sharing.conftest import GOOD, assert_no_secrets
from tests.test_pages_assets import _assert_self_hosted


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("name") or attrs.get("property")
            if key:
                self.meta[key] = attrs.get("content") or ""


def _meta(html: str) -> dict[str, str]:
    parser = _Meta()
    parser.feed(html)
    return parser.meta


def test_the_page_shows_the_task_to_anyone_without_login(shared, client):
    share = shared.share(custom_short_id="pg1", title="Try our review reader")
    response = client.get("/s/pg1")
    assert response.status_code == 200
    html = response.text
    assert "Try our review reader" in html
    assert "Review Sentiment" in html
    assert "Tells how a customer feels about a product." in html
    # Inputs, prompts and the output schema.
    assert "Review: {review}" in html
    assert "You classify reviews." in html
    for field in ("sentiment", "confident", "reasons"):
        assert f"<code>{field}</code>" in html
    assert "How the reviewer feels" in html
    # The example, friendly: labels, ✓ for true, bullets for lists.
    assert "Arrived quickly and works well" in html
    assert "<dt>Sentiment</dt>" in html
    assert "✓" in html
    assert (
        '<ul class="friendly-list"><li><span class="friendly-text">fast</span>' in html
    )
    # Run it (the example only) and clone it.
    assert "Run example" in html
    assert "Clone to my project" in html
    share.refresh_from_db()
    assert share.views_count == 1


def test_the_page_is_kept_out_of_search_engines_and_previews_well(shared, client):
    share = shared.share(custom_short_id="og1", description="Reads reviews.")
    response = client.get("/s/og1")
    meta = _meta(response.text)
    assert meta["robots"] == "noindex, nofollow"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert meta["og:title"] == "Review Sentiment"
    assert meta["og:description"] == "Reads reviews."
    assert meta["og:url"] == share.url
    assert meta["og:type"] == "website"
    assert meta["twitter:card"] == "summary"


def test_the_page_and_its_json_never_contain_secrets(shared, client, fake_llm):
    shared.share(custom_short_id="sec1", allow_inputs=True)
    assert_no_secrets(client.get("/s/sec1").text, shared)
    assert_no_secrets(client.get("/api/v1/share/sec1").text, shared)
    fake_llm.answer(GOOD)
    ran = client.post("/s/sec1/run", {"input_review": "Lovely"})
    assert ran.status_code == 200
    assert_no_secrets(ran.text, shared)


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script(
    shared, client, as_user
):
    shared.share(custom_short_id="csp1", allow_inputs=True)
    _assert_self_hosted(client.get("/s/csp1"))
    _assert_self_hosted(as_user("outsider").get("/s/csp1"))


def test_revoked_and_expired_links_say_so_with_403_and_unknown_ones_404(shared, client):
    revoked = shared.share(custom_short_id="rv1")
    revoked.active = False
    revoked.save()
    expired = shared.share(custom_short_id="ex1", expires_in_hours=1)
    TaskShare.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    for short_id, reason in (("rv1", "revoked"), ("ex1", "expired")):
        response = client.get(f"/s/{short_id}")
        assert response.status_code == 403
        assert "This link is no longer available" in response.text
        assert reason in response.text
        assert "noindex" in response.text
        assert "Review Sentiment" not in response.text
        assert client.post(f"/s/{short_id}/run").status_code == 403
    unknown = client.get("/s/zz9")
    assert unknown.status_code == 404
    assert "There is no share link at this address." in unknown.text
    assert set(TaskShare.objects.values_list("views_count", flat=True)) == {0}


def test_running_the_example_from_the_page(shared, client, fake_llm):
    share = shared.share(custom_short_id="run1")
    fake_llm.answer({"sentiment": "negative", "confident": False, "reasons": []})
    response = client.post("/s/run1/run", {"input_review": "ignored"})
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Result" in response.text
    assert "negative" in response.text
    assert "✗" in response.text
    link = ShareRun.objects.get(share=share)
    assert link.task_run.run_data == {
        "submitted": {"review": "Arrived quickly and works well"}
    }
    assert link.task_run.user_id is None


def test_running_with_inputs_over_htmx_answers_the_run_panel(shared, client, fake_llm):
    shared.share(custom_short_id="hx1", allow_inputs=True)
    fake_llm.answer(GOOD)
    response = client.post(
        "/s/hx1/run",
        {"input_review": "Sturdy and quiet"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="share-run"' in response.text
    assert "Positive" not in response.text and "positive" in response.text
    run = TaskRun.objects.get(share_link__isnull=False)
    assert run.run_data == {"submitted": {"review": "Sturdy and quiet"}}
    missing = client.post(
        "/s/hx1/run", {"input_review": ""}, headers={"HX-Request": "true"}
    )
    assert missing.status_code == 422
    assert "Fill in review to run this task." in missing.text
    assert "<html" not in missing.text


def test_a_signed_in_visitor_runs_as_themselves(shared, as_user, fake_llm, personas):
    shared.share(custom_short_id="me1")
    fake_llm.answer(GOOD)
    response = as_user("outsider").post("/s/me1/run")
    assert response.status_code == 200
    run = TaskRun.objects.get(share_link__isnull=False)
    assert run.user_id == personas.outsider.pk


def test_the_last_use_turns_the_form_into_a_notice(shared, client, fake_llm):
    share = shared.share(custom_short_id="one1", max_uses=1)
    assert "1 of 1 use left" in client.get("/s/one1").text
    fake_llm.answer(GOOD)
    last = client.post("/s/one1/run")
    assert last.status_code == 200
    assert "Result" in last.text
    assert "used as many times as its owner allows" in last.text
    assert "Run example" not in last.text
    refused = client.post("/s/one1/run")
    assert refused.status_code == 403
    assert "used as many times as its owner allows" in refused.text
    share.refresh_from_db()
    assert share.use_count == 1
    # Reading it is still allowed.
    assert client.get("/s/one1").status_code == 200


def test_a_link_that_only_shows_has_no_run_form(shared, client):
    shared.share(custom_short_id="ro1", task_run_id=None)
    html = client.get("/s/ro1").text
    assert "has not allowed running it here" in html
    assert 'action="/s/ro1/run"' not in html


def test_files_of_the_example_and_of_own_runs_are_served_but_no_others(
    shared, client, personas
):
    share = shared.share(custom_short_id="fil1")
    other_run = TaskRun.objects.create(
        task=shared.task, task_revision=shared.revision, response={}, run_data={}
    )
    url = reverse("share_file", args=["fil1", other_run.pk, "x.png"])
    assert client.get(url).status_code == 404
    assert share.task_run_id == shared.example.pk


# Cloning (checklist 142) ----------------------------------------------------------


def test_clone_asks_a_visitor_to_sign_in_first(shared, client):
    shared.share(custom_short_id="cl1")
    page = client.get("/s/cl1").text
    next_part = quote("/s/cl1/clone", safe="")
    assert f"/accounts/signup/?next={next_part}" in page
    response = client.get("/s/cl1/clone")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/s/cl1/clone"


def test_clone_offers_only_projects_you_may_create_tasks_in(shared, personas, client):
    shared.share(custom_short_id="cl2")
    person = make_user("reader@else.test", "Reader")
    mine = organization_create(name="Mine", owner=person)
    theirs = organization_create(name="Theirs", owner=make_user("boss@x.test"))
    Membership.objects.create(organization=theirs, user=person, role=Role.VIEWER)
    client.force_login(person)
    page = client.get("/s/cl2/clone")
    assert page.status_code == 200
    assert "Mine / Default project" in page.text
    assert "Theirs / Default project" not in page.text
    refused = client.post("/s/cl2/clone", {"project": str(theirs.projects.get().pk)})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.text
    assert not Task.objects.filter(project__organization=theirs).exists()
    cloned = client.post("/s/cl2/clone", {"project": str(mine.projects.get().pk)})
    task = Task.objects.get(project__organization=mine)
    assert cloned.status_code == 302
    assert cloned["Location"] == reverse("task_run", args=[task.project_id, task.pk])
    assert task.cloned_from_task_revision_id == shared.revision.pk
    landing = client.get(cloned["Location"])
    assert "Cloned “Review Sentiment” into Default project" in landing.text


def test_clone_of_a_revoked_or_used_up_link_is_refused(shared, as_user):
    revoked = shared.share(custom_short_id="cl3")
    revoked.active = False
    revoked.save()
    shared.share(custom_short_id="cl4", max_uses=1)
    TaskShare.objects.filter(short_id="cl4").update(use_count=1)
    outsider = as_user("outsider")
    for short_id in ("cl3", "cl4"):
        assert outsider.get(f"/s/{short_id}/clone").status_code == 403
        assert outsider.post(f"/s/{short_id}/clone", {}).status_code == 403
    assert outsider.get("/s/nope9/clone").status_code == 404


@pytest.mark.parametrize("path", ["/s/pq1", "/api/v1/share/pq1"])
def test_the_public_views_take_a_fixed_number_of_queries(
    shared, client, django_assert_num_queries, path
):
    shared.share(custom_short_id="pq1")
    # share with task, revision, model and example run; the task's tags; the
    # example's files; the view count
    with django_assert_num_queries(4):
        assert client.get(path).status_code == 200
