"""The task-writing assistant (dashboard.md §4): enhance a prompt, propose output
fields, suggest settings.

Each helper is one structured call through the gateway (tasks_app/llm.py) on the
instance's assistant model (`RB_ASSISTANT_MODEL`; the offline demo model when
unset), followed by guards that hold whatever the model answered to the
product's rules: the enhanced prompt has its four sections and keeps every
variable of the original, every proposed field compiles and is described, the
name passes the task-name rule, the model fits the task, the temperature sits in
the band of the task's type. Where the model's answer breaks a rule, or says
nothing (the offline demo model's replies carry no meaning), the guards take
that part from a deterministic draft made from the prompt itself, so the same
input always gives the same suggestion offline.

Nothing here writes: no TaskRun, no usage rollup, no credits.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q

from rightbrain.errors import DomainError, Invalid
from tasks_app import llm
from tasks_app.limits import ASSISTANT_PROMPT_MAX_CHARS
from tasks_app.models import LLMModel, Task
from tasks_app.output_format import (
    FIELD_NAME,
    OutputFormatError,
    compile_output_format,
    normalise_output_format,
)
from tasks_app.services import TASK_NAME
from tasks_app.variables import detect_variables, render_prompt

logger = logging.getLogger(__name__)

NAME_MAX_CHARS = 60
DESCRIPTION_MAX_CHARS = 300
MAX_FIELDS = 12
MAX_OPTIONS = 20
MAX_STEPS = 8
# Low, so the same prompt gets much the same suggestion from a real model too.
_ASSISTANT_CONFIG = {"temperature": 0.2}


class AssistantUnavailable(DomainError):
    """The assistant's model could not answer (API: 503)."""

    status = 503


@dataclass(frozen=True)
class EnhancedPrompt:
    enhanced_prompt: str
    system_prompt: str


@dataclass(frozen=True)
class OutputSuggestion:
    output_format: dict[str, Any]


@dataclass(frozen=True)
class SettingsSuggestion:
    name: str
    description: str
    llm_model: LLMModel | None
    temperature_percent: int
    task_type: str


# The assistant's model ---------------------------------------------------------------


def assistant_model() -> LLMModel:
    """The configured catalogue model (by id, name or alias), else the demo."""
    configured = (settings.RB_ASSISTANT_MODEL or "").strip()
    models = LLMModel.objects.filter(enabled=True, retired__isnull=True)
    if not configured:
        model = models.filter(litellm_model__startswith=f"{llm.DEMO_PROVIDER}/").first()
        if model is None:
            raise AssistantUnavailable(
                "The assistant has no model: set RB_ASSISTANT_MODEL to a catalogue "
                "model's id or name."
            )
        return model
    try:
        lookup = Q(pk=UUID(configured))
    except ValueError:
        lookup = Q(name=configured) | Q(alias=configured)
    model = models.filter(lookup).first()
    if model is None:
        raise AssistantUnavailable(
            f"The assistant's model “{configured}” is not an enabled catalogue "
            "model. Set RB_ASSISTANT_MODEL to a catalogue model's id or name."
        )
    return model


def _offline(model: LLMModel) -> bool:
    return model.litellm_model.startswith(f"{llm.DEMO_PROVIDER}/")


def _ask(
    model: LLMModel, *, instructions: str, request: str, output: dict[str, Any]
) -> dict[str, Any]:
    """One structured answer (an object matching `output`, an output_format)."""
    schema = compile_output_format(normalise_output_format(output))
    try:
        reply = llm.complete(
            model=model,
            messages=llm.build_messages(
                system_prompt=instructions, user_prompt=request
            ),
            config=_ASSISTANT_CONFIG,
            schema=schema,
            timeout=settings.RB_ASSISTANT_TIMEOUT,
        )
    except llm.LLMError as error:
        logger.warning("Assistant call to %s failed: %s", model.alias, error.message)
        raise AssistantUnavailable(
            f"The assistant could not answer: {error.message}"
        ) from error
    if _offline(model):
        # The demo's reply is schema-valid filler: every part comes from the draft.
        return {}
    return reply.content


