"""The model catalogue every instance starts with, and the sync that seeds it.

`catalogue_sync` upserts each entry by (vendor, name). It owns the fields the
entries list and nothing else: operators' decisions (`enabled`, `retired`,
`replaced_by`, `api_base`) and comments they edit survive any number of syncs.

Context windows, vision flags and prices come from litellm 1.106.2's bundled,
offline cost map (`litellm.model_cost`), copied here as literals so that reading
the catalogue never imports litellm. Prices are US dollars per million tokens;
the context window is the model's maximum *input* tokens, which is what a
prompt must fit in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from tasks_app.models import LLMModel, LLMModelComment
from tasks_app.snapshots import catalogue_changed


def _text_params(
    *, temperature_max: int = 2, max_tokens_max: int | None = None, top_p: bool = True
) -> dict[str, Any]:
    max_tokens: dict[str, Any] = {"type": "integer", "minimum": 1}
    if max_tokens_max is not None:
        max_tokens["maximum"] = max_tokens_max
    params: dict[str, Any] = {
        "temperature": {"type": "number", "minimum": 0, "maximum": temperature_max}
    }
    if top_p:
        params["top_p"] = {"type": "number", "minimum": 0, "maximum": 1}
    params["max_tokens"] = max_tokens
    return params


_CLAUDE_SAMPLING_COMMENT = {
    "title": "Temperature or top_p, not both",
    "description": (
        "Anthropic rejects requests to Claude 4.5 models that set both temperature "
        "and top_p. Set only one of them."
    ),
}

_GPT_5_SAMPLING_COMMENT = {
    "title": "Only the default temperature",
    "description": (
        "OpenAI's API accepts only the default temperature (1) for GPT-5 models "
        "and rejects any other value; top_p is not supported at all. Leave "
        "temperature unset and steer the output through the prompt."
    ),
}

CATALOGUE: list[dict[str, Any]] = [
    {
        "provider": "Anthropic",
        "vendor": "Anthropic",
        "name": "claude-sonnet-4-5-20250929",
        "alias": "Claude Sonnet 4.5",
        "description": (
            "Anthropic's balanced model for complex reasoning, coding and agents; "
            "reads text and images. Context window 200,000 tokens, up to 64,000 "
            "output tokens; reliable knowledge to January 2025."
        ),
        "litellm_model": "anthropic/claude-sonnet-4-5-20250929",
        "api_key_env": "ANTHROPIC_API_KEY",
        "supports_vision": True,
        "max_context_window": 200_000,
        "model_params": _text_params(temperature_max=1, max_tokens_max=64_000),
        "input_price_per_mtok": Decimal("3.00"),
        "output_price_per_mtok": Decimal("15.00"),
        "comments": [
            _CLAUDE_SAMPLING_COMMENT,
            {
                "title": "Deprecation date: 30 November 2026",
                "description": (
                    "Provider data records 30 November 2026 as this snapshot's "
                    "deprecation date. Plan a move to a newer Claude Sonnet model."
                ),
            },
        ],
    },
    {
        "provider": "Anthropic",
        "vendor": "Anthropic",
        "name": "claude-haiku-4-5-20251001",
        "alias": "Claude Haiku 4.5",
        "description": (
            "Anthropic's fastest, lowest-cost model with near-frontier quality; "
            "reads text and images. Context window 200,000 tokens, up to 64,000 "
            "output tokens; reliable knowledge to February 2025."
        ),
        "litellm_model": "anthropic/claude-haiku-4-5-20251001",
        "api_key_env": "ANTHROPIC_API_KEY",
        "supports_vision": True,
        "max_context_window": 200_000,
        "model_params": _text_params(temperature_max=1, max_tokens_max=64_000),
        "input_price_per_mtok": Decimal("1.00"),
        "output_price_per_mtok": Decimal("5.00"),
        "comments": [_CLAUDE_SAMPLING_COMMENT],
    },
    {
        "provider": "OpenAI",
        "vendor": "OpenAI",
        "name": "gpt-5",
        "alias": "GPT 5",
        "description": (
            "OpenAI's flagship reasoning model for coding and multi-step tasks; "
            "reads text and images. Accepts 272,000 input tokens and writes up to "
            "128,000; knowledge to September 2024."
        ),
        "litellm_model": "openai/gpt-5",
        "api_key_env": "OPENAI_API_KEY",
        "supports_vision": True,
        "max_context_window": 272_000,
        "model_params": _text_params(max_tokens_max=128_000, top_p=False),
        "input_price_per_mtok": Decimal("1.25"),
        "output_price_per_mtok": Decimal("10.00"),
        "comments": [_GPT_5_SAMPLING_COMMENT],
    },
    {
        "provider": "OpenAI",
        "vendor": "OpenAI",
        "name": "gpt-5-mini",
        "alias": "GPT 5 Mini",
        "description": (
            "A faster, cheaper GPT-5 for well-defined tasks; reads text and images. "
            "Accepts 272,000 input tokens and writes up to 128,000; knowledge to "
            "May 2024."
        ),
        "litellm_model": "openai/gpt-5-mini",
        "api_key_env": "OPENAI_API_KEY",
        "supports_vision": True,
        "max_context_window": 272_000,
        "model_params": _text_params(max_tokens_max=128_000, top_p=False),
        "input_price_per_mtok": Decimal("0.25"),
        "output_price_per_mtok": Decimal("2.00"),
        "comments": [_GPT_5_SAMPLING_COMMENT],
    },
    {
        "provider": "Google",
        "vendor": "Google",
        "name": "gemini-2.5-pro",
        "alias": "Gemini 2.5 Pro",
        "description": (
            "Google's most capable Gemini 2.5 model, with built-in reasoning; reads "
            "text, images, audio and video. Context window 1,048,576 tokens, up to "
            "65,536 output tokens; knowledge to January 2025."
        ),
        "litellm_model": "gemini/gemini-2.5-pro",
        "api_key_env": "GEMINI_API_KEY",
        "supports_vision": True,
        "max_context_window": 1_048_576,
        "model_params": _text_params(max_tokens_max=65_536),
        # The base rate: Google doubles input (and raises output) prices for
        # prompts over 200,000 tokens, which these two figures do not capture.
        "input_price_per_mtok": Decimal("1.25"),
        "output_price_per_mtok": Decimal("10.00"),
    },
    {
        "provider": "Google",
        "vendor": "Google",
        "name": "gemini-2.5-flash",
        "alias": "Gemini 2.5 Flash",
        "description": (
            "Google's fast, low-cost Gemini 2.5 model with built-in reasoning; reads "
            "text, images, audio and video. Context window 1,048,576 tokens, up to "
            "65,536 output tokens; knowledge to January 2025."
        ),
        "litellm_model": "gemini/gemini-2.5-flash",
        "api_key_env": "GEMINI_API_KEY",
        "supports_vision": True,
        "max_context_window": 1_048_576,
        "model_params": _text_params(max_tokens_max=65_536),
        "input_price_per_mtok": Decimal("0.30"),
        "output_price_per_mtok": Decimal("2.50"),
    },
    {
        # litellm 1.106.2's map has no Groq entry for Maverick any more. The
        # context window is Groq's published figure; prices stay unknown so runs
        # say so instead of charging a guess.
        "provider": "Meta",
        "vendor": "Groq",
        "name": "meta-llama/llama-4-maverick-17b-128e-instruct",
        "alias": "Llama 4 Maverick",
        "description": (
            "Meta's open-weight mixture-of-experts model (17B active parameters, "
            "128 experts), served fast by Groq; reads text and images. Context "
            "window 131,072 tokens; knowledge to August 2024."
        ),
        "litellm_model": "groq/meta-llama/llama-4-maverick-17b-128e-instruct",
        "api_key_env": "GROQ_API_KEY",
        "supports_vision": True,
        "max_context_window": 131_072,
        "model_params": _text_params(),
        "input_price_per_mtok": None,
        "output_price_per_mtok": None,
        "comments": [
            {
                "title": "Price not known",
                "description": (
                    "The catalogue has no price for this model on Groq, so its "
                    "runs report unknown credits until an operator enters prices."
                ),
            }
        ],
    },
    {
        # Image models have no context figure in litellm's map. OpenAI caps
        # gpt-image-1 prompts at 32,000 characters: about 8,000 tokens. Output
        # is billed per image token ($40/Mtok), input per text token ($5/Mtok).
        "provider": "OpenAI",
        "vendor": "OpenAI",
        "name": "gpt-image-1",
        "alias": "GPT Image 1",
        "description": (
            "OpenAI's image generation model: turns a text prompt into a PNG, JPEG "
            "or WebP image up to 1536 pixels on the long side. Prompts up to about "
            "8,000 tokens."
        ),
        "litellm_model": "openai/gpt-image-1",
        "api_key_env": "OPENAI_API_KEY",
        "supports_vision": False,
        "supports_image_output": True,
        "max_context_window": 8_000,
        # The values litellm's OpenAI image config passes through for gpt-image
        # models (the spec's standard/hd are DALL-E 3's).
        "model_params": {
            "quality": {"type": "string", "enum": ["low", "medium", "high", "auto"]},
            "size": {
                "type": "string",
                "enum": ["1024x1024", "1024x1536", "1536x1024", "auto"],
            },
        },
        "input_price_per_mtok": Decimal("5.00"),
        "output_price_per_mtok": Decimal("40.00"),
        "comments": [
            {
                "title": "Deprecation date: 23 October 2026",
                "description": (
                    "Provider data records 23 October 2026 as this model's "
                    "deprecation date, so requests may fail. Prefer a newer image "
                    "model once an operator adds one."
                ),
            }
        ],
    },
    {
        "provider": "Rightbrain",
        "vendor": "Rightbrain",
        "name": "rightbrain-demo",
        "alias": "Demo model (offline)",
        "description": (
            "Answers deterministically and offline, with output that is valid "
            "against the task's schema; meant for trying Rightbrain out without "
            "provider keys. Image tasks get a small pattern and audio tasks a "
            "short tune, both made from the prompt. It costs nothing: no "
            "provider is called or paid."
        ),
        "litellm_model": "rightbrain/demo",
        "api_key_env": "",
        "supports_vision": True,
        # So that every output modality can be tried offline.
        "supports_image_output": True,
        "supports_audio_output": True,
        "max_context_window": 272_000,
        "model_params": _text_params(),
        # Free, not unknown: its runs charge "0.00" credits (domain.md §8.2).
        "input_price_per_mtok": Decimal("0"),
        "output_price_per_mtok": Decimal("0"),
    },
]


@transaction.atomic
def catalogue_sync(
    *,
    llm_model: type[LLMModel] | None = None,
    llm_model_comment: type[LLMModelComment] | None = None,
) -> int:
    """Create or refresh every catalogue model; return how many were created.

    The model classes are parameters so that a data migration can pass its
    historical ones. Rows whose catalogue fields already match are not written.
    """
    llm_model = llm_model or LLMModel
    llm_model_comment = llm_model_comment or LLMModelComment
    # A historical model from an early migration lacks fields added later; those
    # are filled by the next sync that runs against a model that has them.
    known_fields = {field.name for field in llm_model._meta.concrete_fields}
    created_count = 0
    for entry in CATALOGUE:
        fields = {key: value for key, value in entry.items() if key in known_fields}
        row = llm_model.objects.filter(
            vendor=fields["vendor"], name=fields["name"]
        ).first()
        if row is None:
            row = llm_model.objects.create(**fields)
            created_count += 1
        else:
            changed = [
                key for key, value in fields.items() if getattr(row, key) != value
            ]
            if changed:
                for key in changed:
                    setattr(row, key, fields[key])
                row.save(update_fields=[*changed, "modified"])
        existing_titles = set(
            llm_model_comment.objects.filter(llm_model=row).values_list(
                "title", flat=True
            )
        )
        llm_model_comment.objects.bulk_create(
            llm_model_comment(llm_model=row, **comment)
            for comment in entry.get("comments", [])
            if comment["title"] not in existing_titles
        )
    # bulk_create sends no signals; task snapshots show the comments.
    catalogue_changed()
    return created_count
