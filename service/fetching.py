"""News pages in from the web: a guarded download, then main-text extraction.

:func:`download` takes only ``http``/``https`` URLs whose host resolves to public
addresses (private, loopback, link-local, multicast and reserved ones are refused
unless ``allow_private``), follows redirects itself so that each hop is checked the
same way, and stops at a size and a time limit. :func:`extract_article` hands the page
to ``trafilatura`` (main text without navigation, ads or comments; title, date,
author, site) and builds an :class:`~index.documents.Article` whose id comes from the
URL, so fetching the same URL again replaces the stored article.

A check resolves the host before the connection resolves it again; a DNS server that
answers differently the second time (DNS rebinding) is not defended against here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from index.documents import Article, ArticleFormatError, make_article

#: Fewest characters of main text that make a page an article.
MIN_ARTICLE_CHARS = 200
_SCHEMES = ("http", "https")
_REDIRECTS = (301, 302, 303, 307, 308)
_USER_AGENT = "vnqa/0.1 (+news fetcher)"


class FetchError(Exception):
    """A URL that cannot be taken in; ``code`` and ``status`` are the API's answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """What a download may do (from ``VNQA_FETCH_*``)."""

    allow_private: bool = False
    max_bytes: int = 5 * 1024 * 1024
    timeout_s: float = 15.0
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings) -> FetchLimits:  # noqa: ANN001 - Settings (service layer)
        """The limits the settings choose."""
        return cls(
            settings.fetch_allow_private,
            settings.fetch_max_bytes,
            settings.fetch_timeout_s,
            settings.fetch_max_redirects,
        )


@dataclass(frozen=True, slots=True)
class Page:
    """A downloaded page: the URL asked for, where it ended up, and its bytes."""

    url: str
    final_url: str
    content: bytes
    content_type: str


def canonical_url(url: str) -> str:
    """``url`` with a lower-case scheme and host, no default port and no fragment."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (parts.scheme.lower(), port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


def url_article_id(url: str) -> str:
    """The id of the article fetched from ``url``: the same URL always gives the same id."""
    return "url-" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:16]


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a non-public address.

    Raises :class:`FetchError` (422 ``url_not_allowed``) naming the reason.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise FetchError(422, "invalid_url", f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _SCHEMES:
        raise FetchError(
            422,
            "url_not_allowed",
            f"only http and https URLs can be fetched, not {parts.scheme or 'none'!r}",
        )
    if not parts.hostname:
        raise FetchError(422, "invalid_url", f"{url!r} has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(502, "fetch_failed", f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise FetchError(
                422,
                "url_not_allowed",
                f"{parts.hostname} resolves to {address}, a private, loopback, link-local or "
                "reserved address; set VNQA_FETCH_ALLOW_PRIVATE=true to allow it",
            )


def download(url: str, limits: FetchLimits) -> Page:
    """Download ``url`` within ``limits``, checking every redirect hop like the first URL.

    Raises :class:`FetchError`: 422 for a URL not allowed, 413 ``page_too_large``,
    504 ``fetch_timeout``, 502 ``fetch_failed`` (connection errors, HTTP errors, too
    many redirects).
    """
    deadline = time.monotonic() + limits.timeout_s
    current = url
    with httpx.Client(
        follow_redirects=False, headers={"User-Agent": _USER_AGENT}, trust_env=False
    ) as client:
        for _ in range(limits.max_redirects + 1):
            check_url(current, allow_private=limits.allow_private)
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timeout(url, limits)
            try:
                with client.stream("GET", current, timeout=left) as response:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise FetchError(
                            502, "fetch_failed", f"{current} answered HTTP {response.status_code}"
                        )
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                        raise _too_large(current, limits)
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body.extend(piece)
                        if len(body) > limits.max_bytes:
                            raise _too_large(current, limits)
                        if time.monotonic() > deadline:
                            raise _timeout(url, limits)
                    return Page(url, current, bytes(body), response.headers.get("content-type", ""))
            except httpx.TimeoutException:
                raise _timeout(url, limits) from None
            except httpx.HTTPError as exc:
                raise FetchError(502, "fetch_failed", f"cannot fetch {current}: {exc}") from None
    raise FetchError(
        502,
        "fetch_failed",
        f"{url} redirected more than {limits.max_redirects} times (VNQA_FETCH_MAX_REDIRECTS)",
    )


def _too_large(url: str, limits: FetchLimits) -> FetchError:
    return FetchError(
        413,
        "page_too_large",
        f"{url} is larger than {limits.max_bytes} bytes (VNQA_FETCH_MAX_BYTES)",
    )


def _timeout(url: str, limits: FetchLimits) -> FetchError:
    return FetchError(
        504,
        "fetch_timeout",
        f"{url} did not arrive within {limits.timeout_s:g} s (VNQA_FETCH_TIMEOUT_S)",
    )


def extract_article(html: bytes | str, url: str) -> Article:
    """The article in a news page: main text, title, date, author and source.

    Raises :class:`FetchError` (422 ``no_article_text``) when the page holds no
    article text (a home page, a login wall, an empty page).
    """
    import trafilatura  # imported on use: a second or so, and only fetching needs it

    fields: dict[str, Any] = {}
    # Precision first (no boilerplate); a page whose article sits in an old table layout
    # yields nothing that way, and is read again favouring recall.
    for precise in (True, False):
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            favor_precision=precise,
        )
        if document is None:
            fields = {}
        elif isinstance(document, dict):
            fields = document
        else:
            fields = document.as_dict()
        if len(fields.get("text") or "") >= MIN_ARTICLE_CHARS:
            break
    lines = [line.strip() for line in (fields.get("text") or "").split("\n") if line.strip()]
    if lines and fields.get("title") and lines[0] == fields["title"].strip():
        lines = lines[1:]  # the headline repeated as the first line of the text
    text = "\n\n".join(lines)
    if len(text) < MIN_ARTICLE_CHARS:
        raise FetchError(
            422,
            "no_article_text",
            f"{url} holds no article text that could be extracted (found "
            f"{len(text)} characters of main text, an article needs "
            f"{MIN_ARTICLE_CHARS}); is it an article page?",
        )
    try:
        return make_article(
            id=url_article_id(url),
            text=text,
            title=fields.get("title") or None,
            date=_iso_day(fields.get("date")),
            source=fields.get("sitename") or fields.get("hostname") or urlsplit(url).hostname,
            url=url,
            author=fields.get("author") or None,
        )
    except ArticleFormatError as exc:
        raise FetchError(422, "no_article_text", f"{url}: {exc}") from None


def _iso_day(value: str | None) -> str | None:
    """trafilatura's date (``YYYY-MM-DD``), or None when it found none."""
    if not value:
        return None
    day = value[:10]
    return day if len(day) == 10 and day[4] == "-" and day[7] == "-" else None


def fetch_article(url: str, limits: FetchLimits) -> Article:
    """Download ``url`` and extract its article (raises :class:`FetchError`)."""
    page = download(url.strip(), limits)
    return extract_article(page.content, page.url)
