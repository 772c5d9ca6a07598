"""The LLM gateway: the only module that imports litellm.

It turns a revision's prompts and a catalogue model into one provider call,
asks for structured output when there is a schema, validates every reply
against that schema (with one repair attempt), and maps provider failures to
`LLMError`s with a kind the run engine can act on. Besides chat completions it
makes the two calls that produce files: image generation and speech. Retries
across calls and the fallback model are the engine's business, not this
module's.

litellm is imported on first use: it costs about two seconds and 160 MiB, which
processes that never call a model (migrations, workers of other queues) should
not pay.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from tasks_app.demo_output import (
    demo_png,
    demo_reply,
    demo_wav,
    estimate_tokens,
)
from tasks_app.models import LLMModel

DEMO_PROVIDER = "rightbrain"
DEFAULT_TIMEOUT = 60.0
# Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) ignore the key, but
# the OpenAI client refuses to send a request without one.
_PLACEHOLDER_KEY = "not-needed"
# The sentence that asks a chat model for CSV. The demo provider answers in
# kind when it reads it, as a real model would.
CSV_INSTRUCTION = (
    "Answer with CSV only: a header row, then one row per record, fields "
    "separated by commas and quoted when they contain commas, quotes or line "
    "breaks. No commentary before or after the table, no code fences."
)
# OpenAI's speech endpoint needs a voice; every OpenAI TTS model has this one.
DEFAULT_VOICE = "alloy"
_AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
}


class LLMError(Exception):
    """A call that produced no usable answer.

    `kind` is one of: rate_limit, timeout, auth, bad_request, unavailable,
    invalid_output, not_configured.
    """

    def __init__(self, kind: str, message: str, *, attempts: int = 1):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = attempts


@dataclass(frozen=True)
class Image:
    content_type: str
    data: bytes


@dataclass(frozen=True)
class GeneratedFile:
    """Bytes a model produced (an image, speech) or that were made from its text."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class LLMReply:
    content: Any  # the validated object when there is a schema, else the text
    text: str
    input_tokens: int
    output_tokens: int
    attempts: int
    seconds: float
    files: tuple[GeneratedFile, ...] = ()