# Input checks ------------------------------------------------------------------------


def _checked_prompt(user_prompt: Any) -> str:
    if not isinstance(user_prompt, str) or not user_prompt.strip():
        raise Invalid(
            "Write a user prompt first: the assistant works from it.",
            field="user_prompt",
        )
    if len(user_prompt) > ASSISTANT_PROMPT_MAX_CHARS:
        raise Invalid(
            f"The prompt is too long for the assistant: {len(user_prompt):,} "
            f"characters, at most {ASSISTANT_PROMPT_MAX_CHARS:,}.",
            field="user_prompt",
        )
    return user_prompt.strip()


def _checked_system_prompt(system_prompt: Any) -> str:
    if system_prompt is None:
        return ""
    if not isinstance(system_prompt, str):
        raise Invalid("The system prompt must be text.", field="system_prompt")
    if len(system_prompt) > ASSISTANT_PROMPT_MAX_CHARS:
        raise Invalid(
            f"The system prompt is too long for the assistant: at most "
            f"{ASSISTANT_PROMPT_MAX_CHARS:,} characters.",
            field="system_prompt",
        )
    return system_prompt.strip()


def _checked_modality(output_modality: Any) -> str:
    if output_modality not in Task.OutputModality.values:
        allowed = ", ".join(Task.OutputModality.values)
        raise Invalid(
            f"Unknown output modality; use one of {allowed}.", field="output_modality"
        )
    return str(output_modality)


# Reading a prompt --------------------------------------------------------------------

