"""Forms of the dashboard's task pages.

Forms only parse what the browser sent; every rule about tasks is checked by the
services (tasks_app/services.py), whose errors the views put next to the field
they name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django import forms

from rightbrain.errors import DomainError
from tasks_app.input_processors import processor_named
from tasks_app.output_format import OutputFormatError
from tasks_app.schema_editor import (
    PROPERTY_TYPES,
    PropertyInput,
    format_text,
    parse_format_text,
)
from tasks_app.services import RevisionSpec, validate_task_name
from tasks_app.variables import detect_variables


class TaskListFilterForm(forms.Form):
    """The task list's search box, tag filter and page cursor (all in the URL)."""

    q = forms.CharField(
        label="Search by name",
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Search tasks",
                "autocomplete": "off",
            }
        ),
    )
    tag = forms.TypedChoiceField(
        label="Tag", required=False, coerce=UUID, empty_value=None
    )
    after = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, tags: Sequence[Any]):
        super().__init__(data)
        field = self.fields["tag"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "All tags")] + [(str(t.id), t.label) for t in tags]


# The task editor (dashboard.md §2) --------------------------------------------------

STRING_FORMAT = "string"
INPUT_FORMATS = [
    (STRING_FORMAT, "String"),
    ("url_fetcher", "Web crawl"),
    ("document_content_extractor", "PDFs, PPT and CSVs"),
    ("perplexity_search", "Perplexity search"),
]
# Each input format's settings: form field suffix → processor config key.
FORMAT_SETTINGS: dict[str, list[str]] = {
    STRING_FORMAT: [],
    "url_fetcher": ["fallback_text", "max_length"],
    "document_content_extractor": ["max_length"],
    "perplexity_search": ["max_results", "query_context"],
}
MODALITIES = [
    ("json", "Text output", "Structured fields you define (JSON)."),
    ("image", "Image output", "Generated visuals."),
    ("audio", "Audio output", "Speech or sound."),
    ("text", "Plain text", "One block of text, no fields."),
    ("pdf", "PDF", "A laid-out document."),
    ("csv", "CSV", "A table."),
]
# Which tab shows each field, so the tab with an error can be opened.
PROMPT_FIELDS = {"user_prompt", "system_prompt"}
IO_FIELDS = {"image_required", "optimise_images", "output_modality", "output_format"}


# The revision fields the editor shows (annotation and test are added when set).
_REVISION_KEYS = (
    "system_prompt",
    "user_prompt",
    "llm_model_id",
    "llm_config",
    "fallback_llm_model_id",
    "output_format",
    "task_forwarder_id",
    "image_required",
    "optimise_images",
    "input_processors",
    "input_param_descriptions",
)


def input_field(variable: str, part: str) -> str:
    return f"input_{variable}_{part}"


def temperature_from_percent(percent: int, maximum: float) -> float:
    """The slider's 0–100 % as a temperature: percent / 100 (dashboard.md §2.3),
    scaled down for the rare model whose temperature stops below 1."""
    return round(percent / 100 * min(maximum, 1.0), 3)


def percent_from_temperature(temperature: float, maximum: float) -> int:
    return round(temperature * 100 / min(maximum, 1.0))


class ModelChoice:
    """A catalogue model as the picker shows it."""

    def __init__(self, model: Any, *, current: bool = False):
        self.model = model
        self.current = current

    @property
    def id(self) -> str:
        return str(self.model.pk)

    @property
    def price(self) -> str:
        m = self.model
        if m.input_price_per_mtok is None or m.output_price_per_mtok is None:
            return "price unknown"
        if not m.input_price_per_mtok and not m.output_price_per_mtok:
            return "free"
        return (
            f"${m.input_price_per_mtok.normalize():f} in / "
            f"${m.output_price_per_mtok.normalize():f} out per M tokens"
        )

    @property
    def label(self) -> str:
        m = self.model
        parts = [m.alias, m.provider]
        if m.supports_vision:
            parts.append("vision")
        if m.supports_image_output:
            parts.append("image output")
        parts.append(self.price)
        if m.is_retired:
            parts.append("retired")
        return " · ".join(parts)

    @property
    def params(self) -> dict[str, Any]:
        return self.model.model_params or {}

    @property
    def temperature_max(self) -> float | None:
        schema = self.params.get("temperature")
        if not isinstance(schema, dict):
            return None
        return float(schema.get("maximum", 1))


