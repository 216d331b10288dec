"""Response models of stored summaries, digests and fetched articles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from index.summary_store import StoredSummary
from service.digest import Digest, Story


class StoredSummaryOut(BaseModel):
    """An article's stored summary: made on arrival, in the background."""

    status: Literal["pending", "ready", "failed", "stale"] = Field(
        description="pending: chờ tóm tắt; ready: đã có; failed: lỗi (xem error); stale: do "
        "bộ tóm tắt khác tạo, chạy `vnqa resummarize` để làm lại."
    )
    text: str | None = Field(None, description="Bản tóm tắt (ready hoặc stale).")
    method: Literal["abstractive", "extractive"] | None = None
    model: str | None = None
    made_at: str | None = Field(None, description="Thời điểm tạo (ISO, UTC).")
    error: str | None = Field(None, description="Lý do lỗi (failed).")

    @classmethod
    def from_stored(cls, stored: StoredSummary) -> StoredSummaryOut:
        """Build from the summary store's row (text only once it is made)."""
        made = stored.status in ("ready", "stale")
        return cls(
            status=stored.status,
            text=stored.text if made else None,
            method=stored.method if made else None,
            model=stored.model if made else None,
            made_at=stored.made_at if stored.status != "pending" else None,
            error=stored.error if stored.status == "failed" else None,
        )


class Requeued(BaseModel):
    """Response of ``POST /v1/admin/resummarize``."""

    requeued: int = Field(description="Số bài được đưa lại vào hàng đợi tóm tắt.")
    which: Literal["stale", "failed", "all"]


class ResummarizeIn(BaseModel):
    """Body of ``POST /v1/admin/resummarize``."""

    which: Literal["stale", "failed", "all"] = Field(
        "stale", description="stale (mặc định), failed, hoặc all: làm lại mọi bản tóm tắt."
    )


class FetchIn(BaseModel):
    """Body of ``POST /v1/articles/fetch``."""

    url: str = Field(min_length=1, max_length=4000, description="Địa chỉ http(s) của bài báo.")


class DigestSummaryOut(BaseModel):
    """A story's summary across its articles."""

    text: str
    method: Literal["abstractive", "extractive"]
    model: str


class DigestArticleOut(BaseModel):
    """One article of a story."""

    id: str
    title: str | None
    date: str = Field(description="Ngày đăng (hoặc ngày lưu nếu bài không ghi ngày).")
    source: str | None
    url: str | None
    summary_status: str | None


class StoryOut(BaseModel):
    """Articles about one event."""

    id: str
    headline: str = Field(description="Tiêu đề bài tiêu biểu nhất của sự kiện.")
    size: int
    newest: str
    sources: list[str]
    summary: DigestSummaryOut | None
    articles: list[DigestArticleOut]

    @classmethod
    def from_story(cls, story: Story) -> StoryOut:
        """Build from the digest's story."""
        sources = sorted({a.article.source for a in story.articles if a.article.source})
        summary = (
            DigestSummaryOut(
                text=story.summary.text, method=story.summary.method, model=story.summary.model
            )
            if story.summary
            else None
        )
        return cls(
            id=story.id,
            headline=story.headline,
            size=len(story.articles),
            newest=story.newest,
            sources=sources,
            summary=summary,
            articles=[
                DigestArticleOut(
                    id=a.article.id,
                    title=a.article.title,
                    date=a.day,
                    source=a.article.source,
                    url=a.article.url,
                    summary_status=a.summary.status if a.summary else None,
                )
                for a in story.articles
            ],
        )


class DigestOut(BaseModel):
    """Response of ``GET /v1/digest``."""

    date_from: str
    date_to: str
    sources: list[str] | None
    articles: int = Field(description="Số bài trong khoảng thời gian.")
    truncated: bool = Field(description="Có nhiều bài hơn VNQA_DIGEST_MAX_ARTICLES.")
    stories: list[StoryOut]

    @classmethod
    def from_digest(cls, digest: Digest) -> DigestOut:
        """Build from the digest."""
        return cls(
            date_from=digest.date_from,
            date_to=digest.date_to,
            sources=digest.sources,
            articles=digest.articles,
            truncated=digest.truncated,
            stories=[StoryOut.from_story(s) for s in digest.stories],
        )
