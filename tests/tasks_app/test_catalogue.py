"""The built-in model catalogue: what the migrations seed and how a sync behaves.

The test database is built by running the migrations, so 0002's data migration
has already seeded the catalogue when each test starts.
"""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator

from tasks_app.catalogue import CATALOGUE, catalogue_sync
from tasks_app.models import LLMModel, LLMModelComment

NAMED_MODELS = {
    "Claude Sonnet 4.5",
    "Claude Haiku 4.5",
    "GPT 5",
    "GPT 5 Mini",
    "Gemini 2.5 Pro",
    "Gemini 2.5 Flash",
    "Llama 4 Maverick",
}


def _demo_model() -> LLMModel:
    return LLMModel.objects.get(vendor="Rightbrain", name="rightbrain-demo")


@pytest.mark.django_db
def test_migrations_seed_every_catalogue_model():
    seeded = set(LLMModel.objects.values_list("vendor", "name"))

    assert seeded == {(entry["vendor"], entry["name"]) for entry in CATALOGUE}


@pytest.mark.django_db
def test_the_catalogue_offers_the_named_models_the_image_model_and_the_demo():
    aliases = set(LLMModel.objects.values_list("alias", flat=True))

    assert aliases == NAMED_MODELS | {"GPT Image 1", "Demo model (offline)"}


@pytest.mark.django_db
def test_every_seeded_model_has_a_positive_context_window_and_a_litellm_model():
    for model in LLMModel.objects.all():
        assert model.max_context_window > 0, model.alias
        assert "/" in model.litellm_model, model.alias


@pytest.mark.django_db
def test_every_known_price_is_positive_and_only_groq_maverick_is_unknown():
    unknown = set()
    for model in LLMModel.objects.exclude(vendor="Rightbrain"):
        prices = (model.input_price_per_mtok, model.output_price_per_mtok)
        if prices == (None, None):
            unknown.add(model.alias)
            continue
        assert all(price is not None and price > 0 for price in prices), model.alias

    assert unknown == {"Llama 4 Maverick"}


@pytest.mark.django_db
def test_the_seven_named_models_read_images():
    vision = LLMModel.objects.filter(alias__in=NAMED_MODELS, supports_vision=True)

    assert set(vision.values_list("alias", flat=True)) == NAMED_MODELS


@pytest.mark.django_db
def test_one_real_model_outputs_images_and_it_offers_quality_and_size():
    # The offline demo draws images too, so that image tasks can be tried.
    image_model = LLMModel.objects.exclude(vendor="Rightbrain").get(
        supports_image_output=True
    )

    assert image_model.litellm_model == "openai/gpt-image-1"
    assert image_model.model_params is not None
    assert "high" in image_model.model_params["quality"]["enum"]
    assert "1024x1024" in image_model.model_params["size"]["enum"]


@pytest.mark.django_db
def test_every_model_param_is_a_valid_json_schema():
    for model in LLMModel.objects.all():
        assert model.model_params, model.alias
        for name, schema in model.model_params.items():
            Draft202012Validator.check_schema(schema)
            assert "type" in schema, f"{model.alias}.{name}"


@pytest.mark.django_db
def test_anthropic_models_cap_temperature_at_one():
    for model in LLMModel.objects.filter(provider="Anthropic"):
        assert model.model_params is not None
        assert model.model_params["temperature"]["maximum"] == 1, model.alias


@pytest.mark.django_db
def test_gpt_5_models_warn_that_only_the_default_temperature_works():
    for alias in ("GPT 5", "GPT 5 Mini"):
        model = LLMModel.objects.get(alias=alias)

        assert model.model_params is not None
        assert "temperature" in model.model_params
        assert model.comments.filter(
            active=True, description__contains="default temperature"
        ).exists()


@pytest.mark.django_db
def test_demo_model_works_offline_and_costs_nothing():
    demo = _demo_model()

    assert demo.provider == "Rightbrain"
    assert demo.alias == "Demo model (offline)"
    assert demo.litellm_model == "rightbrain/demo"
    assert demo.api_key_env == ""
    assert demo.supports_vision
    assert demo.supports_image_output and demo.supports_audio_output
    assert demo.input_price_per_mtok == 0
    assert demo.output_price_per_mtok == 0
    assert "offline" in demo.description