class TaskEditorForm(forms.Form):
    """Every field of the Prompts, I/O and Settings tabs.

    Fields that depend on what is being edited are added in `__init__`: one set
    per prompt variable (its input format and that format's settings) and one
    field per setting of the chosen model besides the temperature.
    """

    name = forms.CharField(
        max_length=255,
        help_text="Letters, numbers, spaces and hyphens.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the task does and when to use it.",
    )
    user_prompt = forms.CharField(
        label="User prompt",
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "true"}),
        help_text="What to do with the input. Put each input in braces, like "
        "{customer_review}.",
    )
    system_prompt = forms.CharField(
        label="System prompt",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Who the model should be: its role, expertise and constant rules.",
    )
    image_required = forms.BooleanField(label="Required images", required=False)
    optimise_images = forms.BooleanField(label="Auto convert images", required=False)
    output_modality = forms.ChoiceField(
        label="Output", choices=[(value, label) for value, label, _ in MODALITIES]
    )
    output_format = forms.CharField(
        label="Schema (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )
    llm_model = forms.ChoiceField(label="Model")
    fallback_llm_model = forms.ChoiceField(
        label="Fallback model",
        required=False,
        help_text="Optional. After 4 consecutive failures of the primary model, "
        "requests are routed to the fallback model.",
    )
    temperature_set = forms.BooleanField(label="Set the temperature", required=False)
    temperature = forms.IntegerField(
        label="Temperature", required=False, min_value=0, max_value=100
    )
    enabled = forms.BooleanField(label="Enabled", required=False)
    public = forms.BooleanField(
        label="Public",
        required=False,
        help_text="Anyone signed in can view and run it.",
    )
    exposed_to_agents = forms.BooleanField(label="Exposed to agents", required=False)
    task_run_visibility = forms.ChoiceField(
        label="Who sees every run",
        choices=[
            ("owner_only", "Owners only"),
            ("editors_and_owners", "Editors and owners"),
            ("all_viewers", "Everyone who can view"),
        ],
        help_text="Others see only their own runs.",
    )
    task_forwarder = forms.ChoiceField(
        label="Forward runs to", required=False, help_text="A task forwarder."
    )
    annotation = forms.CharField(
        label="Revision note",
        required=False,
        max_length=2000,
        help_text="What changed and why; shown in the revision list.",
    )
    test = forms.BooleanField(
        label="Test revision",
        required=False,
        help_text="Runs only when asked for by id; never receives traffic.",
    )
    make_live = forms.BooleanField(
        label="Make live",
        required=False,
        help_text="Send all traffic to the new revision.",
    )
    source_revision = forms.UUIDField(required=False, widget=forms.HiddenInput)
    tab = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any = None,
        *,
        initial: dict[str, Any] | None = None,
        models: Sequence[ModelChoice],
        forwarders: Sequence[Any] = (),
        editing: bool,
    ):
        super().__init__(data, initial=initial)
        self.editing = editing
        self.models = list(models)
        self.forwarders = list(forwarders)
        self._choices_by_id = {choice.id: choice for choice in self.models}
        model_choices = [(choice.id, choice.label) for choice in self.models]
        self._choice_field("llm_model").choices = model_choices
        self._choice_field("fallback_llm_model").choices = [
            ("", "No fallback"),
            *model_choices,
        ]
        self._choice_field("task_forwarder").choices = [("", "None")] + [
            (str(forwarder.pk), forwarder.name) for forwarder in forwarders
        ]
        if not editing:
            del self.fields["test"]
            del self.fields["make_live"]
        self.variables = detect_variables(self._current("user_prompt") or "")
        for variable in self.variables:
            self._add_input_fields(variable)
        self.model = self._choices_by_id.get(str(self._current("llm_model") or ""))
        self.params = {
            key: schema
            for key, schema in (self.model.params if self.model else {}).items()
            if key != "temperature"
        }
        for key, schema in self.params.items():
            self.fields[f"param_{key}"] = _param_field(key, schema)
        # Filled by revision_spec(), to map a processor's index to its variable.
        self.processor_params: list[str] = []

    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def _current(self, name: str) -> Any:
        """A field's value as sent, else as given initially."""
        if self.is_bound:
            return self.data.get(name)
        return self.initial.get(name)

    def _add_input_fields(self, variable: str) -> None:
        self.fields[input_field(variable, "format")] = forms.ChoiceField(
            label=f"Input format of {variable}",
            choices=INPUT_FORMATS,
            required=False,
        )
        self.fields[input_field(variable, "description")] = forms.CharField(
            label=f"Description of {variable}", required=False, max_length=500
        )
        self.fields[input_field(variable, "fallback_text")] = forms.CharField(
            label="Fallback text",
            required=False,
            help_text="Used when the page cannot be fetched.",
        )
        self.fields[input_field(variable, "max_length")] = forms.IntegerField(
            label="Max length", required=False, min_value=1
        )
        self.fields[input_field(variable, "max_results")] = forms.IntegerField(
            label="Number of results", required=False, min_value=5, max_value=20
        )
        self.fields[input_field(variable, "query_context")] = forms.CharField(
            label="Augmenting text",
            required=False,
            help_text=f"Optional; must contain {{{variable}}}, e.g. "
            f"“top competitors for {{{variable}}}”.",
        )

    # Reading ----------------------------------------------------------------------

    def input_rows(self) -> list[dict[str, Any]]:
        """One row per variable for the template: its bound fields by part."""
        rows = []
        for variable in self.variables:
            fields = {
                part: self[input_field(variable, part)]
                for part in (
                    "format",
                    "description",
                    "fallback_text",
                    "max_length",
                    "max_results",
                    "query_context",
                )
            }
            chosen = fields["format"].value() or STRING_FORMAT
            rows.append(
                {
                    "name": variable,
                    "fields": fields,
                    "format": chosen,
                    "format_label": dict(INPUT_FORMATS).get(chosen, "String"),
                    "has_errors": any(f.errors for f in fields.values())
                    if self.is_bound and hasattr(self, "cleaned_data")
                    else False,
                }
            )
        return rows

    def param_fields(self) -> list[forms.BoundField]:
        return [self[f"param_{key}"] for key in self.params]

    def selected_model(self) -> ModelChoice | None:
        return self.model

    def revision_spec(self, *, rag: Any = None) -> RevisionSpec:
        data = self.cleaned_data
        model = self._choices_by_id[data["llm_model"]]
        llm_config: dict[str, Any] = {}
        temperature_max = model.temperature_max
        if (
            temperature_max is not None
            and data.get("temperature_set")
            and data.get("temperature") is not None
        ):
            llm_config["temperature"] = temperature_from_percent(
                data["temperature"], temperature_max
            )
        for key in self.params:
            value = data.get(f"param_{key}")
            if value not in (None, ""):
                llm_config[key] = value
        processors = []
        descriptions = {}
        self.processor_params = []
        for variable in self.variables:
            chosen = data.get(input_field(variable, "format")) or STRING_FORMAT
            description = data.get(input_field(variable, "description")) or ""
            if description:
                descriptions[variable] = description
            if chosen == STRING_FORMAT:
                continue
            config = {
                key: data[input_field(variable, key)]
                for key in FORMAT_SETTINGS[chosen]
                if data.get(input_field(variable, key)) not in (None, "")
            }
            processors.append(
                {"param_name": variable, "input_processor": chosen, "config": config}
            )
            self.processor_params.append(variable)
        output_format = None
        if data["output_modality"] == "json":
            output_format = parse_format_text(data.get("output_format") or "").value
        fallback = data.get("fallback_llm_model")
        forwarder = data.get("task_forwarder")
        return RevisionSpec(
            system_prompt=data.get("system_prompt") or "",
            user_prompt=data["user_prompt"],
            llm_model_id=UUID(data["llm_model"]),
            llm_config=llm_config,
            fallback_llm_model_id=UUID(fallback) if fallback else None,
            output_format=output_format,
            task_forwarder_id=UUID(forwarder) if forwarder else None,
            rag=rag,
            image_required=data.get("image_required", False),
            optimise_images=data.get("optimise_images", False),
            input_processors=processors,
            annotation=data.get("annotation") or None,
            test=data.get("test", False),
            input_param_descriptions=descriptions,
        )

    def revision_edits(self, *, task: Any, source: Any) -> dict[str, Any]:
        """The revision fields this form sets differently from `source`.

        The form cannot show every setting (the fallback model's settings,
        RAG, processor settings it has no field for) and shows some rounded
        (the temperature as a percentage), so a field it shows just as it
        would show `source` is left out: the service then carries the
        source's value over exactly instead of the form's rendering of it.
        Whether the result is a new configuration is the service's call.
        """
        spec = self.revision_spec()
        shown = self.__class__(
            initial_from_revision(task, source, self.models, make_live=False),
            models=self.models,
            forwarders=self.forwarders,
            editing=True,
        )
        if not shown.is_valid():
            # The source is not representable as it stands: send all of it.
            edits = {key: getattr(spec, key) for key in _REVISION_KEYS}
        else:
            before = shown.revision_spec()
            edits = {
                key: getattr(spec, key)
                for key in _REVISION_KEYS
                if getattr(spec, key) != getattr(before, key)
            }
        if "llm_model_id" in edits:
            # A new model takes the settings the form shows with it.
            edits["llm_config"] = spec.llm_config
        if spec.annotation:
            edits["annotation"] = spec.annotation
        if spec.test:
            edits["test"] = True
        return edits

    def task_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data.get("description") or "",
            "enabled": data.get("enabled", False),
            "public": data.get("public", False),
            "exposed_to_agents": data.get("exposed_to_agents", False),
            "output_modality": data["output_modality"],
            "task_run_visibility": data["task_run_visibility"],
        }

    # Validation ---------------------------------------------------------------------

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            validate_task_name(name)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return name

    def clean_output_format(self) -> str:
        text = self.cleaned_data.get("output_format") or ""
        if self.data.get("output_modality") != "json":
            return text
        parsed = parse_format_text(text)
        if parsed.error is not None:
            raise forms.ValidationError(describe_format_error(parsed.error))
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("test") and data.get("make_live"):
            self.add_error(
                "make_live", "A test revision never receives traffic; untick one."
            )
        return data

    def add_domain_error(self, error: DomainError) -> None:
        """Put a service's error next to the field it names."""
        self.add_error(self._field_for(error.field or ""), error.message)

    def _field_for(self, where: str) -> str | None:
        head, _, rest = where.partition(".")
        simple = {
            "name": "name",
            "user_prompt": "user_prompt",
            "system_prompt": "system_prompt",
            "llm_model_id": "llm_model",
            "fallback_llm_model_id": "fallback_llm_model",
            "output_format": "output_format",
            "output_modality": "output_modality",
            "image_required": "image_required",
            "task_forwarder_id": "task_forwarder",
            "test": "test" if "test" in self.fields else None,
            "annotation": "annotation",
        }
        if head == "llm_config":
            key = rest.partition(".")[0]
            if key == "temperature":
                return "temperature"
            return f"param_{key}" if f"param_{key}" in self.fields else None
        if head == "input_processors":
            index, _, detail = rest.partition(".")
            if index.isdigit() and int(index) < len(self.processor_params):
                variable = self.processor_params[int(index)]
                key = detail.rpartition(".")[2] if detail.startswith("config.") else ""
                name = input_field(variable, key) if key else ""
                return name if name in self.fields else input_field(variable, "format")
            return None
        return simple.get(head)

    def tabs_with_errors(self) -> set[str]:
        tabs = set()
        for name in self.errors:
            if name in PROMPT_FIELDS:
                tabs.add("prompts")
            elif name in IO_FIELDS or name.startswith("input_"):
                tabs.add("io")
            elif name != "__all__":
                tabs.add("settings")
        return tabs


