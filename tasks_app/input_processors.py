"""The input processors a revision may name, and the schema of their config.

Definitions only: the run engine (runs_app/processors) executes them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProcessorDefinition:
    name: str
    label: str
    description: str
    config_schema: dict[str, Any]
    accepts_files: bool = False


PROCESSORS: dict[str, ProcessorDefinition] = {
    definition.name: definition
    for definition in [
        ProcessorDefinition(
            name="url_fetcher",
            label="Web crawl",
            description=(
                "Fetches the page at the URL given for the variable and uses its "
                "readable text (HTML, JSON or plain text) in place of the URL."
            ),
            config_schema={
                "type": "object",
                "properties": {
                    "timeout": {"type": "number", "minimum": 1, "maximum": 120},
                    "extract_text": {"type": "boolean"},
                    "include_title": {"type": "boolean"},
                    "max_length": {"type": "integer", "minimum": 1},
                    "fallback_text": {"type": "string"},
                },
                "additionalProperties": False,
            },
        ),
        ProcessorDefinition(
            name="document_content_extractor",
            label="Documents",
            description=(
                "Extracts the text of an uploaded file named by the variable: PDF, "
                "DOCX, PPTX, TXT, CSV or XLSX."
            ),
            config_schema={
                "type": "object",
                "properties": {"max_length": {"type": "integer", "minimum": 1}},
                "additionalProperties": False,
            },
            accepts_files=True,
        ),
        ProcessorDefinition(
            name="perplexity_search",
            label="Perplexity search",
            description=(
                "Searches the web for the variable's value (optionally inside an "
                "augmenting phrase) and uses the top results."
            ),
            config_schema={
                "type": "object",
                "properties": {
                    "max_results": {"type": "integer", "minimum": 5, "maximum": 20},
                    "query_context": {"type": "string"},
                },
                "additionalProperties": False,
            },
        ),
    ]
}

# Other names the seeds use for the same processors.
ALIASES = {"url_scraper": "url_fetcher"}


def processor_named(name: str) -> ProcessorDefinition | None:
    return PROCESSORS.get(ALIASES.get(name, name))
