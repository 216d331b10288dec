"""``/v1/search``: hybrid (or dense / BM25) passage retrieval."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import IndexDep, OffloadDep, SettingsDep
from service.api.errors import InvalidRequestError
from service.api.schemas import SearchRequest, SearchResponse, SearchResult
from service.core.config import Settings

router = APIRouter(prefix="/v1", tags=["search"])


def check_question(text: str, settings: Settings, field: str) -> str:
    """Strip ``text`` and enforce ``settings.max_question_chars``."""
    text = text.strip()
    if len(text) > settings.max_question_chars:
        raise InvalidRequestError(
            f"{field}: {len(text)} characters; the limit is {settings.max_question_chars} "
            "(VNQA_MAX_QUESTION_CHARS). Shorten it."
        )
    return text


def check_top_k(top_k: int | None, settings: Settings) -> int:
    """``top_k`` or the default, within ``1..settings.max_top_k``."""
    if top_k is None:
        return min(settings.default_top_k, settings.max_top_k)
    if top_k > settings.max_top_k:
        raise InvalidRequestError(
            f"top_k: {top_k} is above the limit of {settings.max_top_k} (VNQA_MAX_TOP_K)."
        )
    return top_k


@router.post("/search", response_model=SearchResponse, summary="Tìm đoạn văn liên quan")
async def search(
    body: SearchRequest, settings: SettingsDep, index: IndexDep, offload: OffloadDep
) -> SearchResponse:
    """Retrieve the ``top_k`` passages closest to ``query``, optionally filtered."""
    query = check_question(body.query, settings, "query")
    top_k = check_top_k(body.top_k, settings)
    filters = body.filters.to_filters() if body.filters else None
    hits = await offload(index.search, query, top_k=top_k, filters=filters, mode=body.mode)
    return SearchResponse(results=[SearchResult.from_hit(h) for h in hits])