def describe_format_error(error: OutputFormatError) -> str:
    return f"{error.path}: {error.message}" if error.path else error.message


def _param_field(key: str, schema: Any) -> forms.Field:
    """A form field for one model setting, from its JSON Schema."""
    label = key.replace("_", " ").capitalize()
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(schema.get("enum"), list):
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "Default")] + [(str(v), str(v)) for v in schema["enum"]],
        )
    kind = schema.get("type")
    bounds = {
        "min_value": schema.get("minimum"),
        "max_value": schema.get("maximum"),
    }
    help_text = ""
    if bounds["min_value"] is not None and bounds["max_value"] is not None:
        help_text = f"{bounds['min_value']} to {bounds['max_value']}."
    if kind == "integer":
        return forms.IntegerField(
            label=label, required=False, help_text=help_text, **bounds
        )
    if kind == "number":
        return forms.FloatField(
            label=label,
            required=False,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"step": "any"}),
            **bounds,
        )
    if kind == "boolean":
        return forms.NullBooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False)


class PropertyForm(forms.Form):
    """The schema editor's Add / Edit property form (`prop_` fields)."""

    prop_name = forms.CharField(
        label="Property name",
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. sentiment", "autocomplete": "off"}
        ),
    )
    prop_description = forms.CharField(
        label="Description",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "What this field holds"}),
    )
    prop_type = forms.ChoiceField(label="Type", choices=PROPERTY_TYPES)
    prop_array = forms.BooleanField(label="Array (a list of these)", required=False)
    prop_options = forms.CharField(
        label="Enum values",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "positive, negative, neutral"}),
        help_text="Allowed values, comma separated (strings only), e.g. "
        "positive, negative, neutral.",
    )
    prop_parent = forms.CharField(required=False, widget=forms.HiddenInput)
    prop_original = forms.CharField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_property(cls, prop: PropertyInput) -> PropertyForm:
        return cls(
            initial={
                "prop_name": prop.name,
                "prop_description": prop.description,
                "prop_type": prop.type,
                "prop_array": prop.array,
                "prop_options": ", ".join(prop.options),
                "prop_parent": prop.parent,
                "prop_original": prop.original,
            }
        )

    def property_input(self) -> PropertyInput:
        data = self.cleaned_data
        options = [
            option.strip()
            for option in (data.get("prop_options") or "").replace("\n", ",").split(",")
            if option.strip()
        ]
        return PropertyInput(
            name=data["prop_name"].strip(),
            description=data.get("prop_description") or "",
            type=data["prop_type"],
            array=data.get("prop_array", False),
            options=list(dict.fromkeys(options)),
            parent=data.get("prop_parent") or "",
            original=data.get("prop_original") or "",
        )


