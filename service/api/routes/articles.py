"""``/v1/articles``: store, list, read and delete articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from starlette.concurrency import run_in_threadpool

from index.documents import Article, ArticleFormatError, make_article
from service.api.deps import (
    AutoSummariesDep,
    IndexDep,
    SettingsDep,
    SummariesDep,
    WriteOffloadDep,
)
from service.api.errors import ApiError, InvalidRequestError
from service.core.config import Settings
from service.limits import check_batch_size, check_text_size
from service.schemas import (
    ArticleBatchIn,
    ArticleDetail,
    ArticleIn,
    ArticleList,
    ArticleMeta,
    ArticlesPayload,
    Deleted,
    IngestedArticle,
    IngestResponse,
)

router = APIRouter(prefix="/v1/articles", tags=["articles"])

_EXAMPLES = {
    "single": {
        "summary": "Một bài báo",
        "value": {
            "title": "Bí thư Tỉnh ủy làm việc với Đảng ủy Công an tỉnh",
            "text": "Chiều 27/11, Bí thư Tỉnh ủy Nguyễn Khắc Thận làm việc với Đảng ủy "
            "Công an tỉnh về kết quả công tác năm 2025.",
            "date": "2025-11-27",
            "source": "nghean.gov.vn",
        },
    },
    "batch": {
        "summary": "Nhiều bài báo",
        "value": {
            "articles": [
                {"id": "bai-1", "text": "Nội dung bài thứ nhất."},
                {"id": "bai-2", "text": "Nội dung bài thứ hai.", "source": "baonghean.vn"},
            ]
        },
    },
}


def validate_articles(items: list[ArticleIn], settings: Settings, *, batch: bool) -> list[Article]:
    """Check every article against the limits and rules and build them; stores nothing.

    Raises a 422 naming the first offending article (``articles[i]`` in a batch), so a
    batch with one bad article is refused whole. Every rule the store relies on (ids,
    dates, text that encodes) is checked here by :func:`make_article`.
    """
    check_batch_size(len(items), settings, "articles")
    articles: list[Article] = []
    for i, item in enumerate(items):
        where = f"articles[{i}]" if batch else "article"
        check_text_size(len(item.text), settings, f"{where}.text", "Split the article.")
        try:
            articles.append(make_article(**item.model_dump()))
        except ArticleFormatError as exc:
            raise InvalidRequestError(f"{where}: {exc}", code="invalid_article") from exc
    return articles


@router.post(
    "",
    status_code=201,
    response_model=IngestResponse,
    summary="Lưu một hoặc nhiều bài báo",
    description='Gửi một bài báo hoặc `{"articles": [...]}`. Mọi bài được kiểm tra trước khi '
    "lưu; một bài lỗi thì không bài nào được lưu. Cùng `id` thì bài mới thay bài cũ.",
)
async def add_articles(
    payload: Annotated[ArticlesPayload, Body(openapi_examples=_EXAMPLES)],
    settings: SettingsDep,
    index: IndexDep,
    offload: WriteOffloadDep,
    auto_summaries: AutoSummariesDep,
) -> IngestResponse:
    """Validate every article, then chunk, embed and store them (their summaries are
    queued in the same transaction and made in the background)."""
    batch = isinstance(payload, ArticleBatchIn)
    items = payload.articles if isinstance(payload, ArticleBatchIn) else [payload]
    articles = validate_articles(items, settings, batch=batch)
    results = await offload(index.add_articles, articles)
    auto_summaries.notify()
    return IngestResponse(
        articles=[IngestedArticle(id=r.id, chunks=r.chunks, replaced=r.replaced) for r in results]
    )


@router.get("", response_model=ArticleList, summary="Danh sách bài báo đã lưu")
async def list_articles(
    index: IndexDep,
    summaries: SummariesDep,
    # Bounded: SQLite integers are 64-bit, a larger offset would be a 500 (found by fuzzing).
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Bỏ qua bao nhiêu bài.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Số bài mỗi trang.")] = 20,
) -> ArticleList:
    """One page of stored articles, newest first as the index orders them."""
    page, total = await run_in_threadpool(index.list_articles, offset=offset, limit=limit)
    stored = await run_in_threadpool(summaries.summaries, [a.id for a in page])
    return ArticleList(
        articles=[ArticleMeta.from_stored(a, stored.get(a.id)) for a in page],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{article_id}", response_model=ArticleDetail, summary="Một bài báo")
async def get_article(article_id: str, index: IndexDep, summaries: SummariesDep) -> ArticleDetail:
    """A stored article including its text and stored summary; 404 if unknown."""
    article = await run_in_threadpool(index.get_article, article_id)
    if article is None:
        raise _not_found(article_id)
    stored = await run_in_threadpool(summaries.summaries, [article_id])
    return ArticleDetail.from_stored(article, stored.get(article_id))


@router.delete("/{article_id}", response_model=Deleted, summary="Xoá một bài báo")
async def delete_article(article_id: str, index: IndexDep, offload: WriteOffloadDep) -> Deleted:
    """Remove an article and its chunks; 404 if unknown."""
    if not await offload(index.delete_article, article_id):
        raise _not_found(article_id)
    return Deleted(deleted=article_id)


def _not_found(article_id: str) -> ApiError:
    return ApiError(
        404,
        "article_not_found",
        f"No article with id {article_id!r}; list stored ids with GET /v1/articles.",
    )
