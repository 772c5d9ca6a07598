from __future__ import annotations

import json
import uuid

import jsonschema
import pytest

from rightbrain.errors import Invalid
from tasks_app.catalogue import CATALOGUE
from tasks_app.demo_output import demo_reply
from tasks_app.gallery import (
    CATEGORIES,
    GETTING_STARTED,
    TEMPLATES,
    task_create_from_template,
    template_named,
    templates_by_category,
)
from tasks_app.models import LLMModel
from tasks_app.output_format import compile_output_format
from tasks_app.services import base_revision, validate_task_name
from tasks_app.variables import render_prompt


@pytest.mark.django_db
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_every_template_creates_a_task_whose_inputs_are_its_examples(
    personas, template
):
    task = task_create_from_template(
        project=personas.project, user=personas.owner, template=template
    )

    revision = base_revision(task)
    assert task.name == template.name
    assert task.output_modality == template.output_modality
    assert revision.llm_model.alias == template.suggested_model
    assert revision.input_params == list(template.example_inputs)
    assert revision.input_param_descriptions == template.input_descriptions
    assert revision.output_format == template.output_format
    assert [p["param_name"] for p in revision.input_processors] == [
        p["param_name"] for p in template.input_processors
    ]
    assert revision.image_required == template.image_required
    assert revision.llm_config == {"temperature": template.temperature}
    # The example input makes a prompt whose answer fits the compiled schema.
    schema = compile_output_format(revision.output_format)
    prompt = render_prompt(revision.user_prompt, template.example_inputs)
    jsonschema.validate(json.loads(demo_reply(prompt, schema)), schema)


def test_the_gallery_holds_the_spec_templates_per_category_plus_getting_started():
    counts = {category: len(items) for category, items in templates_by_category()}

    assert list(counts) == list(CATEGORIES)
    assert sum(counts.values()) == len(TEMPLATES)
    # dashboard.md §12.1–12.6: 36 templates; §12.7 adds the quickstart examples.
    assert sum(n for c, n in counts.items() if c != GETTING_STARTED) == 36
    assert counts == {
        "Getting started": 3,
        "Growth": 6,
        "Operations": 6,
        "Financial & compliance": 3,
        "E-commerce & retail": 8,
        "Tech & data": 7,
        "Knowledge & content": 6,
    }


def test_template_names_are_valid_task_names_and_slugs_find_them():
    assert len({t.slug for t in TEMPLATES}) == len(TEMPLATES)
    assert len({t.name for t in TEMPLATES}) == len(TEMPLATES)
    for template in TEMPLATES:
        validate_task_name(template.name)
        assert template_named(template.slug) is template
    assert template_named("no-such-template") is None


def test_suggested_models_are_catalogue_models_that_can_do_the_job():
    catalogue = {entry["alias"]: entry for entry in CATALOGUE}
    for template in TEMPLATES:
        entry = catalogue[template.suggested_model]
        if template.image_required:
            assert entry["supports_vision"], template.slug


@pytest.mark.django_db
def test_a_task_from_a_template_takes_the_model_given_and_its_name(personas, llm):
    template = template_named("review-insights")
    assert template is not None

    task = task_create_from_template(
        project=personas.project,
        user=personas.owner,
        template=template,
        llm_model_id=llm.plain.pk,
        name="Boot reviews",
    )

    revision = base_revision(task)
    assert task.name == "Boot reviews"
    assert task.description == template.description
    assert revision.llm_model == llm.plain
    assert revision.llm_config == {"temperature": template.temperature}


@pytest.mark.django_db
def test_the_temperature_is_left_out_for_a_model_without_one(personas):
    bare = LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="bare",
        alias="Bare",
        litellm_model="openai/bare",
        model_params=None,
    )
    template = template_named("pr-summariser")
    assert template is not None

    task = task_create_from_template(
        project=personas.project,
        user=personas.owner,
        template=template,
        llm_model_id=bare.pk,
    )

    assert base_revision(task).llm_config == {}


@pytest.mark.django_db
def test_a_task_never_shares_the_gallery_output_format(personas):
    template = template_named("text-summarizer")
    assert template is not None
    task = task_create_from_template(
        project=personas.project, user=personas.owner, template=template
    )

    base_revision(task).output_format["extra"] = "str"

    assert "extra" not in template.output_format


@pytest.mark.django_db
def test_an_unknown_model_is_refused(personas):
    template = TEMPLATES[0]

    with pytest.raises(Invalid) as error:
        task_create_from_template(
            project=personas.project,
            user=personas.owner,
            template=template,
            llm_model_id=uuid.uuid4(),
        )

    assert error.value.field == "llm_model_id"


@pytest.mark.django_db
def test_a_missing_suggested_model_asks_for_a_choice(personas):
    template = TEMPLATES[0]
    LLMModel.objects.filter(alias=template.suggested_model).update(enabled=False)

    with pytest.raises(Invalid) as error:
        task_create_from_template(
            project=personas.project, user=personas.owner, template=template
        )

    assert error.value.field == "llm_model_id"
    assert template.suggested_model in str(error.value)
