"""``/v1/ask``: answer a question with a summary and highlighted passages."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AnswererDep, OffloadDep, SettingsDep
from service.limits import check_max_words, check_question, check_top_k
from service.schemas import AskRequest, AskResponse

router = APIRouter(prefix="/v1", tags=["ask"])


@router.post("/ask", response_model=AskResponse, summary="Hỏi đáp trên các bài báo")
async def ask(
    body: AskRequest, settings: SettingsDep, answerer: AnswererDep, offload: OffloadDep
) -> AskResponse:
    """Retrieve passages for ``question``, mark the best sentence in each, summarize them."""
    question = check_question(body.question, settings, "question")
    top_k = check_top_k(body.top_k, settings)
    max_words = check_max_words(body.max_words, settings)
    filters = body.filters.to_filters() if body.filters else None
    answer = await offload(
        answerer.answer, question, top_k=top_k, filters=filters, max_words=max_words
    )
    return AskResponse.from_answer(answer)
