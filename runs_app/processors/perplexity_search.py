"""perplexity_search: the top web search results for the variable's value.

The query is the value, or the revision's `query_context` with the value put in
(`top competitors for {company}`): the whole phrase is searched. The results
(title, address, snippet) replace the value. The provider is the instance's
RB_SEARCH_PROVIDER: `perplexity` (Perplexity's Search API, with RB_SEARCH_API_KEY
or PERPLEXITY_API_KEY) or `mock` (canned results, for offline demos). Revisions
save without a provider; their runs are refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from runs_app.files import Upload
from runs_app.processors.common import ProcessorFailed, text_of
from tasks_app.variables import render_prompt

DEFAULT_RESULTS = 5


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


def processed(
    *, param: str, value: Any, config: dict[str, Any], uploads: Sequence[Upload]
) -> str:
    term = text_of(value, what="a search term")
    context = config.get("query_context")
    query = render_prompt(context, {param: term}) if context else term
    max_results = config.get("max_results") or DEFAULT_RESULTS
    results = search(query, max_results=max_results)
    if not results:
        raise ProcessorFailed(f"the search for {query!r} found nothing.")
    return as_text(query, results)


def search(query: str, *, max_results: int) -> list[SearchResult]:
    name = settings.RB_SEARCH_PROVIDER
    provider = PROVIDERS.get(name)
    if provider is None:
        raise ProcessorFailed(
            f"this instance's search provider {name!r} is not one of "
            f"{', '.join(PROVIDERS)} (RB_SEARCH_PROVIDER)."
        )
    return provider(query, max_results)[:max_results]


def as_text(query: str, results: Sequence[SearchResult]) -> str:
    lines = [f"Web search results for {query!r}:"]
    for number, result in enumerate(results, start=1):
        lines += ["", f"{number}. {result.title}", f"   {result.url}"]
        if result.snippet:
            lines.append(f"   {result.snippet}")
    return "\n".join(lines)


def _perplexity(query: str, max_results: int) -> list[SearchResult]:
    """Perplexity's Search API: POST {base}/search → {"results": [...]}."""
    key = settings.RB_SEARCH_API_KEY
    if not key:
        raise ProcessorFailed(
            "web search is not set up on this instance: set PERPLEXITY_API_KEY "
            "(or RB_SEARCH_API_KEY)."
        )
    url = settings.RB_SEARCH_API_BASE.rstrip("/") + "/search"
    try:
        reply = httpx.post(
            url,
            json={"query": query, "max_results": max_results},
            headers={"Authorization": f"Bearer {key}"},
            timeout=settings.RB_SEARCH_TIMEOUT,
        )
    except httpx.TimeoutException:
        raise ProcessorFailed("the search provider did not answer in time.") from None
    except httpx.HTTPError as error:
        raise ProcessorFailed(
            f"the search provider is unreachable ({error})."
        ) from None
    if reply.status_code in {401, 403}:
        raise ProcessorFailed("the search provider refused this instance's API key.")
    if reply.status_code >= 400:
        raise ProcessorFailed(f"the search provider answered {reply.status_code}.")
    try:
        items = reply.json()["results"]
        return [
            SearchResult(
                title=str(item.get("title") or item.get("url") or ""),
                url=str(item.get("url") or ""),
                snippet=str(item.get("snippet") or ""),
            )
            for item in items
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ProcessorFailed(
            "the search provider's answer was not in the expected form."
        ) from None


def _canned(query: str, max_results: int) -> list[SearchResult]:
    return [
        SearchResult(
            title=f"Result {number} for {query}",
            url=f"https://example.com/search/{number}",
            snippet="A canned result: this instance searches nothing "
            "(RB_SEARCH_PROVIDER=mock).",
        )
        for number in range(1, max_results + 1)
    ]


PROVIDERS: dict[str, Callable[[str, int], list[SearchResult]]] = {
    "perplexity": _perplexity,
    "mock": _canned,
}