_STOPWORD_TEXT = (
    "a an the of on in for to and or with this that these those given "
    "provided following from by into as is are be each any all your my our "
    "you i me it its please kindly conduct perform carry out do make use "
    "using based about then what which who how can could would should will"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Checked in order: a sentiment *analysis* is a classification.
_TASK_TYPES = (
    (
        "classification",
        r"classif\w*|categori[sz]\w*|sentiment|label\w*|tagg?\w*|triage|moderat\w*"
        r"|spam|intent|detect\w*|is it|whether|yes or no",
    ),
    ("extraction", r"extract\w*|pars(?:e|es|ing)|pull out|find all|identify"),
    (
        "generation",
        r"write|writes|draft\w*|generat\w*|creat\w*|compose|brainstorm\w*|story"
        r"|poem|slogans?|ideas?|rewrite|invent",
    ),
    (
        "analysis",
        r"analy[sz]\w*|summar\w*|review\w*|assess\w*|evaluat\w*|compar\w*"
        r"|explain\w*|insights?|recommend\w*",
    ),
)
# (lowest, highest, default) temperature percent per task type (dashboard.md §2.3).
BANDS = {
    "classification": (0, 30, 20),
    "extraction": (0, 30, 10),
    "analysis": (30, 50, 40),
    "generation": (50, 100, 70),
    "general": (0, 100, 30),
}
TASK_TYPES = tuple(kind for kind, _pattern in _TASK_TYPES)
_TOPICS = (
    ("sentiment", "sentiment analysis and customer feedback"),
    ("summar", "summarising long texts faithfully"),
    ("translat", "translation and localisation"),
    ("code", "software engineering and code review"),
    ("invoice", "reading invoices and financial documents"),
    ("image", "visual inspection and image analysis"),
    ("email", "business writing and email communication"),
)
_CONTEXTS = {
    "classification": (
        "The task assigns the input to one of a fixed set of categories. Judge "
        "only from what the input says, and apply the same criteria every time."
    ),
    "extraction": (
        "The task pulls specific facts out of the input. Copy values as they "
        "appear; leave out anything the input does not state."
    ),
    "analysis": (
        "The task studies the input and reports what matters in it. Ground "
        "every point in the input and keep the reasoning traceable."
    ),
    "generation": (
        "The task writes new content from the input. Keep it accurate to the "
        "input, fit for its audience and free of filler."
    ),
    "general": (
        "The task works from the input given at run time. Use only that input "
        "and the instructions here, and say so when something is missing."
    ),
}
_SENTIMENT_CONTEXT = (
    "Sentiment analysis evaluates written text to identify its emotional tone, "
    "such as positive, negative or neutral."
)


def _humanised(prompt: str) -> str:
    """The prompt with each placeholder read as words: {customer_review} →
    customer review."""
    names = detect_variables(prompt)
    return render_prompt(prompt, {name: name.replace("_", " ") for name in names})


def _without_variables(prompt: str) -> str:
    return render_prompt(prompt, dict.fromkeys(detect_variables(prompt), " "))


def _sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [part for part in _SENTENCE_END.split(flat) if part]


_GOAL_SECTION = re.compile(
    r"\AGoal:[ \t]*\n(?P<goal>.+?)(?:\n[ \t]*\n|\n[A-Z][A-Za-z ]+:[ \t]*\n|\Z)",
    re.DOTALL,
)


def instruction_of(prompt: str) -> str:
    """What the prompt asks for: the Goal section of a prompt the assistant
    enhanced (its other sections are scaffolding), else the whole prompt."""
    match = _GOAL_SECTION.match(prompt.strip())
    return match.group("goal").strip() if match else prompt


def task_type_of(prompt: str, output_format: dict[str, Any] | None = None) -> str:
    """The kind of task a prompt describes, from the words of its instruction
    (and, failing those, an output format with fixed choices)."""
    text = _without_variables(instruction_of(prompt)).lower()
    for kind, pattern in _TASK_TYPES:
        if re.search(rf"\b(?:{pattern})\b", text):
            return kind
    if output_format and any(
        isinstance(spec, dict) and spec.get("options")
        for spec in output_format.values()
    ):
        return "classification"
    return "general"


def _topic(prompt: str, task_type: str) -> str:
    text = instruction_of(prompt).lower()
    for needle, topic in _TOPICS:
        if re.search(rf"\b{needle}", text):
            return topic
    return {
        "classification": "careful, consistent text classification",
        "extraction": "precise information extraction",
        "analysis": "clear, evidence-based analysis",
        "generation": "clear, engaging writing",
    }.get(task_type, "the subject of the task")


def _spellings(prompt: str) -> dict[str, str]:
    """Each variable as the prompt first writes it: `{name}` or `{{name}}`."""
    found: dict[str, str] = {}
    for name in detect_variables(prompt):
        match = re.search(
            r"\{\{\s*"
            + re.escape(name)
            + r"\s*\}\}|(?<!\{)\{"
            + re.escape(name)
            + r"\}",
            prompt,
        )
        found[name] = match.group(0) if match else "{" + name + "}"
    return found


def _single_line(value: Any, limit: int = 600) -> str:
    """The model's text as one trimmed line, or "" when it is not text."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit].strip()


def _debraced(text: str, keep: set[str]) -> str:
    """`text` with every placeholder not in `keep` written as a plain word, so a
    suggestion cannot add inputs the user never wrote."""
    names = [name for name in detect_variables(text) if name not in keep]
    return render_prompt(text, {name: name for name in names})


# 4.1 Prompt enhancement --------------------------------------------------------------

ENHANCE_FORMAT: dict[str, Any] = {
    "goal": {
        "type": "str",
        "description": "One or two sentences: what the task must achieve.",
    },
    "context": {
        "type": "str",
        "description": "Background the model needs: the domain, what good looks like.",
    },
    "input_parameters": {
        "type": "list",
        "description": "One entry per variable of the original prompt.",
        "nested_structure": {
            "name": {"type": "str", "description": "The variable, without braces."},
            "meaning": {"type": "str", "description": "What it holds, in one line."},
        },
    },
    "processing_steps": {
        "type": "list",
        "item_type": "str",
        "description": "Three to six numbered steps, ending with the expected output.",
    },
    "system_prompt": {
        "type": "str",
        "description": "A system prompt: the role and expertise the model takes.",
    },
}
_ENHANCE_INSTRUCTIONS = (
    "You improve prompts for reusable LLM tasks. Rewrite the user's prompt into a "
    "Goal, a Context, a description of each Input Parameter and numbered "
    "Processing Steps that end with the expected output, following prompt "
    "engineering practice. Placeholders in braces, such as {customer_review}, "
    "are filled in at run time: keep every one of them exactly as written and "
    "invent no new ones. Also write a short system prompt stating the role and "
    "expertise the model should take. Answer with JSON only."
)


def _request_text(prompt: str, extra: str = "") -> str:
    names = detect_variables(prompt)
    variables = ", ".join("{" + name + "}" for name in names) or "none"
    return (
        f"The prompt, between the markers:\n<<<\n{prompt}\n>>>\n"
        f"Its variables: {variables}.{extra}"
    )


def _draft_steps(prompt: str, task_type: str) -> list[str]:
    names = [name.replace("_", " ") for name in detect_variables(prompt)]
    subject = " and ".join(f"the {name}" for name in names) if names else "the input"
    decide = {
        "classification": "Decide which category fits best, using the same criteria "
        "every time",
        "extraction": "Pick out exactly the facts the goal asks for",
        "analysis": "Work out the findings that matter for the goal",
        "generation": "Write the content the goal asks for",
    }.get(task_type, "Carry out the goal")
    return [
        f"Read and understand {subject}",
        "Identify the details and signals relevant to the goal",
        decide,
        "Check the result against the input and present it in the expected "
        "output format, with brief reasoning",
    ]


def _draft_context(prompt: str, task_type: str, rest: list[str]) -> str:
    base = _SENTIMENT_CONTEXT if "sentiment" in prompt.lower() else _CONTEXTS[task_type]
    if rest:
        return base + "\n" + " ".join(rest)
    return base


def _draft_meaning(name: str) -> str:
    return f"the {name.replace('_', ' ')} to work on, given at run time"


def _draft_system_prompt(prompt: str, task_type: str) -> str:
    return (
        f"You are an expert in {_topic(prompt, task_type)}. Follow the task's "
        "processing steps exactly, rely only on the inputs provided, and answer "
        "in the requested output format, consistently from one run to the next."
    )


@dataclass(frozen=True)
class _Draft:
    goal: str
    context: str
    meanings: dict[str, str]
    steps: list[str]


_HEADING = re.compile(
    r"^(Goal|Context|Input Parameters|Processing Steps):[ \t]*$", re.MULTILINE
)


def _sections_of(prompt: str) -> dict[str, str]:
    """The sections of a prompt already written as Goal, Context, Input
    Parameters and Processing Steps (empty when it is not)."""
    parts = _HEADING.split(prompt.strip())
    if len(parts) < 3 or parts[0].strip() or parts[1] != "Goal":
        return {}
    return {
        heading: body.strip()
        for heading, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def _draft_enhancement(prompt: str, task_type: str) -> _Draft:
    """The offline enhancement (dashboard.md §4): Goal = the first sentence,
    a context for the task's type, each variable described, four steps. A
    prompt already in sections keeps what each of them says."""
    names = detect_variables(prompt)
    sections = _sections_of(prompt)
    if sections:
        meanings = {}
        for line in sections.get("Input Parameters", "").splitlines():
            spelled, _, meaning = line.partition(" - ")
            found = detect_variables(spelled)
            if len(found) == 1 and meaning.strip():
                meanings[found[0]] = _debraced(meaning.strip(), set())
        steps = _model_steps(sections.get("Processing Steps", "").splitlines())
        return _Draft(
            goal=sections["Goal"] or "Carry out the task described below.",
            context=sections.get("Context") or _draft_context(prompt, task_type, []),
            meanings={
                name: meanings.get(name) or _draft_meaning(name) for name in names
            },
            steps=steps or _draft_steps(prompt, task_type),
        )
    first, *rest = _sentences(prompt)
    first = re.sub(r"^(?:please|kindly)\s+", "", first, flags=re.IGNORECASE)
    return _Draft(
        goal=first[:1].upper() + first[1:],
        context=_draft_context(prompt, task_type, rest),
        meanings={name: _draft_meaning(name) for name in names},
        steps=_draft_steps(prompt, task_type),
    )


def _enhanced_text(
    goal: str,
    context: str,
    parameters: list[tuple[str, str]],
    steps: list[str],
) -> str:
    lines = ["Goal:", goal, "", "Context:", context, "", "Input Parameters:"]
    lines += [f"{spelling} - {meaning}" for spelling, meaning in parameters] or [
        "None: the task works from this prompt (and any attached images) alone."
    ]
    lines += ["", "Processing Steps:"]
    lines += [f"{number}. {step}" for number, step in enumerate(steps, 1)]
    return "\n".join(lines)


def _model_steps(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    steps = []
    for item in value[:MAX_STEPS]:
        step = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", _single_line(item, 400))
        if step:
            steps.append(step)
    return steps


def _model_meanings(value: Any, names: list[str]) -> dict[str, str]:
    meanings: dict[str, str] = {}
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        name = _single_line(item.get("name")).strip("{} ")
        meaning = _single_line(item.get("meaning"), 300).lstrip("-– ").strip()
        # A description names no inputs: they would appear out of order.
        meaning = _debraced(meaning, set())
        if name in names and meaning and name not in meanings:
            meanings[name] = meaning
    return meanings


def prompt_enhance(*, user_prompt: str) -> EnhancedPrompt:
    """The prompt rewritten into Goal, Context, Input Parameters and Processing
    Steps, keeping every variable as written, plus a system prompt."""
    prompt = _checked_prompt(user_prompt)
    model = assistant_model()
    answer = _ask(
        model,
        instructions=_ENHANCE_INSTRUCTIONS,
        request=_request_text(prompt),
        output=ENHANCE_FORMAT,
    )
    names = detect_variables(prompt)
    spellings = _spellings(prompt)
    task_type = task_type_of(prompt)
    draft = _draft_enhancement(prompt, task_type)
    meanings = _model_meanings(answer.get("input_parameters"), names)
    parameters = [
        (spellings[name], meanings.get(name) or draft.meanings.get(name, ""))
        for name in names
    ]
    # The model's own prose may name variables too, but only the ones the
    # user wrote, and only in the order they wrote them; otherwise its prose
    # names them as plain words and the Input Parameters section carries them.
    goal = _debraced(_single_line(answer.get("goal")), set(names))
    context = _debraced(_single_line(answer.get("context"), 1500), set(names))
    steps = [
        _debraced(step, set(names))
        for step in _model_steps(answer.get("processing_steps"))
    ]
    text = _enhanced_text(
        goal or draft.goal,
        context or draft.context,
        parameters,
        steps or draft.steps,
    )
    if detect_variables(text) != names:
        text = _enhanced_text(
            _debraced(goal, set()) or draft.goal,
            _debraced(context, set()) or draft.context,
            parameters,
            [_debraced(step, set()) for step in steps] or draft.steps,
        )
    if detect_variables(text) != names:
        # The draft alone keeps the variables by construction; this guards it.
        raise AssistantUnavailable(
            "The assistant's suggestion lost a variable of the prompt, so it was "
            "rejected. Try again or edit the prompt by hand."
        )
    system_prompt = _single_line(answer.get("system_prompt"), 2000)
    return EnhancedPrompt(
        enhanced_prompt=text,
        system_prompt=_debraced(system_prompt, set())
        or _draft_system_prompt(prompt, task_type),
    )


# 4.2 Output generation ---------------------------------------------------------------

FIELD_TYPES = ("str", "int", "number", "bool", "list")
OUTPUT_FIELDS_FORMAT: dict[str, Any] = {
    "fields": {
        "type": "list",
        "description": "The fields the task should return, most important first.",
        "nested_structure": {
            "name": {"type": "str", "description": "A snake_case field name."},
            "type": {"type": "str", "options": list(FIELD_TYPES)},
            "description": {
                "type": "str",
                "description": "What the field holds, so the model fills it well.",
            },
            "options": {
                "type": "list",
                "item_type": "str",
                "description": "The allowed values of a str field with fixed "
                "choices; empty otherwise.",
            },
        },
    }
}
_OUTPUT_INSTRUCTIONS = (
    "You design the structured output of reusable LLM tasks. Read the task's "
    "prompt, work out its goal and propose the output fields a developer would "
    "want back: a snake_case name, a type (str, int, number, bool or list of "
    "strings), a helpful description, and the allowed values when the prompt "
    "lists fixed choices. Prefer a few well-described fields. Answer with JSON "
    "only."
)
_CUE = (
    r"(?:\bas|\binto|\beither|\bone of|\bbetween|\bfrom|:)\s+"
    r"(?:either\s+)?(?:an?\s+|the\s+)?"
)
_ITEM = r"[A-Za-z][A-Za-z0-9-]*"
_ENUM_LISTS = (
    re.compile(rf"\b{_ITEM}(?:\s*/\s*{_ITEM})+\b"),
    re.compile(rf"{_CUE}({_ITEM}(?:,\s*{_ITEM})*,?\s+or\s+{_ITEM})\b", re.IGNORECASE),
)
_ENUM_NAMES = (
    ({"positive", "negative", "neutral", "mixed"}, "sentiment"),
    ({"low", "medium", "high", "urgent", "critical"}, "priority"),
    ({"approved", "rejected", "approve", "reject", "accept", "decline"}, "decision"),
    ({"yes", "no", "true", "false"}, "verdict"),
)


def _enum_lists(prompt: str) -> list[list[str]]:
    """Word lists that read as fixed choices: a/b/c, or "as a, b or c"."""
    text = _without_variables(prompt)
    found: list[list[str]] = []
    for match in _enum_matches(text):
        raw = match.group(match.lastindex or 0)
        items = [
            item.strip().lower()
            for item in re.split(r"\s*/\s*|,\s*(?:or\s+)?|\s+or\s+", raw)
            if item.strip()
        ]
        items = list(dict.fromkeys(items))
        if len(items) < 2 or set(items) <= {"and", "or"}:
            continue
        if any(len(item) < 2 for item in items):
            continue
        if items not in found:
            found.append(items[:MAX_OPTIONS])
    return found


def _enum_matches(text: str) -> list[re.Match[str]]:
    """Where lists of choices appear in `text`, in reading order."""
    matches = [match for pattern in _ENUM_LISTS for match in pattern.finditer(text)]
    return sorted(matches, key=lambda match: match.start())


def _enum_field_name(options: list[str], taken: set[str]) -> str:
    base = next(
        (name for words, name in _ENUM_NAMES if set(options) & words), "category"
    )
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def _goal_phrase(prompt: str) -> str:
    first = _sentences(_humanised(instruction_of(prompt)))[0]
    first = re.sub(r"^(?:please|kindly)\s+", "", first, flags=re.IGNORECASE)
    first = first.rstrip(".!? ")
    return (first[:1].upper() + first[1:])[:200]


def _draft_output_format(prompt: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for options in _enum_lists(prompt):
        name = _enum_field_name(options, set(fields))
        fields[name] = {
            "type": "str",
            "description": f"One of: {', '.join(options)}.",
            "options": options,
        }
    fields["result" if "result" not in fields else "result_text"] = {
        "type": "str",
        "description": f"The answer to the task: {_goal_phrase(prompt)}.",
    }
    if len(fields) > 1:
        result = fields.popitem()
        fields = {result[0]: result[1], **fields}
    return fields


def _field_name(value: Any) -> str:
    """A model's field name as an output_format name: snake_case ASCII."""
    if not isinstance(value, str):
        return ""
    ascii_name = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ascii_name)
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_").lower()[:64]
    if name and name[0].isdigit():
        name = f"field_{name}"
    return name if FIELD_NAME.match(name or "-") else ""


