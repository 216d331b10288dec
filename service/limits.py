"""Every request limit, in one place, for every interface (HTTP, chat, MCP, CLI).

A check returns the cleaned value or raises :class:`RequestRejected`, the one error type
for input an interface refuses. Each interface renders it in its own format: the HTTP
API as a 422 ``{"error": {"code", "message", "limit"}}``, the chat endpoint as OpenAI's
400, MCP as a tool error, the CLI as a one-line error and exit status 2. A broken
configured limit has code ``limit_exceeded`` and names the setting and its value.
"""

from __future__ import annotations

from typing import Any

from models.vietnamese import normalize
from service.core.config import Settings


class RequestRejected(Exception):
    """Input refused before any work: ``code`` (``limit_exceeded``, ``validation_error``),
    a message saying what to change, and for a limit the setting and its value."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "validation_error",
        setting: str | None = None,
        value: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.setting = setting
        self.value = value

    @property
    def limit(self) -> dict[str, Any] | None:
        """``{"setting", "value"}`` of the broken limit, or None."""
        if self.setting is None:
            return None
        return {"setting": self.setting, "value": self.value}


def _limit(message: str, setting: str, value: int) -> RequestRejected:
    return RequestRejected(message, code="limit_exceeded", setting=setting, value=value)


def check_question(text: str, settings: Settings, field: str) -> str:
    """``text`` normalized (NFC, control characters dropped) and stripped, within
    ``settings.max_question_chars`` (``VNQA_MAX_QUESTION_CHARS``); rejected when empty."""
    limit = settings.max_question_chars
    if len(text) > limit:  # before the work of normalizing
        raise _question_too_long(field, len(text), limit)
    text = normalize(text).strip()
    if not text:
        raise RequestRejected(
            f"{field}: is empty once control characters are removed; write some text"
        )
    if len(text) > limit:
        raise _question_too_long(field, len(text), limit)
    return text


def _question_too_long(field: str, length: int, limit: int) -> RequestRejected:
    return _limit(
        f"{field}: {length} characters; the limit is {limit} (VNQA_MAX_QUESTION_CHARS). "
        "Shorten it.",
        "VNQA_MAX_QUESTION_CHARS",
        limit,
    )


def check_max_words(max_words: int | None, settings: Settings) -> int | None:
    """``max_words`` unless it is above ``settings.max_summary_words``."""
    if max_words is not None and max_words > settings.max_summary_words:
        raise _limit(
            f"max_words: {max_words} is above the limit of {settings.max_summary_words} "
            "(VNQA_MAX_SUMMARY_WORDS).",
            "VNQA_MAX_SUMMARY_WORDS",
            settings.max_summary_words,
        )
    return max_words


def check_top_k(top_k: int | None, settings: Settings) -> int:
    """``top_k`` or the default, within ``1..settings.max_top_k``."""
    if top_k is None:
        return min(settings.default_top_k, settings.max_top_k)
    if top_k > settings.max_top_k:
        raise _limit(
            f"top_k: {top_k} is above the limit of {settings.max_top_k} (VNQA_MAX_TOP_K).",
            "VNQA_MAX_TOP_K",
            settings.max_top_k,
        )
    return top_k


def check_batch_size(count: int, settings: Settings, where: str, *, more: bool = False) -> None:
    """Rejected when ``count`` articles are over ``settings.max_batch_articles``; ``more``
    says the count stopped early (there are at least that many)."""
    limit = settings.max_batch_articles
    if count > limit:
        how_many = f"more than {limit}" if more else str(count)
        raise _limit(
            f"{where}: {how_many} articles in one request; the limit is {limit} "
            "(VNQA_MAX_BATCH_ARTICLES). Split them into several requests.",
            "VNQA_MAX_BATCH_ARTICLES",
            limit,
        )


def check_text_size(length: int, settings: Settings, where: str, fix: str) -> None:
    """Rejected when a text of ``length`` characters is over ``settings.max_text_chars``;
    ``fix`` tells the client what to do (e.g. "Split the article.")."""
    limit = settings.max_text_chars
    if length > limit:
        raise _limit(
            f"{where}: {length} characters; the limit is {limit} (VNQA_MAX_TEXT_CHARS). {fix}",
            "VNQA_MAX_TEXT_CHARS",
            limit,
        )


def check_text(text: str, settings: Settings, field: str, fix: str) -> str:
    """A text to store or summarize, normalized and stripped, within
    ``settings.max_text_chars``; rejected when empty."""
    check_text_size(len(text), settings, field, fix)  # before the work of normalizing
    text = normalize(text).strip()
    if not text:
        raise RequestRejected(f"{field}: is empty; write some Vietnamese text")
    check_text_size(len(text), settings, field, fix)
    return text
