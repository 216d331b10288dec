"""``/v1/search``: hybrid (or dense / BM25) passage retrieval."""

from __future__ import annotations

from fastapi import APIRouter

from models.vietnamese import normalize
from service.api.deps import IndexDep, SearchOffloadDep, SettingsDep
from service.api.errors import InvalidRequestError, LimitExceededError
from service.api.schemas import SearchRequest, SearchResponse, SearchResult
from service.core.config import Settings

router = APIRouter(prefix="/v1", tags=["search"])


def check_question(text: str, settings: Settings, field: str) -> str:
    """``text`` normalized (NFC, control characters dropped) and stripped, within
    ``settings.max_question_chars``; 422 when nothing is left."""
    if len(text) > settings.max_question_chars:  # before the work of normalizing
        raise _too_long(field, len(text), settings)
    text = normalize(text).strip()
    if not text:
        raise InvalidRequestError(
            f"{field}: is empty once control characters are removed; write some text"
        )
    if len(text) > settings.max_question_chars:
        raise _too_long(field, len(text), settings)
    return text


def _too_long(field: str, length: int, settings: Settings) -> LimitExceededError:
    return LimitExceededError(
        f"{field}: {length} characters; the limit is {settings.max_question_chars} "
        "(VNQA_MAX_QUESTION_CHARS). Shorten it.",
        "VNQA_MAX_QUESTION_CHARS",
        settings.max_question_chars,
    )


def check_max_words(max_words: int | None, settings: Settings) -> int | None:
    """``max_words`` unless it is above ``settings.max_summary_words`` (then 422)."""
    if max_words is not None and max_words > settings.max_summary_words:
        raise LimitExceededError(
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
        raise LimitExceededError(
            f"top_k: {top_k} is above the limit of {settings.max_top_k} (VNQA_MAX_TOP_K).",
            "VNQA_MAX_TOP_K",
            settings.max_top_k,
        )
    return top_k


@router.post("/search", response_model=SearchResponse, summary="Tìm đoạn văn liên quan")
async def search(
    body: SearchRequest, settings: SettingsDep, index: IndexDep, offload: SearchOffloadDep
) -> SearchResponse:
    """Retrieve the ``top_k`` passages closest to ``query``, optionally filtered."""
    query = check_question(body.query, settings, "query")
    top_k = check_top_k(body.top_k, settings)
    filters = body.filters.to_filters() if body.filters else None
    hits = await offload(index.search, query, top_k=top_k, filters=filters, mode=body.mode)
    return SearchResponse(results=[SearchResult.from_hit(h) for h in hits])
