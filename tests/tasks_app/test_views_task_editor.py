"""Create Task and the task editor (dashboard.md §2, checklist 129–134): the
three tabs, live variables, input formats, images, the output schema editor,
settings, saving through the services, and who may do it."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from tasks_app.models import ActiveRevision, Task
from tasks_app.services import RevisionSpec, task_create, task_update

HX = {"HX-Request": "true"}


def _create_url(personas) -> str:
    return reverse("task_create", args=[personas.project.pk])


@pytest.fixture
def form_data(llm):
    def data(**overrides):
        return {
            "name": "Review sorter",
            "description": "",
            "user_prompt": "Please conduct sentiment analysis on the {customer_review}",
            "system_prompt": "",
            "output_modality": "json",
            "output_format": json.dumps(
                {"sentiment": {"type": "str", "options": ["positive", "negative"]}}
            ),
            "llm_model": str(llm.vision.pk),
            "fallback_llm_model": "",
            "temperature_set": "on",
            "temperature": "30",
            "enabled": "on",
            "optimise_images": "on",
            "task_run_visibility": "owner_only",
            "task_forwarder": "",
            "editor_action": "save",
            **overrides,
        }

    return data


# Create: the page and who may open it ------------------------------------------------


def test_create_shows_the_three_tabs_in_order(personas, as_user, llm):
    page = as_user("editor").get(_create_url(personas))
    assert page.status_code == 200
    text = page.text
    assert text.index("> Prompts") < text.index("> I/O") < text.index("> Settings")
    assert "After 4 consecutive failures" in text
    assert 'name="temperature" id="id_temperature" min="0" max="100"' in text


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("outsider", 404)])
def test_create_is_refused_to_viewers_and_hidden_from_outsiders(
    personas, as_user, llm, persona, status, form_data
):
    client = as_user(persona)
    assert client.get(_create_url(personas)).status_code == status
    assert client.post(_create_url(personas), form_data()).status_code == status
    assert not Task.objects.exists()


def test_create_page_queries_are_fixed(
    personas, as_user, llm, django_assert_num_queries
):
    client = as_user("editor")
    client.get(_create_url(personas))
    # 1 session, 2 user, 3 project with role, 4 models, 5 their comments,
    # 6 forwarders, 7-8 the switcher.
    with django_assert_num_queries(8):
        assert client.get(_create_url(personas)).status_code == 200


# Prompts: variables found while typing, nothing saved (129) ---------------------------


def test_typing_a_variable_adds_its_input_without_saving(personas, as_user, form_data):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(
            editor_action="inputs",
            user_prompt="Please conduct sentiment analysis on the {customer_review}",
        ),
        headers={**HX, "HX-Trigger": "id_user_prompt"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="input-customer_review"' in response.text
    assert '<option value="string" selected>String</option>' in response.text
    # The chips on the Prompts tab follow out of band.
    assert (
        'id="variable-chips" class="variable-chips" aria-live="polite" '
        'hx-swap-oob="true"' in response.text
    )
    assert not Task.objects.exists()


def test_inputs_keep_what_was_typed_for_variables_that_stay(
    personas, as_user, form_data
):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(
            editor_action="inputs",
            user_prompt="Compare {a} with {b}",
            input_a_description="The first one",
        ),
        headers=HX,
    )
    assert 'value="The first one"' in response.text
    assert 'id="input-b"' in response.text


# I/O: input formats (130) and images (131) -----------------------------------------


def test_the_pencil_writes_input_processors(personas, as_user, form_data):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(
            user_prompt="Research {company} and read {site} and {contract}",
            input_company_format="perplexity_search",
            input_company_max_results="12",
            input_company_query_context="top competitors for {company}",
            input_site_format="url_fetcher",
            input_site_fallback_text="No page",
            input_contract_format="document_content_extractor",
        ),
    )
    assert response.status_code == 302
    revision = Task.objects.get().revisions.get()
    assert revision.input_processors == [
        {
            "param_name": "company",
            "input_processor": "perplexity_search",
            "config": {
                "max_results": 12,
                "query_context": "top competitors for {company}",
            },
        },
        {
            "param_name": "site",
            "input_processor": "url_fetcher",
            "config": {"fallback_text": "No page"},
        },
        {
            "param_name": "contract",
            "input_processor": "document_content_extractor",
            "config": {},
        },
    ]


def test_perplexity_offers_five_to_twenty_results_and_checks_its_augmenting_text(
    personas, as_user, form_data
):
    page = as_user("editor").get(_create_url(personas) + "?template=account-enricher")
    assert 'min="5" max="20"' in page.text
    response = as_user("editor").post(
        _create_url(personas),
        form_data(
            user_prompt="Research {company}",
            input_company_format="perplexity_search",
            input_company_max_results="30",
            input_company_query_context="no variable here",
        ),
        headers=HX,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Ensure this value is less than or equal to 20" in response.text
    assert not Task.objects.exists()


def test_image_toggles_map_to_image_required_and_optimise_images(
    personas, as_user, form_data, llm
):
    as_user("editor").post(
        _create_url(personas),
        form_data(image_required="on", optimise_images=""),
    )
    revision = Task.objects.get().revisions.get()
    assert revision.image_required is True
    assert revision.optimise_images is False


def test_required_images_on_a_model_without_vision_is_refused_inline(
    personas, as_user, form_data, llm
):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(image_required="on", llm_model=str(llm.plain.pk)),
        headers=HX,
    )
    assert response.status_code == 200
    assert "cannot read images; choose a vision model" in response.text
    assert not Task.objects.exists()


# I/O: the output schema editor (132) ----------------------------------------------


def _json_view(text: str):
    match = re.search(
        r'<textarea name="output_format"[^>]*>(.*?)</textarea>', text, re.S
    )
    assert match, "no JSON view"
    return json.loads(html.unescape(match.group(1)))


def _schema_action(client, personas, form_data, action, fmt=None, **fields):
    data = form_data(editor_action=action, **fields)
    if fmt is not None:
        data["output_format"] = json.dumps(fmt)
    return client.post(_create_url(personas), data, headers=HX)


def test_add_property_updates_the_visual_and_the_json_view(
    personas, as_user, form_data
):
    client = as_user("editor")
    response = _schema_action(
        client,
        personas,
        form_data,
        "schema:save",
        {},
        prop_name="tone",
        prop_type="str",
        prop_options="positive, negative, neutral",
        prop_description="Overall tone",
    )
    assert response.status_code == 200
    assert '<div id="schema-editor"' in response.text
    assert "<html" not in response.text
    assert "<code>tone</code>" in response.text
    # The JSON view holds the same format.
    assert _json_view(response.text) == {
        "tone": {
            "type": "str",
            "options": ["positive", "negative", "neutral"],
            "description": "Overall tone",
        }
    }
    listed = _schema_action(
        client,
        personas,
        form_data,
        "schema:save",
        {"tone": {"type": "str"}},
        prop_name="points",
        prop_type="str",
        prop_array="on",
    )
    assert "&quot;item_type&quot;: &quot;str&quot;" in listed.text
    assert ">List<" in listed.text


def test_enum_values_on_a_list_are_refused_inline(personas, as_user, form_data):
    response = _schema_action(
        as_user("editor"),
        personas,
        form_data,
        "schema:save",
        {},
        prop_name="tags",
        prop_type="str",
        prop_array="on",
        prop_options="a, b",
    )
    assert "only single string properties take enum values" in response.text


def test_nested_objects_take_sub_properties(personas, as_user, form_data):
    client = as_user("editor")
    fmt = {"vendor": {"type": "object"}}
    opened = _schema_action(client, personas, form_data, "schema:sub:vendor", fmt)
    assert 'name="prop_parent" value="vendor"' in opened.text
    added = _schema_action(
        client,
        personas,
        form_data,
        "schema:save",
        fmt,
        prop_parent="vendor",
        prop_name="tax_id",
        prop_type="str",
    )
    assert "&quot;nested_structure&quot;" in added.text
    assert 'id="property-vendortax_id"' in added.text


def test_edit_and_remove_a_property(personas, as_user, form_data):
    client = as_user("editor")
    fmt = {"a": {"type": "int", "description": "count"}, "b": "str"}
    opened = _schema_action(client, personas, form_data, "schema:edit:a", fmt)
    assert 'name="prop_original" value="a"' in opened.text
    assert "Save property" in opened.text
    renamed = _schema_action(
        client,
        personas,
        form_data,
        "schema:save",
        fmt,
        prop_original="a",
        prop_name="count",
        prop_type="int",
    )
    assert "<code>count</code>" in renamed.text
    assert "<code>a</code>" not in renamed.text
    removed = _schema_action(client, personas, form_data, "schema:remove:b", fmt)
    assert "<code>b</code>" not in removed.text


def test_the_json_view_redraws_the_visual_view_with_inline_errors(
    personas, as_user, form_data
):
    client = as_user("editor")
    good = _schema_action(
        client, personas, form_data, "schema:parse", {"score": "number"}
    )
    assert good.text.lstrip().startswith('<div id="schema-visual"')
    assert "<code>score</code>" in good.text
    bad = _schema_action(
        client, personas, form_data, "schema:parse", {"bad-name": "str"}
    )
    assert (
        "The JSON view has an error: bad-name: field names start with a letter"
        in bad.text
    )


def test_a_pasted_json_schema_is_converted(personas, as_user, form_data):
    schema = {
        "type": "object",
        "properties": {
            "sentiment": {"type": "string", "enum": ["up", "down"]},
            "points": {"type": "array", "items": {"type": "string"}},
        },
    }
    client = as_user("editor")
    parsed = _schema_action(client, personas, form_data, "schema:parse", schema)
    assert "This is a JSON Schema" in parsed.text
    saved = client.post(
        _create_url(personas), form_data(output_format=json.dumps(schema))
    )
    assert saved.status_code == 302
    assert Task.objects.get().revisions.get().output_format == {
        "sentiment": {"type": "str", "options": ["up", "down"]},
        "points": {"type": "list", "item_type": "str"},
    }


def test_schema_actions_without_javascript_render_the_whole_editor(
    personas, as_user, form_data
):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(editor_action="schema:save", prop_name="score", prop_type="int"),
    )
    assert response.status_code == 200
    assert "<html" in response.text
    assert "<code>score</code>" in response.text
    assert 'value="Review sorter"' in response.text
    assert not Task.objects.exists()


def test_image_output_saves_without_an_output_format(personas, as_user, form_data, llm):
    as_user("editor").post(
        _create_url(personas),
        form_data(output_modality="image", llm_model=str(llm.image.pk)),
    )
    task = Task.objects.get()
    assert task.output_modality == "image"
    assert task.revisions.get().output_format is None


# Settings (133) and saving (134) ------------------------------------------------------


def test_a_name_with_an_underscore_is_refused_inline_while_typing(
    personas, as_user, form_data
):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(editor_action="name", name="Review_sorter"),
        headers=HX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="name-errors"')
    assert "only letters, digits, spaces and hyphens" in response.text
    fine = as_user("editor").post(
        _create_url(personas),
        form_data(editor_action="name", name="Review sorter"),
        headers=HX,
    )
    assert "<p>" not in fine.text


def test_saving_a_bad_name_rerenders_the_form_with_the_error(
    personas, as_user, form_data
):
    response = as_user("editor").post(
        _create_url(personas), form_data(name="Review_sorter"), headers=HX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form id="task-editor"')
    assert "only letters, digits, spaces and hyphens" in response.text
    assert 'data-active-tab="settings"' in response.text
    page = as_user("editor").post(
        _create_url(personas), form_data(name="Review_sorter")
    )
    assert page.status_code == 200
    assert "<html" in page.text
    assert not Task.objects.exists()


def test_create_saves_temperature_as_percent_over_100_and_lands_on_run(
    personas, as_user, form_data
):
    response = as_user("editor").post(
        _create_url(personas), form_data(temperature="30")
    )
    task = Task.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "task_run", args=[personas.project.pk, task.pk]
    )
    revision = task.revisions.get()
    assert revision.llm_config == {"temperature": 0.3}
    assert ActiveRevision.objects.get(task=task).task_revision == revision


def test_create_over_htmx_redirects_the_browser(personas, as_user, form_data):
    response = as_user("editor").post(_create_url(personas), form_data(), headers=HX)
    task = Task.objects.get()
    assert response["HX-Redirect"] == reverse(
        "task_run", args=[personas.project.pk, task.pk]
    )


def test_model_change_redraws_its_settings(personas, as_user, form_data, llm):
    response = as_user("editor").post(
        _create_url(personas),
        form_data(editor_action="model", llm_model=str(llm.image.pk)),
        headers=HX,
    )
    assert response.text.lstrip().startswith('<div id="model-settings"')
    assert "takes no temperature setting" in response.text
    assert 'name="param_quality"' in response.text


def test_the_template_prefills_prompt_inputs_processors_and_outputs(
    personas, as_user, llm
):
    page = as_user("editor").get(_create_url(personas) + "?template=account-enricher")
    assert "Starting from the “Account Enricher” template" in page.text
    assert 'id="input-company"' in page.text
    assert '<option value="perplexity_search" selected>' in page.text
    assert "&quot;talking_points&quot;" in page.text or "talking_points" in page.text


# Edit: every save is a new revision, never live unless asked --------------------------


@pytest.fixture
def existing(personas, llm):
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Existing",
        revision=RevisionSpec(
            user_prompt="Judge {review}",
            llm_model_id=llm.vision.pk,
            llm_config={"temperature": 0.5},
            output_format={"verdict": "str"},
        ),
    )


def _edit_url(personas, task) -> str:
    return reverse("task_edit", args=[personas.project.pk, task.pk])


def test_edit_starts_from_the_live_revision(personas, as_user, existing):
    page = as_user("editor").get(_edit_url(personas, existing))
    assert page.status_code == 200
    assert "Judge {review}" in page.text
    assert 'value="50"' in page.text
    assert (
        'name="make_live" id="id_make_live" checked' in page.text
        or 'id="id_make_live" checked' in page.text
    )


def test_saving_an_edit_makes_a_revision_that_is_not_live(
    personas, as_user, existing, form_data, llm
):
    response = as_user("editor").post(
        _edit_url(personas, existing),
        form_data(
            name="Existing",
            user_prompt="Judge {review} briefly",
            source_revision=str(existing.revisions.get().pk),
        ),
    )
    assert response.status_code == 302
    assert existing.revisions.count() == 2
    live = ActiveRevision.objects.get(task=existing)
    assert live.task_revision.user_prompt == "Judge {review}"


def test_make_live_sends_all_traffic_to_the_new_revision(
    personas, as_user, existing, form_data
):
    as_user("editor").post(
        _edit_url(personas, existing),
        form_data(name="Existing", user_prompt="New {review}", make_live="on"),
        headers=HX,
    )
    live = ActiveRevision.objects.get(task=existing)
    assert live.task_revision.user_prompt == "New {review}"
    assert live.weight == 1


def test_an_unchanged_configuration_makes_no_revision(
    personas, as_user, existing, form_data
):
    revision = existing.revisions.get()
    as_user("editor").post(
        _edit_url(personas, existing),
        form_data(
            name="Renamed",
            user_prompt="Judge {review}",
            output_format=json.dumps({"verdict": "str"}),
            temperature="50",
            source_revision=str(revision.pk),
        ),
    )
    existing.refresh_from_db()
    assert existing.name == "Renamed"
    assert existing.revisions.count() == 1


def test_a_test_revision_cannot_be_made_live(personas, as_user, existing, form_data):
    response = as_user("editor").post(
        _edit_url(personas, existing),
        form_data(name="Existing", user_prompt="T {review}", test="on", make_live="on"),
        headers=HX,
    )
    assert response.status_code == 200
    assert "A test revision never receives traffic" in response.text
    assert existing.revisions.count() == 1


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("outsider", 404)])
def test_edit_is_refused_to_viewers_and_hidden_from_outsiders(
    personas, as_user, existing, form_data, persona, status
):
    client = as_user(persona)
    assert client.get(_edit_url(personas, existing)).status_code == status
    assert client.post(_edit_url(personas, existing), form_data()).status_code == status


def test_a_viewer_with_a_direct_editor_grant_may_edit(personas, as_user, existing):
    from tasks_app.models import TaskMember

    TaskMember.objects.create(
        task=existing, subject_type="user", subject_id=personas.viewer.pk, role="editor"
    )
    assert as_user("viewer").get(_edit_url(personas, existing)).status_code == 200


def test_edit_page_queries_do_not_grow_with_revisions(
    personas, as_user, existing, django_assert_num_queries
):
    client = as_user("editor")
    url = _edit_url(personas, existing)
    client.get(url)
    for n in range(20):
        task_update(
            task=existing,
            user=personas.owner,
            revision_fields={"user_prompt": f"v{n} {{x}}"},
        )
    # 1 session, 2 user, 3 project with role, 4 task, 5 caller's grants,
    # 6 the live revision, 7 its model, 8 models, 9 their comments,
    # 10 traffic entries counted, 11 forwarders, 12-13 the switcher.
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200
