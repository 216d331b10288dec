"""The summary cache: keyed by input, model, length and question; bounded; persistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.summarization.base import Summary
from models.summarization.seq2seq import Seq2SeqSummarizer
from service.summary_cache import CachedSummarizer, SummaryCache

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"
PASSAGES = [p for p in SEED.read_text(encoding="utf-8").split("\n\n") if len(p) > 80][:3]


class Counting:
    """A real summarizer that counts the generations it is asked for."""

    def __init__(self, inner: Seq2SeqSummarizer) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def summarize(self, text, **kwargs):
        self.calls += 1
        return self.inner.summarize(text, **kwargs)

    def summarize_passages(self, passages, **kwargs):
        self.calls += 1
        return self.inner.summarize_passages(passages, **kwargs)

    def stream_passages(self, passages, **kwargs):
        self.calls += 1
        yield from self.inner.stream_passages(passages, **kwargs)


@pytest.fixture(scope="module")
def tiny(tiny_seq2seq_dir: Path) -> Seq2SeqSummarizer:
    return Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=1)


def test_same_input_is_generated_once_and_survives_a_restart(tiny, tmp_path: Path) -> None:
    path = tmp_path / "summary_cache.sqlite"
    model = Counting(tiny)
    cached = CachedSummarizer(model, SummaryCache(path, 100))
    text = "\n\n".join(PASSAGES)
    first = cached.summarize(text, max_words=20)
    assert cached.summarize(text, max_words=20) == first
    assert model.calls == 1
    # Each part of the key matters: length, question, passages vs article.
    cached.summarize(text, max_words=21)
    cached.summarize(text, max_words=20, question="Công an tỉnh đạt kết quả gì?")
    cached.summarize_passages(PASSAGES, max_words=20)
    assert model.calls == 4
    assert cached.model_name == tiny.model_name  # everything else is the model's
    cached.cache.close()

    reopened = CachedSummarizer(model, SummaryCache(path, 100))
    assert reopened.summarize(text, max_words=20) == first
    assert model.calls == 4 and reopened.cache.hits == 1


def test_another_model_fingerprint_misses(tiny, tiny_seq2seq_dir, tmp_path: Path) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite", 100)
    cached = CachedSummarizer(Counting(tiny), cache)
    cached.summarize_passages(PASSAGES, max_words=20)
    beams = Counting(Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=2))
    assert beams.fingerprint != tiny.fingerprint
    CachedSummarizer(beams, cache).summarize_passages(PASSAGES, max_words=20)
    assert beams.calls == 1


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite", 3)
    keys = [SummaryCache.key("text", f"bài {i}", "fp", 80, None) for i in range(5)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, Summary(text=f"tóm tắt {i}", method="abstractive", model="m"))
    assert cache.get(keys[0]) is not None  # used: now the newest
    cache.put(keys[3], Summary(text="tóm tắt 3", method="abstractive", model="m"))
    cache.put(keys[4], Summary(text="tóm tắt 4", method="abstractive", model="m"))
    assert len(cache) == 3
    assert cache.get(keys[1]) is None and cache.get(keys[2]) is None
    assert cache.get(keys[0]).text == "tóm tắt 0"


def test_streams_replay_what_was_generated(tiny, tmp_path: Path) -> None:
    model = Counting(tiny)
    cached = CachedSummarizer(model, SummaryCache(tmp_path / "c.sqlite", 100))
    streamed = list(cached.stream_passages(PASSAGES, max_words=20, question="gì?"))
    replay = list(cached.stream_passages(PASSAGES, max_words=20, question="gì?"))
    assert "".join(replay) == "".join(streamed) and len(replay) > 1
    assert model.calls == 1
    # A stream closed early is not kept.
    stream = cached.stream_passages(PASSAGES[:1], max_words=20)
    next(stream)
    stream.close()
    list(cached.stream_passages(PASSAGES[:1], max_words=20))
    assert model.calls == 3
    # A beam-searched summary of the same input is what a later stream replays.
    written = cached.summarize_passages(PASSAGES[1:], max_words=20)
    assert "".join(cached.stream_passages(PASSAGES[1:], max_words=20)) == written.text
    assert model.calls == 4
