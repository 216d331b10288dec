"""OpenAI-compatible chat: ``POST /v1/chat/completions``, ``GET /v1/models[/{id}]``.

Point the official ``openai`` client, Open WebUI or LibreChat at ``http://host:8000/v1``.
The latest user message is the question; a short follow-up also searches with the
question before it. The answer is the Vietnamese summary with ``[n]`` citations and a
source list; the passages travel in the extra ``vnqa`` field. With ``stream: true``
the answer streams as OpenAI ``chat.completion.chunk`` Server-Sent Events, ending with
``data: [DONE]``. Errors on these routes use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute

from service.answering import Draft
from service.api.deps import OffloadDep, RuntimeDep, SettingsDep
from service.api.errors import ApiError, describe_validation_errors
from service.api.openai_schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    ModelCard,
    ModelList,
    OpenAIErrorBody,
    UsageOut,
    VnqaExtra,
    error_body,
)
from service.chat import (
    ChatMessage,
    TokenCounter,
    Usage,
    answer_pieces,
    retrieval_query,
    usage_for,
    user_questions,
)
from service.core.config import Settings
from service.limits import RequestRejected, check_max_words, check_question, check_top_k
from service.schemas import AnswerSentenceOut, PassageOut

logger = logging.getLogger(__name__)

_CREATED = int(time.time())
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OpenAIErrorBody, "description": "Yêu cầu không hợp lệ (định dạng lỗi OpenAI)."},
}
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ChatRequestError(Exception):
    """A request this route refuses, reported in OpenAI's error shape."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param

    def response(self) -> JSONResponse:
        """The JSON response for this error."""
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        body = error_body(self.message, type=kind, code=self.code, param=self.param)
        return JSONResponse(body, status_code=self.status)


class OpenAIRoute(APIRoute):
    """A route whose invalid bodies get OpenAI's 400 error shape, not the API's 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler to translate request validation errors."""
        handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                details = describe_validation_errors(exc.errors())
                message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
                param = details[0]["field"] if details else None
                error = ChatRequestError(
                    400, message or "invalid request", "invalid_request", param
                )
                return error.response()

        return translated


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)


def _conversation(
    body: ChatCompletionRequest, settings: Settings
) -> tuple[list[ChatMessage], str, int, int | None]:
    """The messages as text, the latest user question, ``top_k`` and ``max_words``.

    400 when there is no user message or a limit is broken (the API's own checks,
    reported in OpenAI's shape).
    """
    messages = [ChatMessage(role=m.role, content=m.text()) for m in body.messages]
    questions = user_questions(messages)
    if not questions:
        raise ChatRequestError(
            400,
            "messages: no user message with text; send at least one "
            '{"role": "user", "content": "câu hỏi"}.',
            "missing_user_message",
            "messages",
        )
    try:
        question = check_question(questions[-1], settings, "messages[-1].content")
        top_k = check_top_k(body.top_k, settings)
        max_words = check_max_words(body.max_words, settings)
    except RequestRejected as exc:
        raise ChatRequestError(400, exc.message, exc.code) from None
    return messages, question, top_k, max_words


def _sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Hỏi đáp theo giao thức OpenAI Chat Completions",
    responses={
        **_ERRORS,
        200: {
            "description": "Câu trả lời; với `stream: true` là Server-Sent Events.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def chat_completions(
    body: ChatCompletionRequest, settings: SettingsDep, runtime: RuntimeDep, offload: OffloadDep
) -> Any:
    """Answer the latest user message from the stored articles, OpenAI-style."""
    try:
        messages, question, top_k, max_words = _conversation(body, settings)
    except ChatRequestError as exc:
        return exc.response()

    query = retrieval_query(user_questions(messages))
    filters = body.filters.to_filters() if body.filters else None
    answerer = runtime.answerer
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = body.model or MODEL_ID

    async def draft() -> Draft:
        return await offload(
            answerer.draft,
            question,
            top_k=top_k,
            filters=filters,
            max_words=max_words,
            context=query,
        )

    def count_usage(messages: list[ChatMessage], passages: list[Any], text: str) -> Usage:
        return usage_for(TokenCounter(runtime), messages, passages, text)

    def extra(draft: Draft) -> VnqaExtra:
        summarizer = runtime.summarizer
        return VnqaExtra(
            passages=[PassageOut.from_passage(p) for p in draft.passages],
            answer_sentences=[AnswerSentenceOut.from_sentence(s) for s in draft.sentences],
            summary_method=summarizer.method,
            model=summarizer.model_name,
            retrieval_query=query,
        )

    if not body.stream:
        plan = await draft()
        pieces = answer_pieces(answerer.stream(plan), plan.passages, plan.sentences)
        content = await offload(lambda: "".join(pieces))
        usage = await offload(count_usage, messages, plan.passages, content)
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=model,
            choices=[Choice(message=AssistantMessage(content=content))],
            usage=UsageOut(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.total_tokens,
            ),
            vnqa=extra(plan),
        )

    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(
        delta: dict[str, Any], finish: str | None = None, vnqa: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            out["usage"] = None
        if vnqa is not None:
            out["vnqa"] = vnqa
        return out

    async def events() -> AsyncIterator[str]:
        # The role goes out at once; content follows retrieval, piece by piece.
        yield _sse(chunk({"role": "assistant", "content": ""}))
        pieces: Generator[str, None, None] | None = None
        try:
            plan = await draft()
            pieces = answer_pieces(answerer.stream(plan), plan.passages, plan.sentences)
            sent: list[str] = []
            first = True
            while (piece := await offload(next, pieces, None)) is not None:
                sent.append(piece)
                vnqa = extra(plan).model_dump() if first else None
                first = False
                yield _sse(chunk({"content": piece}, vnqa=vnqa))
            yield _sse(chunk({}, "stop"))
            if include_usage:
                usage = await offload(count_usage, messages, plan.passages, "".join(sent))
                final = chunk({})
                final["choices"] = []
                final["usage"] = {
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.total_tokens,
                }
                yield _sse(final)
        except ApiError as exc:  # e.g. 503 load shedding: headers are gone, report in-band
            yield _sse(error_body(exc.message, type="server_error", code=exc.code))
        except Exception as exc:  # headers are gone: report in-band, as OpenAI does
            logger.exception("streamed chat completion failed")
            yield _sse(
                error_body(
                    f"Internal error while answering ({type(exc).__name__}); see the server log.",
                    type="server_error",
                    code="internal_error",
                )
            )
        finally:
            if pieces is not None:
                try:
                    pieces.close()
                except ValueError:  # still running in its worker thread
                    pass
        yield _sse("[DONE]")

    return StreamingResponse(events(), media_type="text/event-stream", headers=_SSE_HEADERS)


@router.get("/models", response_model=ModelList, summary="Danh sách mô hình (OpenAI)")
async def list_models() -> ModelList:
    """The one model id, ``vnqa``: retrieval and summary over the stored articles."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=_CREATED)])


@router.get(
    "/models/{model_id}",
    response_model=ModelCard,
    summary="Một mô hình (OpenAI)",
    responses={404: {"model": OpenAIErrorBody, "description": "Không có mô hình này."}},
)
async def get_model(model_id: str) -> Any:
    """``vnqa``; any other id is a 404 in OpenAI's error shape."""
    if model_id != MODEL_ID:
        body = error_body(
            f"The model {model_id!r} does not exist; the only model is {MODEL_ID!r}.",
            type="invalid_request_error",
            code="model_not_found",
            param="model",
        )
        return JSONResponse(body, status_code=404)
    return ModelCard(id=MODEL_ID, created=_CREATED)
