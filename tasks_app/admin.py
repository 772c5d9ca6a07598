from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field
from django.forms import Field as FormField
from django.http import HttpRequest

from tasks_app.models import LLMModel, LLMModelComment

# Fuller than the models' help texts: the admin is where operators connect models.
HELP_TEXTS = {
    "litellm_model": (
        "What litellm is asked for: provider prefix and model, e.g. "
        "<code>anthropic/claude-sonnet-4-5-20250929</code>. For an "
        "OpenAI-compatible server use <code>openai/&lt;model&gt;</code>, "
        "e.g. <code>openai/llama3.2</code>, and set the API base below."
    ),
    "api_base": (
        "Only for OpenAI-compatible servers you run yourself: the URL up to "
        "and including <code>/v1</code>. Ollama: "
        "<code>http://localhost:11434/v1</code>; vLLM: "
        "<code>http://localhost:8000/v1</code>; llama.cpp server: "
        "<code>http://localhost:8080/v1</code>. Leave blank for the "
        "providers' own APIs."
    ),
    "api_key_env": (
        "Name of the environment variable holding the key, e.g. "
        "<code>OPENAI_API_KEY</code>; never the key itself. Leave blank if "
        "the server needs no key."
    ),
    "max_context_window": "Maximum input tokens; longer prompts are refused.",
    "model_params": (
        "Parameters a task may set, each with a JSON Schema, e.g. "
        '<code>{"temperature": {"type": "number", "minimum": 0, '
        '"maximum": 2}}</code>.'
    ),
    "input_price_per_mtok": (
        "US dollars per million input tokens; blank if unknown (runs then "
        "report unknown credits)."
    ),
    "output_price_per_mtok": "US dollars per million output tokens; blank if unknown.",
    "enabled": (
        "Disabled models are not offered to any project, and runs of "
        "revisions that name one are refused."
    ),
    "retired": (
        "Retired models cannot be chosen for new revisions; existing ones "
        "run on the replacement, or fail if there is none."
    ),
}


class LLMModelCommentInline(admin.TabularInline):
    model = LLMModelComment
    extra = 0
    fields = ["title", "description", "active", "created"]
    readonly_fields = ["created"]


@admin.register(LLMModel)
class LLMModelAdmin(admin.ModelAdmin):
    list_display = [
        "alias",
        "provider",
        "vendor",
        "litellm_model",
        "vision",
        "image_output",
        "input_price_per_mtok",
        "output_price_per_mtok",
        "retired",
        "enabled",
    ]
    list_filter = [
        "enabled",
        ("retired", admin.EmptyFieldListFilter),
        "supports_vision",
        "supports_image_output",
        "provider",
        "vendor",
    ]
    search_fields = ["alias", "name", "provider", "vendor", "litellm_model", "id"]
    readonly_fields = ["id", "created", "modified"]
    autocomplete_fields = ["replaced_by"]
    inlines = [LLMModelCommentInline]
    # Adding a model served by Ollama or vLLM is easiest from a similar entry.
    save_as = True
    fieldsets = [
        (None, {"fields": ["id", "alias", "description"]}),
        (
            "Identity",
            {
                "fields": ["provider", "vendor", "name"],
                "description": (
                    "Who made the model, who serves it, and the name the host's API "
                    "knows it by. Vendor and name together are unique."
                ),
            },
        ),
        (
            "Connection",
            {
                "fields": ["litellm_model", "api_base", "api_key_env"],
                "description": (
                    "Calls go through litellm. To add any OpenAI-compatible "
                    "endpoint (Ollama, vLLM, llama.cpp and the like), set the "
                    "litellm model to <code>openai/&lt;model&gt;</code> and the API "
                    "base to the server's <code>/v1</code> URL."
                ),
            },
        ),
        (
            "Capabilities",
            {
                "fields": [
                    "supports_vision",
                    "supports_image_output",
                    "supports_audio_output",
                    "max_context_window",
                    "model_params",
                ]
            },
        ),
        (
            "Prices",
            {
                "fields": ["input_price_per_mtok", "output_price_per_mtok"],
                "description": "List prices that run credits are computed from.",
            },
        ),
        (
            "Availability",
            {
                "fields": ["enabled", "retired", "replaced_by"],
                "description": (
                    "Yours to decide: <code>manage.py sync_model_catalogue</code> "
                    "refreshes built-in models but never touches these fields."
                ),
            },
        ),
        ("Dates", {"fields": ["created", "modified"]}),
    ]

    def formfield_for_dbfield(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> FormField | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in HELP_TEXTS:
            formfield.help_text = HELP_TEXTS[db_field.name]
        return formfield

    @admin.display(description="Vision", boolean=True, ordering="supports_vision")
    def vision(self, obj: LLMModel) -> bool:
        return obj.supports_vision

    @admin.display(
        description="Image output", boolean=True, ordering="supports_image_output"
    )
    def image_output(self, obj: LLMModel) -> bool:
        return obj.supports_image_output