def build_messages(
    *, system_prompt: str, user_prompt: str, images: Sequence[Image] = ()
) -> list[dict[str, Any]]:
    """Chat messages; images ride along as vision content parts."""
    messages: list[dict[str, Any]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    if not images:
        messages.append({"role": "user", "content": user_prompt})
        return messages
    parts: list[dict[str, Any]] = [{"type": "text", "text": user_prompt}]
    for image in images:
        encoded = base64.b64encode(image.data).decode()
        parts.append(
            {
                "type": "image_url",
                "image_url": {"url": f"data:{image.content_type};base64,{encoded}"},
            }
        )
    messages.append({"role": "user", "content": parts})
    return messages


# litellm, loaded once --------------------------------------------------------------

_litellm_module: Any = None
_litellm_lock = threading.Lock()


def _litellm() -> Any:
    global _litellm_module
    if _litellm_module is None:
        with _litellm_lock:
            if _litellm_module is None:
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                import litellm

                litellm.telemetry = False
                litellm.suppress_debug_info = True
                if not os.environ.get("LITELLM_LOG"):
                    # litellm logs every call at INFO: a write per run.
                    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
                        logging.getLogger(name).setLevel(logging.WARNING)
                litellm.custom_provider_map = [
                    {
                        "provider": DEMO_PROVIDER,
                        "custom_handler": _demo_handler(litellm),
                    }
                ]
                _litellm_module = litellm
    return _litellm_module


def _demo_handler(litellm: Any) -> Any:
    """The offline demo model as a litellm custom provider (sync and async)."""

    def answer(messages: list[dict[str, Any]], optional_params: dict) -> Any:
        prompt = "\n".join(_text_of(message) for message in messages)
        response_format = optional_params.get("response_format") or {}
        schema = (response_format.get("json_schema") or {}).get("schema")
        text = demo_reply(prompt, schema, as_csv=CSV_INSTRUCTION in prompt)
        prompt_tokens, completion_tokens = (
            estimate_tokens(prompt),
            estimate_tokens(text),
        )
        return litellm.ModelResponse(
            model=f"{DEMO_PROVIDER}/demo",
            choices=[{"message": {"role": "assistant", "content": text}}],
            usage=litellm.Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
        )

    def image(prompt: str) -> Any:
        encoded = base64.b64encode(demo_png(prompt)).decode()
        return litellm.ImageResponse(data=[{"b64_json": encoded}])

    class DemoLLM(litellm.CustomLLM):
        def completion(self, *args, **kwargs):
            return answer(kwargs["messages"], kwargs.get("optional_params") or {})

        async def acompletion(self, *args, **kwargs):
            return answer(kwargs["messages"], kwargs.get("optional_params") or {})

        def image_generation(self, *args, **kwargs):
            return image(kwargs["prompt"])

        async def aimage_generation(self, *args, **kwargs):
            return image(kwargs["prompt"])

    return DemoLLM()


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return " ".join(
        part.get("text", "") for part in content or [] if part.get("type") == "text"
    )


# One call ---------------------------------------------------------------------------


def _endpoint_kwargs(model: LLMModel, timeout: float) -> dict[str, Any]:
    """Where and how to reach `model`: what every kind of call needs."""
    kwargs: dict[str, Any] = {
        "model": model.litellm_model,
        "timeout": timeout,
        # The engine owns retries; the OpenAI client would otherwise retry twice.
        "max_retries": 0,
    }
    if model.api_base:
        kwargs["api_base"] = model.api_base
    key = os.environ.get(model.api_key_env) if model.api_key_env else None
    if key:
        kwargs["api_key"] = key
    elif model.api_base:
        kwargs["api_key"] = _PLACEHOLDER_KEY
    elif model.api_key_env:
        raise LLMError(
            "not_configured",
            f"{model.alias} needs an API key: set {model.api_key_env} in the "
            "environment of the web and worker processes.",
        )
    return kwargs


def has_credentials(model: LLMModel) -> bool:
    """Whether a call to `model` can be made here: its key is in the
    environment, or it needs none (a local server, the demo model)."""
    return bool(
        not model.api_key_env or model.api_base or os.environ.get(model.api_key_env)
    )


def _call_kwargs(
    model: LLMModel,
    config: dict[str, Any],
    messages: list[dict[str, Any]],
    schema: dict[str, Any] | None,
    timeout: float,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        **_endpoint_kwargs(model, timeout),
        "messages": messages,
        # Settings a provider does not take (say, temperature on GPT-5) are left
        # out instead of failing the run.
        "drop_params": True,
        **config,
    }
    if schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "task_output", "schema": schema, "strict": True},
        }
    return kwargs


