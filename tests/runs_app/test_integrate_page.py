"""The Integrate tab (dashboard.md §7, checklist 140): a run call pre-filled
from the caller's latest run with the chosen credential, a key made and shown
once, and the MCP switch. The generated calls are executed, by the test client
and by curl against the live server."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest
from django.urls import reverse

from rightbrain.orgs.models import ApiKey
from rightbrain.orgs.services import api_key_create, oauth_client_create
from rightbrain.orgs.tokens import decrypt_secret
from runs_app import snippets
from runs_app.models import TaskRun
from runs_app.services import run_execute
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task, TaskMember
from tasks_app.services import RevisionSpec, task_create
from tests.helpers import run_curl

HX = {"HX-Request": "true", "HX-Target": "integrate-body"}


@pytest.fixture
def task(personas) -> Task:
    catalogue_sync()  # the offline demo model answers every run
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review} for {product}",
            llm_model_id=demo.pk,
            output_format={"sentiment": {"type": "str", "options": ["up", "down"]}},
        ),
    )


def _url(task, name="task_integrate") -> str:
    return reverse(name, args=[task.project_id, task.pk])


def _run(task, user, **values) -> TaskRun:
    return run_execute(
        task=task,
        revision=task.revisions.get(),
        task_input={"customer_review": "Fine", "product": "Kettle", **values},
        user=user,
    )


def _copied(page_html: str, snippet: str) -> str:
    """What the Copy button of one snippet puts on the clipboard."""
    match = re.search(
        rf'data-copy="([^"]*)" data-snippet="{snippet}"', page_html, re.DOTALL
    )
    assert match, f"no {snippet} copy button"
    return html.unescape(match.group(1))


def test_the_curl_is_prefilled_from_the_callers_latest_run(personas, as_user, task):
    _run(task, personas.owner, customer_review="Old one")
    _run(task, personas.owner, customer_review='It\'s "great" $HOME')
    page = as_user("owner").get(_url(task))
    assert page.status_code == 200
    assert 'aria-current="page">Integrate</a>' in page.text
    curl = _copied(page.text, "curl")
    expected_url = (
        f"http://testserver/api/v1/org/{personas.organization.pk}/project/"
        f"{personas.project.pk}/task/{task.pk}/run"
    )
    assert curl.startswith(f"curl -X POST {expected_url} ")
    assert "-H 'Content-Type: application/json'" in curl
    assert page.context["run_body"] == {
        "task_input": {"customer_review": 'It\'s "great" $HOME', "product": "Kettle"}
    }
    python = _copied(page.text, "python")
    assert f'"{expected_url}"' in python and '"product": "Kettle"' in python
    javascript = _copied(page.text, "javascript")
    assert "JSON.stringify(" in javascript and "process.env.RB_API_KEY" in javascript


def test_without_a_run_of_their_own_the_inputs_are_placeholders(
    personas, as_user, task
):
    _run(task, personas.owner, customer_review="Owner's secret review")
    TaskMember.objects.create(
        task=task, subject_type="user", subject_id=personas.viewer.pk, role="viewer"
    )
    task.task_run_visibility = Task.RunVisibility.ALL_VIEWERS
    task.save()
    page = as_user("viewer").get(_url(task))
    assert page.status_code == 200
    assert "Owner&#x27;s secret review" not in page.text
    assert page.context["run_body"] == {
        "task_input": {"customer_review": "<customer_review>", "product": "<product>"}
    }


def test_an_api_key_is_named_and_read_from_the_environment(personas, as_user, task):
    key, secret = api_key_create(
        project=personas.project, user=personas.editor, name="Nightly import"
    )
    page = as_user("editor").get(_url(task))
    assert f'<option value="key:{key.pk}" selected>API key · Nightly import' in (
        page.text
    )
    assert key.prefix in page.text
    assert secret not in page.text
    assert '-H "Authorization: Bearer $RB_API_KEY"' in _copied(page.text, "curl")
    assert f"RB_ORG_ID={personas.organization.pk}" in page.text
    assert "RB_CLIENT_ID=&lt;your client id&gt;" in page.text


def test_an_oauth_client_first_asks_for_a_token(personas, as_user, task):
    client, _secret = oauth_client_create(
        project=personas.project,
        created_by=personas.owner,
        name="Backend",
        description="",
        grant_types=["client_credentials"],
        redirect_uris=[],
        client_type="project",
        public_client=False,
    )
    page = as_user("owner").get(_url(task), {"credential": f"client:{client.pk}"})
    curl = _copied(page.text, "curl")
    assert curl.startswith(
        'RB_ACCESS_TOKEN=$(curl -s -u "$RB_CLIENT_ID:$RB_CLIENT_SECRET" '
        "-d grant_type=client_credentials http://testserver/oauth2/token"
    )
    assert '"Authorization: Bearer $RB_ACCESS_TOKEN"' in curl
    assert f"RB_CLIENT_ID={client.client_id}" in page.text
    assert 'auth=(os.environ["RB_CLIENT_ID"]' in _copied(page.text, "python")


def test_the_task_token_is_masked_on_screen_and_whole_in_the_copy(
    personas, as_user, task
):
    page = as_user("editor").get(_url(task), {"credential": "task-token"})
    token = decrypt_secret(task.access_token_encrypted)
    assert token in _copied(page.text, "curl")
    masked = page.text.split('snippet-masked" tabindex="0">')[1].split("</pre>")[0]
    assert token not in masked and token[:8] + "•" in masked
    assert "Show secret" in page.text


def test_viewers_get_no_credentials_no_task_token_and_no_key_form(
    personas, as_user, task
):
    api_key_create(project=personas.project, user=personas.owner, name="Owner key")
    page = as_user("viewer").get(_url(task), {"credential": "task-token"})
    assert page.status_code == 200
    assert "Owner key" not in page.text
    assert "This task&#x27;s access token" not in page.text
    assert decrypt_secret(task.access_token_encrypted) not in page.text
    assert "Create a new API key" not in page.text
    assert "Enable MCP" not in page.text
    assert "$RB_API_KEY" in _copied(page.text, "curl")


def test_the_fragment_answers_a_credential_change_over_htmx(personas, as_user, task):
    response = as_user("owner").get(
        _url(task), {"credential": "task-token"}, **{"headers": HX}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="integrate-body"' in response.text
    assert decrypt_secret(task.access_token_encrypted) in response.text


def test_a_key_made_here_is_shown_once_and_runs_the_generated_call(
    personas, as_user, task
):
    _run(task, personas.editor, customer_review="Lovely")
    client = as_user("editor")
    response = client.post(_url(task, "task_integrate_key"), {"name": "From docs"})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="From docs")
    secret = response.context["new_secret"]
    assert secret.startswith(key.prefix)
    curl = _copied(response.text, "curl")
    assert f"Authorization: Bearer {secret}" in curl
    assert response.context["chosen"].value == f"key:{key.pk}"
    assert secret in response.context["mcp_config"]
    # The body and bearer of the snippet, sent as they are: a 200 run.
    run = as_user("editor").post(
        response.context["run_url"],
        json.dumps(response.context["run_body"]),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert run.status_code == 200, run.content
    assert run.json()["run_data"]["submitted"]["customer_review"] == "Lovely"
    # Never again: the next page names the key but has no secret.
    later = client.get(_url(task))
    assert secret not in later.text and "From docs" in later.text


def test_a_key_over_htmx_answers_the_fragment_and_an_event(personas, as_user, task):
    response = as_user("editor").post(
        _url(task, "task_integrate_key"), {"name": "Over htmx"}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response["HX-Trigger"] == "api-key-created"
    assert "will not be shown again" in response.text


def test_a_key_without_a_name_is_refused_inline(personas, as_user, task):
    response = as_user("editor").post(
        _url(task, "task_integrate_key"), {"name": "   "}, headers=HX
    )
    assert response.status_code == 200
    assert "field-error" in response.text and "This field is required" in (
        response.text
    )
    assert not ApiKey.objects.exists()


def test_only_project_editors_make_keys_and_outsiders_see_nothing(
    personas, as_user, task
):
    url = _url(task, "task_integrate_key")
    assert as_user("viewer").post(url, {"name": "Mine"}).status_code == 403
    assert as_user("outsider").post(url, {"name": "Mine"}).status_code == 404
    assert as_user("outsider").get(_url(task)).status_code == 404
    assert not ApiKey.objects.exists()


def test_editors_turn_mcp_on_and_off(personas, as_user, task):
    url = _url(task, "task_integrate_mcp")
    client = as_user("editor")
    page = client.get(_url(task))
    assert "Enable MCP" in page.text and "http://testserver/mcp" in page.text
    assert "<code>review_judge</code>" in page.text
    schema = page.context["mcp_schema"]
    assert json.loads(schema)["required"] == ["customer_review", "product"]
    on = client.post(url, {"mcp_enabled": "on"})
    assert on.status_code == 302 and on["Location"] == _url(task)
    task.refresh_from_db()
    assert task.mcp_enabled
    off = client.post(url, {}, headers=HX)
    assert off.status_code == 200 and off["HX-Trigger"] == "mcp-toggled"
    assert "<html" not in off.text and "Enable MCP" in off.text
    task.refresh_from_db()
    assert not task.mcp_enabled


def test_viewers_cannot_turn_mcp_on_and_outsiders_get_404(personas, as_user, task):
    url = _url(task, "task_integrate_mcp")
    assert as_user("viewer").post(url, {"mcp_enabled": "on"}).status_code == 403
    assert as_user("outsider").post(url, {"mcp_enabled": "on"}).status_code == 404
    task.refresh_from_db()
    assert not task.mcp_enabled


def test_the_mcp_key_selector_offers_the_callers_keys(personas, as_user, task):
    first, _ = api_key_create(project=personas.project, user=personas.editor, name="A")
    second, _ = api_key_create(project=personas.project, user=personas.editor, name="B")
    page = as_user("editor").get(_url(task), {"mcp_key": f"key:{first.pk}"})
    assert page.context["mcp_key"].api_key == first
    assert f'<option value="key:{second.pk}">B' in page.text
    assert "Bearer ${RB_API_KEY}" in page.context["mcp_config"]


def test_the_page_costs_the_same_with_many_runs_and_keys(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("owner")
    _run(task, personas.owner)
    api_key_create(project=personas.project, user=personas.owner, name="One")
    client.get(_url(task))
    # 1 session, 2 user, 3 project with role, 4 task, 5 API keys, 6 OAuth
    # clients, 7 traffic with revisions and models, 8 latest own run,
    # 9-10 the switcher.
    with django_assert_num_queries(10):
        client.get(_url(task))
    for index in range(5):
        _run(task, personas.owner)
        api_key_create(project=personas.project, user=personas.admin, name=f"K{index}")
    with django_assert_num_queries(10):
        page = client.get(_url(task))
    assert page.text.count('<option value="key:') == 2 * 6  # API and MCP pickers


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_copied_curl_runs_the_task_on_the_live_server(
    personas, live_server, task, client, tmp_path
):
    catalogue_sync()  # the live server's flush may have emptied the catalogue
    _run(task, personas.owner, customer_review='Don\'t "quote" me $PATH')
    client.force_login(personas.owner)
    page = client.post(
        _url(task, "task_integrate_key"),
        {"name": "Curl"},
        HTTP_HOST=live_server.url.removeprefix("http://"),
    )
    curl = _copied(page.text, "curl")
    assert curl.startswith(f"curl -X POST {live_server.url}/api/v1/")
    status, body = run_curl(curl, tmp_path)
    assert status == 200, body
    run = json.loads(body)
    assert run["run_data"]["submitted"]["customer_review"] == 'Don\'t "quote" me $PATH'
    assert TaskRun.objects.filter(pk=run["id"], user=personas.owner).exists()


@pytest.mark.parametrize(
    ("snippet", "command"),
    [
        ("python", [sys.executable, "-c"]),
        ("javascript", ["node", "--input-type=module", "-e"]),
    ],
)
def test_the_python_and_javascript_examples_run_the_task_too(
    personas, live_server, task, client, snippet, command
):
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    catalogue_sync()
    _run(task, personas.owner, customer_review="true, false and null stay words")
    client.force_login(personas.owner)
    page = client.post(
        _url(task, "task_integrate_key"),
        {"name": snippet},
        HTTP_HOST=live_server.url.removeprefix("http://"),
    )
    code = _copied(page.text, snippet)
    done = subprocess.run(
        [*command, code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "sentiment" in done.stdout
    run = TaskRun.objects.filter(task=task).order_by("-created").first()
    assert run.run_data["submitted"] == {
        "customer_review": "true, false and null stay words",
        "product": "Kettle",
    }


def test_json_literals_become_python_ones_outside_strings():
    body = {"task_input": {"flag": True, "none": None, "text": 'say "true"'}}
    code = snippets.python("http://x/run", body, snippets.Bearer("RB_API_KEY"))
    assert '"flag": True' in code and '"none": None' in code
    assert '"text": "say \\"true\\""' in code
    compile(code, "<snippet>", "exec")


def test_tasks_that_need_files_or_images_say_how_to_send_them(personas, as_user, llm):
    reader = task_create(
        project=personas.project,
        user=personas.owner,
        name="Reader",
        revision=RevisionSpec(
            user_prompt="Read {doc}",
            llm_model_id=llm.vision.pk,
            image_required=True,
            input_processors=[
                {"param_name": "doc", "input_processor": "document_content_extractor"}
            ],
        ),
    )
    page = as_user("owner").get(_url(reader))
    assert "This task needs an image" in page.text
    assert "This task reads uploaded documents" in page.text
    assert json.loads(page.context["mcp_schema"])["properties"]["images"] == {
        "type": "array",
        "items": {"type": "string", "contentEncoding": "base64"},
    }


def test_the_new_task_pages_load_nothing_from_elsewhere_and_have_no_inline_scripts(
    personas, as_user, task
):
    from tests.test_pages_assets import _assert_self_hosted

    client = as_user("owner")
    for name in ("task_integrate", "task_members", "task_tags"):
        _assert_self_hosted(client.get(_url(task, name)))
