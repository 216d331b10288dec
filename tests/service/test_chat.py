"""Chat helpers (retrieval query of a conversation, inline citations) and streamed
summaries, with real components."""

from __future__ import annotations

from index.article_files import load_articles
from models.summarization.seq2seq import Seq2SeqSummarizer
from service.chat import CitationMarker, answer_pieces, retrieval_query, sources_block
from service.schemas import SEED_QUESTION
from tests.conftest import SEED_ARTICLE
from tests.service.live import live_server  # noqa: F401  (session fixture)

FOLLOW_UP = "còn về an ninh mạng thì sao?"


def test_short_follow_up_folds_in_the_previous_question() -> None:
    assert retrieval_query([SEED_QUESTION]) == SEED_QUESTION
    assert retrieval_query([SEED_QUESTION, FOLLOW_UP]) == f"{SEED_QUESTION} {FOLLOW_UP}"
    new_topic = (
        "Tỷ lệ điều tra, khám phá án hình sự của Công an tỉnh Nghệ An năm 2025 là bao nhiêu?"
    )
    assert retrieval_query([SEED_QUESTION, new_topic]) == new_topic


def test_citations_are_the_same_whether_the_summary_arrives_whole_or_in_pieces(
    live_server,  # noqa: F811  (its runtime holds the seed article)
) -> None:
    answerer = live_server.runtime.answerer
    draft = answerer.draft(SEED_QUESTION, top_k=5, max_words=60)
    passages = draft.passages
    summary = answerer.write(draft).summary.text
    whole = "".join(answer_pieces(iter([summary]), passages, draft.sentences))
    pieces = list(answer_pieces(answerer.stream(draft), passages, draft.sentences))
    assert len(pieces) > 10 and "".join(pieces) == whole
    assert whole.endswith(sources_block(passages).rstrip())
    body = whole.partition("\n\nNguồn:")[0]
    # Every extractive sentence is cited with the passage that holds it.
    marker = CitationMarker(passages)
    marker.feed(body)
    assert marker.cited and all(1 <= n <= len(passages) for n in marker.cited)
    for n in marker.cited:
        assert f"[{n}]" in body


def test_sentence_ends_do_not_split_numbers() -> None:
    class P:  # the passage fields the marker reads
        def __init__(self, text: str) -> None:
            self.text = text

    passages = [P("Tỷ lệ đạt 92,2%. Thu ngân sách 1.000 tỷ đồng."), P("Trời mưa to ở Hà Nội.")]
    marker = CitationMarker(passages)  # type: ignore[arg-type]
    out = marker.feed("Tỷ lệ đạt 92,2%. Thu ngân sách 1.000 tỷ đồng. Trời mưa to ở Hà Nội.")
    out += marker.finish()
    assert out == "Tỷ lệ đạt 92,2%. [1] Thu ngân sách 1.000 tỷ đồng. [1] Trời mưa to ở Hà Nội. [2]"


def test_seq2seq_streams_its_greedy_generation_in_pieces(tiny_seq2seq_dir) -> None:
    import torch

    model = Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=1)
    passage = SEED_ARTICLE.read_text(encoding="utf-8").split("\n\n")[3]
    pieces = list(model.stream_passages([passage], max_words=40))
    assert len(pieces) > 1
    enc = model.tokenizer([passage], return_tensors="pt", truncation=True, max_length=128)
    with torch.inference_mode():
        ids = model.model.generate(
            **enc, max_new_tokens=64, min_new_tokens=4, num_beams=1, no_repeat_ngram_size=3
        )
    expected = " ".join(model.tokenizer.decode(ids[0], skip_special_tokens=True).split())
    streamed = " ".join("".join(pieces).split())
    assert expected.startswith(streamed.rstrip("…")) and streamed


def test_chat_route_streams_seq2seq_tokens_and_counts_with_its_tokenizer(
    make_runtime, tiny_seq2seq_dir
) -> None:
    import json

    from fastapi.testclient import TestClient

    from service.api.app import create_app

    runtime = make_runtime(summarizer="seq2seq", summarizer_model=str(tiny_seq2seq_dir))
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    body = {
        "model": "vnqa",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": SEED_QUESTION}],
        "max_words": 20,
    }
    with TestClient(create_app(runtime=runtime)) as client:
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    content = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    pieces = [p for p in content if p]
    assert chunks[1]["vnqa"]["summary_method"] == "abstractive"
    text = "".join(pieces)
    summary = text.partition("\n\nNguồn:")[0]
    assert len(pieces) > 3 and summary.strip()
    tokenizer = runtime.summarizer.tokenizer
    expected = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert chunks[-1]["usage"]["completion_tokens"] == expected