@pytest.mark.django_db
def test_a_second_sync_creates_nothing_and_writes_nothing():
    before = dict(LLMModel.objects.values_list("id", "modified"))
    comment_count = LLMModelComment.objects.count()

    assert catalogue_sync() == 0

    assert dict(LLMModel.objects.values_list("id", "modified")) == before
    assert LLMModelComment.objects.count() == comment_count


@pytest.mark.django_db
def test_sync_recreates_a_deleted_model_with_its_comments():
    LLMModel.objects.filter(name="gpt-5").delete()

    assert catalogue_sync() == 1

    gpt_5 = LLMModel.objects.get(vendor="OpenAI", name="gpt-5")
    assert gpt_5.comments.count() == 1


@pytest.mark.django_db
def test_sync_keeps_what_an_operator_decided():
    sonnet = LLMModel.objects.get(alias="Claude Sonnet 4.5")
    haiku = LLMModel.objects.get(alias="Claude Haiku 4.5")
    retired_at = timezone.now()
    sonnet.enabled = False
    sonnet.retired = retired_at
    sonnet.replaced_by = haiku
    sonnet.save()

    catalogue_sync()

    sonnet.refresh_from_db()
    assert sonnet.enabled is False
    assert sonnet.retired == retired_at
    assert sonnet.replaced_by == haiku


@pytest.mark.django_db
def test_sync_restores_catalogue_figures_an_operator_changed():
    LLMModel.objects.filter(alias="GPT 5").update(
        input_price_per_mtok=Decimal("99"), max_context_window=1
    )

    assert catalogue_sync() == 0

    gpt_5 = LLMModel.objects.get(alias="GPT 5")
    assert gpt_5.input_price_per_mtok == Decimal("1.25")
    assert gpt_5.max_context_window == 272_000


@pytest.mark.django_db
def test_sync_leaves_an_operators_comment_edits_alone():
    comment = LLMModelComment.objects.get(
        llm_model__alias="Llama 4 Maverick", title="Price not known"
    )
    comment.active = False
    comment.description = "Priced in our Groq contract."
    comment.save()

    catalogue_sync()

    comment.refresh_from_db()
    assert comment.active is False
    assert comment.description == "Priced in our Groq contract."
    assert comment.llm_model.comments.count() == 1


@pytest.mark.django_db
def test_sync_model_catalogue_command_says_how_many_it_created():
    _demo_model().delete()
    out = StringIO()

    call_command("sync_model_catalogue", stdout=out)

    assert "1 created" in out.getvalue()
    assert _demo_model().alias == "Demo model (offline)"


@pytest.mark.django_db
def test_admin_lists_the_catalogue_and_explains_openai_compatible_endpoints(
    admin_client,
):
    changelist = admin_client.get(reverse("admin:tasks_app_llmmodel_changelist"))
    change_form = admin_client.get(
        reverse("admin:tasks_app_llmmodel_change", args=[_demo_model().pk])
    )

    assert changelist.status_code == 200
    assert "Gemini 2.5 Flash" in changelist.text
    assert change_form.status_code == 200
    assert "http://localhost:11434/v1" in change_form.text
    assert "Ollama" in change_form.text


@pytest.mark.django_db
def test_admin_adds_an_ollama_model(admin_client):
    response = admin_client.post(
        reverse("admin:tasks_app_llmmodel_add"),
        {
            "alias": "Llama 3.2 (local)",
            "description": "Runs on our own Ollama server.",
            "provider": "Meta",
            "vendor": "Ollama",
            "name": "llama3.2",
            "litellm_model": "openai/llama3.2",
            "api_base": "http://localhost:11434/v1",
            "api_key_env": "",
            "max_context_window": "131072",
            "model_params": "null",
            "input_price_per_mtok": "",
            "output_price_per_mtok": "",
            "enabled": "on",
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    local = LLMModel.objects.get(vendor="Ollama", name="llama3.2")
    assert local.api_base == "http://localhost:11434/v1"
    assert local.input_price_per_mtok is None