def _model_fields(value: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or len(fields) >= MAX_FIELDS:
            continue
        name = _field_name(item.get("name"))
        kind = item.get("type")
        if not name or name in fields or kind not in FIELD_TYPES:
            continue
        description = _single_line(item.get("description"), 300)
        spec: dict[str, Any] = {
            "type": kind,
            "description": description or f"The {name.replace('_', ' ')}.",
        }
        if kind == "list":
            spec["item_type"] = "str"
        raw_options = item.get("options") if kind == "str" else None
        options = list(
            dict.fromkeys(
                _single_line(option, 100)
                for option in (raw_options if isinstance(raw_options, list) else [])
                if _single_line(option, 100)
            )
        )[:MAX_OPTIONS]
        if len(options) >= 2:
            spec["options"] = options
        fields[name] = spec
    return fields


def output_format_generate(
    *, user_prompt: str, system_prompt: str = "", output_modality: str = "json"
) -> OutputSuggestion:
    """Output fields for the prompt's goal: a type and a description on each,
    and the allowed values where the prompt lists fixed choices."""
    prompt = _checked_prompt(user_prompt)
    system = _checked_system_prompt(system_prompt)
    if _checked_modality(output_modality) != Task.OutputModality.JSON:
        raise Invalid(
            "Only text output (JSON) has fields to define; image, audio and the "
            "other formats need none.",
            field="output_modality",
        )
    model = assistant_model()
    extra = f"\nThe task's system prompt:\n<<<\n{system}\n>>>" if system else ""
    answer = _ask(
        model,
        instructions=_OUTPUT_INSTRUCTIONS,
        request=_request_text(prompt, extra),
        output=OUTPUT_FIELDS_FORMAT,
    )
    fields = _model_fields(answer.get("fields")) or _draft_output_format(prompt)
    try:
        compile_output_format(normalise_output_format(fields))
    except OutputFormatError:
        # Guarded above field by field; a format that still fails is replaced.
        fields = _draft_output_format(prompt)
    return OutputSuggestion(output_format=fields)


# 4.3 Settings suggestions ------------------------------------------------------------

_SETTINGS_INSTRUCTIONS = (
    "You configure reusable LLM tasks. From the task's prompt, propose: a short "
    "name (letters, digits, spaces and hyphens only, at most 60 characters, e.g. "
    "“Sentiment Analyser”), a one or two sentence description of what the task "
    "does and when to use it, the kind of task, the model to run it on (from the "
    "list given) and a temperature from 0 to 100 percent: 0-30 for "
    "classification and extraction, 30-50 for analysis and summaries, 50-100 "
    "for creative generation. Answer with JSON only."
)


def model_is_chat(model: LLMModel) -> bool:
    """Whether the model writes text: image-only models take no sampling
    settings (their parameters are sizes and qualities)."""
    params = model.model_params or {}
    if not params:
        return not (model.supports_image_output and not model.supports_vision)
    return any(key in params for key in ("temperature", "max_tokens", "top_p"))


def _fits(model: LLMModel, *, output_modality: str, image_required: bool) -> bool:
    if image_required and not model.supports_vision:
        return False
    if output_modality == Task.OutputModality.IMAGE:
        return model.supports_image_output
    if output_modality == Task.OutputModality.AUDIO:
        return model.supports_audio_output
    return model_is_chat(model)


def model_candidates(*, output_modality: str, image_required: bool) -> list[LLMModel]:
    """Models that can run the task. Real models with credentials first, then
    the offline demo, then the rest: a model whose provider key is missing
    would fail on the first run."""
    fitting = [
        model
        for model in LLMModel.objects.filter(enabled=True, retired__isnull=True)
        if _fits(model, output_modality=output_modality, image_required=image_required)
    ]
    configured = [model for model in fitting if llm.has_credentials(model)]
    real = [model for model in configured if not _offline(model)]
    return real or configured or fitting


def _preferred_model(candidates: list[LLMModel], task_type: str) -> LLMModel | None:
    """A quick, cheap model for classification and extraction; a stronger (by
    price) one for analysis and generation. Unknown prices come last."""
    if not candidates:
        return None
    stronger = task_type in {"analysis", "generation"}

    def key(model: LLMModel) -> tuple[bool, Decimal, str]:
        price = model.input_price_per_mtok
        if price is None:
            return (True, Decimal(0), model.alias)
        return (False, -price if stronger else price, model.alias)

    return min(candidates, key=key)


def _task_name(value: Any) -> str:
    """A name the task-name rule accepts, at most NAME_MAX_CHARS long, or ""."""
    if not isinstance(value, str):
        return ""
    ascii_name = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9\- ]+", " ", ascii_name).split()
    name = ""
    for word in words:
        candidate = f"{name} {word}".strip()
        if len(candidate) > NAME_MAX_CHARS:
            break
        name = candidate
    name = name.strip(" -")
    return name if name and TASK_NAME.match(name) else ""


