"""``/v1/digest`` (JSON), ``/v1/digest.rss`` and ``/v1/articles.rss``: the news by story."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from index.documents import ArticleFormatError, parse_date
from service.api.deps import OffloadDep, RuntimeDep, SettingsDep, SummariesDep
from service.api.errors import InvalidRequestError
from service.digest import Digest, build_digest, default_window
from service.feed_output import RSS_MEDIA_TYPE, articles_rss, digest_rss
from service.summary_schemas import DigestOut

router = APIRouter(prefix="/v1", tags=["digest"])

DateFrom = Annotated[str | None, Query(description="Từ ngày (YYYY-MM-DD).")]
DateTo = Annotated[str | None, Query(description="Đến ngày (YYYY-MM-DD), mặc định hôm nay.")]
Days = Annotated[int, Query(ge=1, le=366, description="Số ngày khi không ghi date_from.")]
Sources = Annotated[list[str] | None, Query(description="Chỉ các nguồn này (lặp lại được).")]
MaxStories = Annotated[int | None, Query(ge=1, le=1000, description="Số sự kiện tối đa.")]


def _day(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return parse_date(value, name, day_first=False)
    except ArticleFormatError as exc:
        raise InvalidRequestError(str(exc)) from exc


async def requested_digest(
    runtime: RuntimeDep,
    settings: SettingsDep,
    offload: OffloadDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    days: Days = 1,
    source: Sources = None,
    max_stories: MaxStories = None,
) -> Digest:
    """The digest the query parameters ask for: one parameter list for the JSON and RSS routes."""
    start, end = default_window(_day(date_from, "date_from"), _day(date_to, "date_to"), days)
    if start > end:
        raise InvalidRequestError(f"date_from {start} is after date_to {end}")
    assert runtime.summaries is not None
    return await offload(
        build_digest,
        runtime.summaries,
        runtime.index.embedder,
        runtime.summarizer,
        date_from=start,
        date_to=end,
        sources=source or None,
        threshold=settings.digest_similarity,
        max_articles=settings.digest_max_articles,
        max_words=settings.summary_max_words,
        max_stories=max_stories,
    )


RequestedDigest = Annotated[Digest, Depends(requested_digest)]


@router.get("/digest", response_model=DigestOut, summary="Tin theo sự kiện")
async def digest(found: RequestedDigest) -> DigestOut:
    """The articles of the range grouped into stories, biggest and newest first."""
    return DigestOut.from_digest(found)


@router.get(
    "/digest.rss",
    summary="Tin theo sự kiện (RSS 2.0)",
    response_class=Response,
    responses={200: {"content": {RSS_MEDIA_TYPE: {}}}},
)
async def digest_feed(request: Request, found: RequestedDigest) -> Response:
    """The digest as an RSS 2.0 feed: one item per story."""
    return Response(
        digest_rss(found, str(request.url), str(request.base_url)), media_type=RSS_MEDIA_TYPE
    )


@router.get(
    "/articles.rss",
    summary="Bài mới kèm tóm tắt (RSS 2.0)",
    response_class=Response,
    responses={200: {"content": {RSS_MEDIA_TYPE: {}}}},
)
async def articles_feed(
    request: Request,
    summaries: SummariesDep,
    offload: OffloadDep,
    source: Sources = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Số bài mới nhất.")] = 50,
) -> Response:
    """The newest articles, each with its stored summary."""
    rows = await offload(
        summaries.window, date_from=None, date_to=None, sources=source or None, limit=limit
    )
    return Response(
        articles_rss(rows, str(request.url), str(request.base_url)), media_type=RSS_MEDIA_TYPE
    )
