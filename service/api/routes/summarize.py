"""``/v1/summarize``: summarize free text or a stored article."""

from __future__ import annotations

from fastapi import APIRouter

from index.documents import ArticleFormatError, clean_article_text
from service.api.deps import AnswererDep, AutoSummariesDep, OffloadDep, SettingsDep
from service.api.errors import InvalidRequestError
from service.limits import check_max_words, check_text_size
from service.schemas import SummarizeRequest, SummarizeResponse, SummaryOut

router = APIRouter(prefix="/v1", tags=["summarize"])


@router.post("/summarize", response_model=SummarizeResponse, summary="Tóm tắt văn bản")
async def summarize(
    body: SummarizeRequest,
    settings: SettingsDep,
    answerer: AnswererDep,
    offload: OffloadDep,
    auto_summaries: AutoSummariesDep,
) -> SummarizeResponse:
    """Summarize ``text``, or the stored article ``article_id`` (404 if unknown): its
    stored summary when that is current (same summarizer, same length)."""
    max_words = check_max_words(body.max_words, settings)
    if body.text is not None:
        check_text_size(len(body.text), settings, "text", "Send a shorter text.")
        try:  # the same cleaning as a stored article: HTML to text, NFC, no control chars
            text = clean_article_text(body.text)
        except ArticleFormatError as exc:
            raise InvalidRequestError(f"text: {exc}") from exc
        summary = await offload(answerer.summarize_text, text, max_words)
    else:
        assert body.article_id is not None  # the schema requires exactly one
        stored = await offload(auto_summaries.stored_current, body.article_id, max_words)
        if stored is not None:
            summary = stored
        else:
            summary = await offload(answerer.summarize_article, body.article_id, max_words)
    return SummarizeResponse(summary=SummaryOut.from_summary(summary))