# Where the editor starts -------------------------------------------------------------

EDITOR_DEFAULTS: dict[str, Any] = {
    "output_modality": "json",
    "temperature_set": True,
    "temperature": 30,
    "enabled": True,
    "optimise_images": True,
    "task_run_visibility": "owner_only",
}


def default_model(models: Sequence[ModelChoice]) -> ModelChoice | None:
    """The offline demo model where the instance has it (it runs with no
    provider key), else the first of the catalogue."""
    for choice in models:
        if choice.model.name == "rightbrain-demo":
            return choice
    return models[0] if models else None


def _inputs_initial(
    processors: Sequence[dict[str, Any]], descriptions: dict[str, str]
) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for variable, text in descriptions.items():
        initial[input_field(variable, "description")] = text
    for entry in processors:
        variable = entry["param_name"]
        definition = processor_named(entry["input_processor"])
        if definition is None:
            continue
        initial[input_field(variable, "format")] = definition.name
        for key, value in (entry.get("config") or {}).items():
            if key in FORMAT_SETTINGS.get(definition.name, []):
                initial[input_field(variable, key)] = value
    return initial


def _temperature_initial(
    config: dict[str, Any] | None, model: ModelChoice | None
) -> dict[str, Any]:
    temperature = (config or {}).get("temperature")
    if temperature is None or model is None or model.temperature_max is None:
        return {"temperature_set": False, "temperature": 30}
    return {
        "temperature_set": True,
        "temperature": percent_from_temperature(temperature, model.temperature_max),
    }


