"""url_fetcher (alias url_scraper): the page at the variable's URL, as text.

HTML becomes its readable text (trafilatura drops navigation, footers and other
boilerplate), optionally headed by the page title; JSON and plain text are used
as they come. The fetch goes through `rightbrain.outbound`, so it connects only
to public addresses (each redirect hop vetted and pinned) unless the instance
allows private ones, and it stops at RB_URL_FETCH_MAX_BYTES and at the timeout.
A failed fetch uses the revision's `fallback_text` when it has one; without one
the run is refused.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from rightbrain import outbound
from runs_app.files import Upload
from runs_app.processors.common import ProcessorFailed, clipped, text_of

_ACCEPT = "text/html, application/xhtml+xml, application/json, text/plain;q=0.9"
_USER_AGENT = "Rightbrain-url_fetcher/1.0"


class FetchFailed(Exception):
    pass


@dataclass(frozen=True)
class Page:
    url: str
    media_type: str
    charset: str | None  # as the server declared it
    body: bytes

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


def processed(
    *, param: str, value: Any, config: dict[str, Any], uploads: Sequence[Upload]
) -> str:
    url = text_of(value, what="a URL")
    timeout = float(config.get("timeout") or settings.RB_URL_FETCH_TIMEOUT)
    try:
        page = fetch(url, timeout=timeout)
        text = readable_text(
            page,
            extract_text=config.get("extract_text", True),
            include_title=config.get("include_title", True),
        )
    except FetchFailed as failure:
        fallback = config.get("fallback_text")
        if fallback is not None:
            return fallback
        raise ProcessorFailed(f"could not fetch {url}: {failure}") from None
    return clipped(text, config.get("max_length"))


def fetch(url: str, *, timeout: float) -> Page:
    """The page's bytes, at most RB_URL_FETCH_MAX_BYTES, within `timeout` in all."""
    limit = settings.RB_URL_FETCH_MAX_BYTES
    # httpx's timeout bounds each wait; a server trickling bytes needs a deadline.
    deadline = time.monotonic() + timeout
    headers = {"Accept": _ACCEPT, "User-Agent": _USER_AGENT}
    try:
        with (
            outbound.client(timeout=timeout) as client,
            client.stream("GET", url, headers=headers) as reply,
        ):
            if reply.status_code >= 400:
                raise FetchFailed(f"the server answered {reply.status_code}.")
            body = bytearray()
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchFailed(f"the page is larger than {limit:,} bytes.")
                if time.monotonic() > deadline:
                    raise FetchFailed(f"the page took longer than {timeout:g} s.")
            media_type = reply.headers.get("content-type", "").split(";")[0]
            return Page(
                url=str(reply.url),
                media_type=media_type.strip().lower(),
                charset=reply.charset_encoding,
                body=bytes(body),
            )
    except httpx.TimeoutException:
        raise FetchFailed(f"no answer within {timeout:g} s.") from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise FetchFailed(str(error) or type(error).__name__) from None


def readable_text(page: Page, *, extract_text: bool, include_title: bool) -> str:
    media_type = page.media_type
    if media_type in {"text/html", "application/xhtml+xml"}:
        text = _html_text(page, include_title=include_title) if extract_text else None
        text = text if text is not None else page.text
    elif (
        media_type.startswith("text/")
        or media_type == "application/json"
        or media_type.endswith("+json")
    ):
        text = page.text
    else:
        raise FetchFailed(
            f"it is {media_type or 'of no stated type'}, not a web page, JSON or text."
        )
    if not text.strip():
        raise FetchFailed("the page has no readable text.")
    return text.strip()


def _html_text(page: Page, *, include_title: bool) -> str:
    # Imported on first use: trafilatura and lxml take a third of a second to
    # import, which processes that never fetch a page should not pay.
    import trafilatura

    # Without a declared charset trafilatura reads the page's own <meta> tags.
    html: str | bytes = page.text if page.charset else page.body
    text = trafilatura.extract(html, url=page.url, include_comments=False) or ""
    if not text:
        # Pages too short for boilerplate detection: all of their text.
        text = trafilatura.html2txt(html)
    title = ""
    if include_title:
        metadata = trafilatura.extract_metadata(html, default_url=page.url)
        title = (metadata.title or "") if metadata else ""
    if title and not text.startswith(title):
        return f"{title}\n\n{text}"
    return text
