"""Request and response models of the OpenAI-compatible routes (``/v1/chat/completions``,
``/v1/models``), close enough to OpenAI's that its clients and chat front ends work.

Unknown request fields are ignored (clients send ``temperature``, ``tools``,
``user``… that have no meaning here). vnqa's own options ride along as extra body
fields (``top_k``, ``filters``, ``max_words``), and the structured passages come back
in the extra ``vnqa`` field, which OpenAI clients ignore.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.vietnamese import normalize
from service.schemas import SEED_QUESTION, AnswerSentenceOut, FiltersIn, PassageOut

MODEL_ID = "vnqa"
"""The one model id served: retrieval plus summary over the stored articles."""


class ContentPart(BaseModel):
    """A part of a multi-part message; only ``text`` parts are read."""

    model_config = ConfigDict(extra="ignore")

    type: str = "text"
    text: str | None = None


class ChatMessageIn(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="ignore")

    role: str = Field(description="system, user, assistant, tool…", examples=["user"])
    content: str | list[ContentPart] | None = Field(
        None, description="Nội dung tin nhắn (chuỗi hoặc danh sách phần văn bản)."
    )

    def text(self) -> str:
        """The message's text, with the text parts of a multi-part content joined, cleaned
        as stored text is (NFC, no control characters or lone surrogates): every turn may
        reach the retrieval query, the token counts and the response."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return normalize(self.content)
        return normalize("\n".join(p.text for p in self.content if p.type == "text" and p.text))


class StreamOptions(BaseModel):
    """``stream_options``."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """Body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"model": MODEL_ID, "messages": [{"role": "user", "content": SEED_QUESTION}]}
            ]
        },
    )

    model: str = Field(MODEL_ID, description="Tên mô hình; mọi tên đều được trả lời bằng vnqa.")

    @field_validator("model")
    @classmethod
    def _clean_model(cls, value: str) -> str:
        # Echoed in the response: a lone surrogate there could not be encoded.
        return normalize(value).strip() or MODEL_ID

    messages: list[ChatMessageIn] = Field(
        description="Hội thoại; tin nhắn `user` cuối cùng là câu hỏi, các câu trước giúp tìm kiếm."
    )
    stream: bool = Field(False, description="Trả về Server-Sent Events theo định dạng OpenAI.")
    stream_options: StreamOptions | None = None
    top_k: int | None = Field(None, ge=1, description="(vnqa) Số đoạn văn dùng để trả lời.")
    filters: FiltersIn | None = Field(None, description="(vnqa) Bộ lọc tìm kiếm.")
    max_words: int | None = Field(
        None, ge=5, le=1000, description="(vnqa) Độ dài tối đa của tóm tắt, tính bằng tiếng."
    )


class OpenAIErrorDetail(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """``{"error": {...}}`` as OpenAI sends it."""

    error: OpenAIErrorDetail


class AssistantMessage(BaseModel):
    """The answer."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one choice returned."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class UsageOut(BaseModel):
    """Tokens read and written, counted with the model's tokenizer (see docs/api.md)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class VnqaExtra(BaseModel):
    """vnqa's structured answer; OpenAI clients ignore it."""

    passages: list[PassageOut] = Field(description="Các đoạn văn được trích dẫn, đánh số từ 1.")
    answer_sentences: list[AnswerSentenceOut] = Field(
        default_factory=list, description="Các câu của câu trả lời và đoạn văn chứa mỗi câu."
    )
    summary_method: Literal["abstractive", "extractive"]
    model: str = Field(description="Mô hình đã tạo tóm tắt.")
    retrieval_query: str = Field(description="Câu đã dùng để tìm kiếm (kể cả ngữ cảnh hội thoại).")


class ChatCompletion(BaseModel):
    """Response of ``POST /v1/chat/completions`` without streaming."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut
    system_fingerprint: str | None = None
    vnqa: VnqaExtra


class ModelCard(BaseModel):
    """One entry of ``GET /v1/models``."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "vnqa"


class ModelList(BaseModel):
    """Response of ``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


def error_body(message: str, *, type: str, code: str, param: str | None = None) -> dict[str, Any]:
    """An OpenAI-shaped error body."""
    return OpenAIErrorBody(
        error=OpenAIErrorDetail(message=message, type=type, code=code, param=param)
    ).model_dump()