def _draft_name(prompt: str) -> str:
    """Title-cased, the first three significant words of the instruction (the
    text before any list of choices); variable names fill in when it has fewer
    than two."""
    text = _without_variables(instruction_of(prompt))
    choices = _enum_matches(text)
    if choices:
        text = text[: choices[0].start()]
    words = [word for word in _WORD.findall(text) if word.lower() not in _STOPWORDS]
    if len(words) < 2:
        words += [
            part
            for name in detect_variables(prompt)
            for part in name.split("_")
            if part
        ]
    return _task_name(" ".join(word.capitalize() for word in words[:3])) or "New Task"


def _draft_description(prompt: str, image_required: bool) -> str:
    names = detect_variables(prompt)
    text = f"{_goal_phrase(prompt)}."
    if names:
        label = "Input" if len(names) == 1 else "Inputs"
        text += f" {label}: {', '.join(names)}."
    if image_required:
        text += " Each run takes one or more images."
    return text[:DESCRIPTION_MAX_CHARS]


def _checked_output_format(output_format: Any) -> dict[str, Any] | None:
    if output_format in (None, "", {}):
        return None
    try:
        return normalise_output_format(output_format)
    except OutputFormatError as error:
        raise Invalid(
            f"The output format is not valid: {error}", field="output_format"
        ) from error


