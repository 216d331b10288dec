"""``/v1/summarize``: summarize free text or a stored article."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AnswererDep, OffloadDep, SettingsDep
from service.api.errors import InvalidRequestError
from service.api.schemas import SummarizeRequest, SummarizeResponse, SummaryOut

router = APIRouter(prefix="/v1", tags=["summarize"])


@router.post("/summarize", response_model=SummarizeResponse, summary="Tóm tắt văn bản")
async def summarize(
    body: SummarizeRequest, settings: SettingsDep, answerer: AnswererDep, offload: OffloadDep
) -> SummarizeResponse:
    """Summarize ``text``, or the stored article ``article_id`` (404 if unknown)."""
    if body.text is not None:
        if len(body.text) > settings.max_text_chars:
            raise InvalidRequestError(
                f"text: {len(body.text)} characters; the limit is {settings.max_text_chars} "
                "(VNQA_MAX_TEXT_CHARS). Send a shorter text."
            )
        summary = await offload(answerer.summarize_text, body.text, body.max_words)
    else:
        assert body.article_id is not None  # the schema requires exactly one
        summary = await offload(answerer.summarize_article, body.article_id, body.max_words)
    return SummarizeResponse(summary=SummaryOut.from_summary(summary))