def _map_error(error: Exception) -> LLMError:
    # litellm's exceptions subclass the OpenAI SDK's, so checking the SDK's
    # classes also maps what litellm lets through unmapped (its speech calls).
    import openai

    if isinstance(error, openai.RateLimitError):
        return LLMError("rate_limit", "The provider is rate-limiting requests.")
    if isinstance(error, openai.APITimeoutError):
        return LLMError("timeout", "The provider did not answer in time.")
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMError("auth", "The provider refused the API key.")
    if isinstance(error, openai.BadRequestError | openai.NotFoundError):
        return LLMError("bad_request", f"The provider refused the request: {error}")
    return LLMError("unavailable", f"The provider failed: {error}")


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def _parse(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """(object, None) when `text` is JSON matching `schema`, else (None, why)."""
    fenced = _FENCE.match(text.strip())
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as error:
        return None, f"the reply is not JSON ({error.msg})"
    try:
        _validator(json.dumps(schema, sort_keys=True)).validate(value)
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        return None, f"at {where}: {error.message}"
    return value, None


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    """A validator per schema: `jsonschema.validate` checks the schema itself
    on every call, which costs more than validating the reply."""
    schema = json.loads(schema_json)
    return jsonschema.validators.validator_for(schema)(schema)


def _repair_messages(
    messages: list[dict[str, Any]], reply: str, problem: str
) -> list[dict[str, Any]]:
    return [
        *messages,
        {"role": "assistant", "content": reply},
        {
            "role": "user",
            "content": (
                f"That reply does not match the required JSON schema ({problem}). "
                "Answer again with only a JSON object that matches the schema."
            ),
        },
    ]


def _reply_text_and_usage(response: Any) -> tuple[str, int, int]:
    text = response.choices[0].message.content or ""
    usage = getattr(response, "usage", None)
    return (
        text,
        int(getattr(usage, "prompt_tokens", 0) or 0),
        int(getattr(usage, "completion_tokens", 0) or 0),
    )


def _completion_plan(
    *,
    model: LLMModel,
    messages: list[dict[str, Any]],
    config: dict[str, Any] | None,
    schema: dict[str, Any] | None,
    timeout: float,
) -> Generator[dict[str, Any], Any, LLMReply]:
    """The steps of one answer, shared by `complete` and `acomplete`: it yields
    the keyword arguments of each provider call and is sent the response (or
    thrown the provider's exception), so the two differ only in how they call.

    A reply that does not match the schema gets one repair attempt; a second
    failure is an `invalid_output` error, never a silently wrong success.
    """
    started = time.perf_counter()
    tokens_in = tokens_out = 0
    attempt_messages = messages
    for attempt in (1, 2):
        kwargs = _call_kwargs(model, config or {}, attempt_messages, schema, timeout)
        try:
            response = yield kwargs
        except LLMError:
            raise
        except Exception as error:  # litellm raises many types; map them all
            mapped = _map_error(error)
            mapped.attempts = attempt
            raise mapped from error
        text, used_in, used_out = _reply_text_and_usage(response)
        tokens_in += used_in
        tokens_out += used_out
        if schema is None:
            content, problem = text, None
        else:
            content, problem = _parse(text, schema)
        if problem is None:
            return LLMReply(
                content=content,
                text=text,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                attempts=attempt,
                seconds=time.perf_counter() - started,
            )
        attempt_messages = _repair_messages(messages, text, problem)
    raise LLMError(
        "invalid_output",
        f"The model's reply did not match the output format: {problem}",
        attempts=2,
    )


def complete(
    *,
    model: LLMModel,
    messages: list[dict[str, Any]],
    config: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> LLMReply:
    """One answer from the model; with a schema, a validated object."""
    litellm = _litellm()
    plan = _completion_plan(
        model=model, messages=messages, config=config, schema=schema, timeout=timeout
    )
    try:
        kwargs = next(plan)
        while True:
            try:
                response = litellm.completion(**kwargs)
            except Exception as error:
                kwargs = plan.throw(error)
            else:
                kwargs = plan.send(response)
    except StopIteration as done:
        return done.value


async def acomplete(
    *,
    model: LLMModel,
    messages: list[dict[str, Any]],
    config: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> LLMReply:
    """`complete` for the event loop: the provider call is awaited."""
    litellm = _litellm()
    plan = _completion_plan(
        model=model, messages=messages, config=config, schema=schema, timeout=timeout
    )
    try:
        kwargs = next(plan)
        while True:
            try:
                response = await litellm.acompletion(**kwargs)
            except Exception as error:
                kwargs = plan.throw(error)
            else:
                kwargs = plan.send(response)
    except StopIteration as done:
        return done.value


# Calls that produce files -----------------------------------------------------------


def _mapped(error: Exception) -> LLMError:
    return error if isinstance(error, LLMError) else _map_error(error)


def _client_without_retries(model: LLMModel, endpoint: dict[str, Any]) -> Any:
    """For OpenAI models, an SDK client that never retries; else None.

    litellm drops `max_retries` from image calls and sets 2 on whatever client
    it uses, so the SDK would retry on its own: every attempt the engine counts
    (and every timeout it waits through) would triple. This client ignores
    that setting.
    """
    if not model.litellm_model.startswith("openai/"):
        return None
    return _no_retry_client_class()(
        api_key=endpoint.get("api_key"),
        base_url=endpoint.get("api_base"),
        timeout=endpoint["timeout"],
    )


@functools.cache
def _no_retry_client_class() -> Any:
    import openai

    class NoRetryOpenAI(openai.OpenAI):
        @property
        def max_retries(self) -> int:
            return 0

        @max_retries.setter
        def max_retries(self, value: int) -> None:
            pass

    return NoRetryOpenAI


def generate_image(
    *,
    model: LLMModel,
    prompt: str,
    config: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> LLMReply:
    """One image from `prompt`, as the bytes the provider sent.

    The image comes inline (base64): providers that answer with a link only
    are refused rather than followed, since fetching it would be a second,
    unchecked request to an address the provider chose.
    """
    litellm = _litellm()
    started = time.perf_counter()
    endpoint = _endpoint_kwargs(model, timeout)
    client = None
    try:
        client = _client_without_retries(model, endpoint)
        response = litellm.image_generation(
            prompt=prompt,
            n=1,
            # gpt-image models always answer in base64 and take no such
            # setting; drop_params leaves it out for them.
            response_format="b64_json",
            drop_params=True,
            **endpoint,
            **({"client": client} if client is not None else {}),
            **(config or {}),
        )
    except Exception as error:  # litellm raises many types; map them all
        raise _mapped(error) from error
    finally:
        if client is not None:
            client.close()
    images = [item for item in response.data or [] if item.b64_json]
    if not images:
        raise LLMError(
            "invalid_output", "The provider sent no image data (a link at most)."
        )
    try:
        data = base64.b64decode(images[0].b64_json, validate=True)
    except ValueError:
        raise LLMError(
            "invalid_output", "The provider's image is not base64."
        ) from None
    usage = getattr(response, "usage", None)
    return LLMReply(
        content=None,
        text="",
        input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        attempts=1,
        seconds=time.perf_counter() - started,
        # The caller reads the bytes to learn the format; providers differ.
        files=(GeneratedFile("image", "application/octet-stream", data),),
    )


def generate_speech(
    *,
    model: LLMModel,
    text: str,
    instructions: str = "",
    config: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> LLMReply:
    """`text` spoken by a text-to-speech model (`voice`, `speed` and
    `response_format` come from the config; mp3 unless it says otherwise)."""
    started = time.perf_counter()
    options = dict(config or {})
    audio_format = str(options.pop("response_format", "mp3"))
    if model.litellm_model.startswith(f"{DEMO_PROVIDER}/"):
        # litellm's custom-provider hook covers chat and images but not speech,
        # so the demo speaks here, offline, without a provider.
        data, content_type, extension = demo_wav(text), "audio/wav", "wav"
    else:
        litellm = _litellm()
        try:
            response = litellm.speech(
                input=text,
                voice=str(options.pop("voice", DEFAULT_VOICE)),
                response_format=audio_format,
                instructions=instructions or None,
                **_endpoint_kwargs(model, timeout),
                **options,
            )
        except Exception as error:  # litellm raises many types; map them all
            raise _mapped(error) from error
        data = response.content
        content_type = _AUDIO_TYPES.get(audio_format, "application/octet-stream")
        extension = audio_format if audio_format in _AUDIO_TYPES else "bin"
    if not data:
        raise LLMError("invalid_output", "The provider sent no audio.")
    return LLMReply(
        content=None,
        text="",
        # The speech endpoint reports no usage. An estimate of the text's tokens
        # lets a per-token input price charge about the right amount.
        input_tokens=estimate_tokens(text),
        output_tokens=0,
        attempts=1,
        seconds=time.perf_counter() - started,
        files=(GeneratedFile(f"speech.{extension}", content_type, data),),
    )
