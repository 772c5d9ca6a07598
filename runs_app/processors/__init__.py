"""Input processors (domain.md §7): each turns one variable's value into the text
the prompt gets, before the prompt is rendered.

Revisions name their processors in `input_processors` (validated when the
revision is saved, tasks_app/input_processors.py); `processed_values` runs them
in list order. A processor that cannot do its job raises `ProcessorFailed`, which
reaches the caller as a 422 naming the processor and the variable: nothing of
the run is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rightbrain.errors import Invalid
from runs_app.files import Upload
from runs_app.processors import (
    document_content_extractor,
    perplexity_search,
    url_fetcher,
)
from runs_app.processors.common import ProcessorFailed
from tasks_app.input_processors import processor_named
from tasks_app.models import TaskRevision

Processor = Callable[..., str]

PROCESSORS: dict[str, Processor] = {
    "url_fetcher": url_fetcher.processed,
    "document_content_extractor": document_content_extractor.processed,
    "perplexity_search": perplexity_search.processed,
}


def processed_values(
    *, revision: TaskRevision, values: Mapping[str, Any], uploads: Sequence[Upload]
) -> dict[str, Any]:
    """`values` with each processed variable replaced by its processor's text."""
    result = dict(values)
    for entry in revision.input_processors or []:
        definition = processor_named(entry["input_processor"])
        param = entry["param_name"]
        if definition is None:
            raise Invalid(
                f"This revision names an unknown input processor "
                f"{entry['input_processor']!r}.",
                field="input_processors",
            )
        try:
            result[param] = PROCESSORS[definition.name](
                param=param,
                value=result[param],
                config=entry.get("config") or {},
                uploads=uploads,
            )
        except ProcessorFailed as failure:
            raise Invalid(
                f"{definition.name} ({param}): {failure}", field=f"task_input.{param}"
            ) from None
    return result
