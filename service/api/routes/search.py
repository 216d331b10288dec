"""``/v1/search``: hybrid (or dense / BM25) passage retrieval."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import IndexDep, SearchOffloadDep, SettingsDep
from service.limits import check_question, check_top_k
from service.schemas import SearchRequest, SearchResponse, SearchResult

router = APIRouter(prefix="/v1", tags=["search"])


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
