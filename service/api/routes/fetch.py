"""``POST /v1/articles/fetch``: take in a news page from its URL."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import AutoSummariesDep, IndexDep, SettingsDep, WriteOffloadDep
from service.api.errors import ApiError
from service.fetching import FetchError, FetchLimits, fetch_article
from service.limits import check_text_size
from service.schemas import IngestedArticle, IngestResponse
from service.summary_schemas import FetchIn

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.post(
    "/fetch",
    status_code=201,
    response_model=IngestResponse,
    summary="Lấy một bài báo từ địa chỉ web",
    description="Tải trang (chỉ http/https, địa chỉ công khai), trích nội dung chính, tiêu đề, "
    "ngày, tác giả, nguồn bằng trafilatura rồi lưu; cùng `url` thì thay bài cũ.",
)
async def fetch(
    body: FetchIn,
    settings: SettingsDep,
    index: IndexDep,
    offload: WriteOffloadDep,
    auto_summaries: AutoSummariesDep,
) -> IngestResponse:
    """Download, extract and store the article at ``url``."""
    try:  # network and parsing: the shared thread pool, not a search worker
        article = await run_in_threadpool(
            fetch_article, body.url, FetchLimits.from_settings(settings)
        )
    except FetchError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    check_text_size(len(article.text), settings, "text", "The page's article is too long.")
    results = await offload(index.add_articles, [article])
    auto_summaries.notify()
    return IngestResponse(
        articles=[IngestedArticle(id=r.id, chunks=r.chunks, replaced=r.replaced) for r in results]
    )