def initial_for_new(models: Sequence[ModelChoice]) -> dict[str, Any]:
    model = default_model(models)
    return {**EDITOR_DEFAULTS, "llm_model": model.id if model else None}


def initial_from_template(
    template: Any, models: Sequence[ModelChoice]
) -> dict[str, Any]:
    model = next(
        (m for m in models if m.model.alias == template.suggested_model), None
    ) or default_model(models)
    initial = {
        **EDITOR_DEFAULTS,
        "name": template.name,
        "description": template.description,
        "user_prompt": template.user_prompt,
        "system_prompt": template.system_prompt,
        "output_modality": template.output_modality,
        "output_format": format_text(template.output_format),
        "image_required": template.image_required,
        "llm_model": model.id if model else None,
        **_inputs_initial(template.input_processors, template.input_descriptions),
    }
    if template.temperature is not None:
        initial.update(
            _temperature_initial({"temperature": template.temperature}, model)
        )
    return initial


def initial_from_revision(
    task: Any, revision: Any, models: Sequence[ModelChoice], *, make_live: bool
) -> dict[str, Any]:
    model = next((m for m in models if m.id == str(revision.llm_model_id)), None)
    initial = {
        "name": task.name,
        "description": task.description,
        "enabled": task.enabled,
        "public": task.public,
        "exposed_to_agents": task.exposed_to_agents,
        "task_run_visibility": task.task_run_visibility,
        "output_modality": task.output_modality,
        "user_prompt": revision.user_prompt,
        "system_prompt": revision.system_prompt,
        "output_format": format_text(revision.output_format),
        "image_required": revision.image_required,
        "optimise_images": revision.optimise_images,
        "llm_model": str(revision.llm_model_id),
        "fallback_llm_model": str(revision.fallback_llm_model_id or ""),
        "task_forwarder": str(revision.task_forwarder_id or ""),
        "source_revision": revision.pk,
        "make_live": make_live,
        **_temperature_initial(revision.llm_config, model),
        **_inputs_initial(
            revision.input_processors or [], revision.input_param_descriptions or {}
        ),
    }
    params = model.params if model else {}
    for key, value in (revision.llm_config or {}).items():
        if key != "temperature" and key in params:
            initial[f"param_{key}"] = value
    return initial