def settings_suggest(
    *,
    user_prompt: str,
    output_format: Any = None,
    image_required: bool = False,
    output_modality: str = "json",
) -> SettingsSuggestion:
    """A name, a description, a model that can run the task and a temperature
    in the band of the task's type."""
    prompt = _checked_prompt(user_prompt)
    fields = _checked_output_format(output_format)
    modality = _checked_modality(output_modality)
    candidates = model_candidates(
        output_modality=modality, image_required=image_required
    )
    output: dict[str, Any] = {
        "name": {"type": "str", "description": "A short task name."},
        "description": {"type": "str", "description": "What the task does."},
        "task_type": {"type": "str", "options": list(TASK_TYPES)},
        "temperature_percent": {"type": "int", "description": "0 to 100."},
    }
    listing = ""
    if candidates:
        output["llm_model"] = {
            "type": "str",
            "options": list(dict.fromkeys(model.alias for model in candidates)),
            "description": "The alias of the model to run the task on.",
        }
        listing = "\nModels to choose from:\n" + "\n".join(
            f"- {model.alias}: {model.description[:200]}" for model in candidates
        )
    if image_required:
        listing += "\nEvery run includes images, so the model must read images."
    model = assistant_model()
    answer = _ask(
        model,
        instructions=_SETTINGS_INSTRUCTIONS,
        request=_request_text(prompt, f"\nOutput modality: {modality}.{listing}"),
        output=output,
    )
    task_type = task_type_of(prompt, fields)
    if task_type == "general" and answer.get("task_type") in TASK_TYPES:
        task_type = answer["task_type"]
    lowest, highest, default = BANDS[task_type]
    temperature = answer.get("temperature_percent")
    if isinstance(temperature, int) and not isinstance(temperature, bool):
        temperature = min(max(temperature, lowest), highest)
    else:
        temperature = default
    chosen = next(
        (m for m in candidates if m.alias == answer.get("llm_model")), None
    ) or _preferred_model(candidates, task_type)
    return SettingsSuggestion(
        name=_task_name(answer.get("name")) or _draft_name(prompt),
        description=_single_line(answer.get("description"), DESCRIPTION_MAX_CHARS)
        or _draft_description(prompt, image_required),
        llm_model=chosen,
        temperature_percent=temperature,
        task_type=task_type,
    )
