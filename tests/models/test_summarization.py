"""Summarization layer: extractive selection, seq2seq map-reduce, factory fallbacks."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelNotAvailableError
from models.summarization import (
    ExtractiveSummarizer,
    Seq2SeqSummarizer,
    Summarizer,
    Summary,
    build_summarizer,
)
from models.summarization.base import truncate_words
from models.summarization.generation import DecodeOptions
from models.summarization.seq2seq import MIN_BUDGET, max_new_tokens_for, prompt_format_for
from models.vietnamese import count_syllables, split_sentences, syllables

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"

# An excerpt of the seed article, captions included as they appear there.
EXCERPT = """Quang cảnh buổi làm việc

Đại tá Đinh Việt Dũng – Giám đốc Công an tỉnh báo cáo tại buổi làm việc

Báo cáo tại buổi làm việc, đồng chí Đại tá Đinh Việt Dũng - Giám đốc Công an tỉnh cho biết: \
Trong 11 tháng đầu năm 2025, Công an tỉnh đạt được nhiều kết quả nổi bật trên các mặt công tác, \
đặc biệt là trong việc đảm bảo tuyệt đối an ninh, an toàn các mục tiêu trọng điểm.

Lực lượng Công an tổ chức phòng ngừa, đấu tranh hiệu quả với các loại tội phạm, vi phạm pháp \
luật trên địa bàn. Tỷ lệ điều tra, khám phá án hình sự đạt 92,2%, riêng trọng án đạt 100%. \
Nổi bật là phá các chuyên án, bắt giữ hàng chục đối tượng lừa đảo chiếm đoạt tài sản xuyên quốc \
gia trên không gian mạng.

Nhấn mạnh về tầm quan trọng của cơ sở dữ liệu, Bí thư Tỉnh ủy yêu cầu Công an tỉnh cần xây dựng \
chiến lược dữ liệu và áp dụng công nghệ khoa học để quản lý. Bí thư Tỉnh ủy cũng lưu ý trong \
thực hiện nhiệm vụ, Công an phải hỗ trợ, tạo điều kiện để doanh nghiệp phát triển."""


def _sentences(text: str) -> list[str]:
    return [s.of(text).strip() for s in split_sentences(text)]


def _positions(summary: str, source: str) -> list[int]:
    """Where each summary sentence starts in ``source`` (all must be found)."""
    # A lone sentence over twice the budget comes back cut, ending in "…".
    found = [source.find(sentence.removesuffix("…")) for sentence in _sentences(summary)]
    assert all(at >= 0 for at in found), (summary, found)
    return found


@pytest.fixture(scope="module")
def extractive() -> ExtractiveSummarizer:
    return ExtractiveSummarizer()


# -- extractive ---------------------------------------------------------------------


def test_summary_is_a_summarizer(extractive: ExtractiveSummarizer) -> None:
    assert isinstance(extractive, Summarizer)
    result = extractive.summarize(EXCERPT, max_words=40)
    assert isinstance(result, Summary)
    assert result.method == "extractive"
    assert result.model == extractive.model_name


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Tỷ lệ điều tra, khám phá án hình sự đạt bao nhiêu?", "92,2%"),
        ("Bí thư yêu cầu gì về cơ sở dữ liệu?", "chiến lược dữ liệu"),
        ("Công an đã bắt giữ đối tượng lừa đảo nào?", "lừa đảo chiếm đoạt tài sản"),
    ],
)
def test_question_picks_the_relevant_sentence(
    extractive: ExtractiveSummarizer, question: str, expected: str
) -> None:
    result = extractive.summarize(EXCERPT, question=question, max_words=25)
    assert expected in result.text


@pytest.mark.parametrize("max_words", [20, 40, 60, 100])
def test_budget_respected_and_order_kept(extractive: ExtractiveSummarizer, max_words: int) -> None:
    text = SEED.read_text(encoding="utf-8")
    for question in (None, "Bí thư Tỉnh ủy yêu cầu lực lượng Công an làm gì?"):
        result = extractive.summarize(text, question=question, max_words=max_words)
        picked = _sentences(result.text)
        assert picked
        if len(picked) > 1:  # a lone sentence may run over; several never do
            assert count_syllables(result.text) <= max_words
        positions = _positions(result.text, text)
        assert positions == sorted(positions)


def test_article_mode_prefers_the_lead(extractive: ExtractiveSummarizer) -> None:
    text = (
        "Sáng 27/11, Thường trực Tỉnh ủy Nghệ An làm việc với Đảng ủy Công an tỉnh về kết quả "
        "công tác năm 2025. Buổi làm việc diễn ra tại trụ sở Tỉnh ủy. Thời tiết hôm đó đẹp. "
        "Công an tỉnh báo cáo kết quả công tác năm 2025 tại buổi làm việc với Tỉnh ủy."
    )
    result = extractive.summarize(text, max_words=25)
    assert result.text.startswith("Sáng 27/11, Thường trực Tỉnh ủy Nghệ An")


def test_no_near_duplicates_from_overlapping_passages(extractive: ExtractiveSummarizer) -> None:
    shared = "Tỷ lệ điều tra, khám phá án hình sự đạt 92,2%, riêng trọng án đạt 100%."
    passages = [
        f"Lực lượng Công an đấu tranh hiệu quả với tội phạm. {shared}",
        f"{shared} Công an tỉnh hoàn thành xuất sắc các chỉ tiêu công tác năm 2025.",
        f"Theo báo cáo, {shared[0].lower()}{shared[1:]}",
    ]
    result = extractive.summarize_passages(passages, question="án hình sự", max_words=80)
    picked = _sentences(result.text)
    for i, a in enumerate(picked):
        for b in picked[i + 1 :]:
            sa, sb = set(syllables(a)), set(syllables(b))
            assert len(sa & sb) / len(sa | sb) <= 0.6, (a, b)
    assert result.text.count("92,2%") == 1


def test_passages_keep_their_order(extractive: ExtractiveSummarizer) -> None:
    passages = [
        "Công an tỉnh Nghệ An phá chuyên án ma túy lớn trên tuyến biên giới.",
        "Chuyên án ma túy thu giữ nhiều tang vật tại huyện biên giới.",
    ]
    result = extractive.summarize_passages(passages, question="chuyên án ma túy", max_words=60)
    assert result.text == " ".join(passages)


def test_at_least_one_sentence_and_long_ones_truncated(extractive: ExtractiveSummarizer) -> None:
    result = extractive.summarize(EXCERPT, max_words=3)
    assert result.text
    long_sentence = " ".join(["Công an tỉnh hoàn thành nhiệm vụ"] * 10) + "."
    cut = extractive.summarize(long_sentence, max_words=10)
    assert cut.text.endswith("…")
    assert count_syllables(cut.text) == 10
    # Up to twice the budget a lone sentence is returned whole.
    whole = extractive.summarize(" ".join(["Công an tỉnh hoàn thành"] * 3) + ".", max_words=10)
    assert not whole.text.endswith("…")
    assert count_syllables(whole.text) == 15


def test_captions_and_headline_are_not_output(extractive: ExtractiveSummarizer) -> None:
    for question in (None, "Công an tỉnh đạt kết quả gì trong 11 tháng?"):
        result = extractive.summarize(EXCERPT, question=question, max_words=60)
        assert "Quang cảnh buổi làm việc" not in result.text
        assert "báo cáo tại buổi làm việc\n" not in result.text
    seed = extractive.summarize(SEED.read_text(encoding="utf-8"), max_words=500).text
    assert "Tác giả" not in seed and "Nguồn tin" not in seed  # the byline lines
    titled = "Công an Nghệ An đạt tỷ lệ khám phá án 92,2%\n" + EXCERPT.split("\n\n", 3)[3]
    assert "Nghệ An đạt tỷ lệ" not in extractive.summarize(titled, max_words=40).text


@pytest.mark.parametrize("text", ["", "   \n\n  ", "...", "\n—\n"])
def test_empty_input(extractive: ExtractiveSummarizer, text: str) -> None:
    result = extractive.summarize(text, question="gì?", max_words=40)
    assert result == Summary(text="", method="extractive", model=extractive.model_name)


def test_embeddings_blend_into_relevance() -> None:
    # A stand-in embedder that knows "ma túy" and "chất cấm" mean the same thing,
    # which the lexical scorer cannot see.
    def embed(texts: list[str]) -> np.ndarray:
        rows = [[1.0, 0.0] if ("ma túy" in t or "chất cấm" in t) else [0.0, 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)

    text = (
        "Công an tỉnh tổ chức hội nghị tổng kết công tác năm. "
        "Lực lượng chức năng triệt phá đường dây mua bán ma túy xuyên biên giới."
    )
    question = "Vụ buôn chất cấm nào bị phát hiện?"
    lexical = ExtractiveSummarizer().summarize(text, question=question, max_words=12)
    blended = ExtractiveSummarizer(embed=embed, embed_weight=0.9)
    assert blended.model_name != ExtractiveSummarizer().model_name
    result = blended.summarize(text, question=question, max_words=12)
    assert "ma túy" in result.text
    assert result.text != lexical.text

    def broken(texts: list[str]) -> np.ndarray:
        raise RuntimeError("embedder offline")

    fallback = ExtractiveSummarizer(embed=broken).summarize(text, question=question, max_words=12)
    assert fallback.text == lexical.text


def test_real_embedder_finds_a_paraphrase(embedder) -> None:
    text = (
        "Công an tỉnh tổ chức hội nghị tổng kết công tác năm. "
        "Lực lượng chức năng triệt phá đường dây mua bán ma túy xuyên biên giới. "
        "Thời tiết tại tỉnh trong tuần tới có mưa rào."
    )
    summarizer = ExtractiveSummarizer(
        embed=embedder.embed_passages, embed_query=embedder.embed_queries
    )
    result = summarizer.summarize(text, question="Vụ buôn chất cấm nào bị phát hiện?", max_words=15)
    assert "ma túy" in result.text


def test_truncate_words_cuts_at_a_word_boundary() -> None:
    assert truncate_words("Một hai ba bốn năm", 3) == "Một hai ba…"
    assert truncate_words("Một hai ba", 3) == "Một hai ba"


# -- seq2seq (a tiny random T5 built by the tiny_seq2seq_dir fixture) -----------------


@pytest.fixture(scope="module")
def tiny(tiny_seq2seq_dir: Path) -> Seq2SeqSummarizer:
    return Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=2, local_files_only=True)


def test_seq2seq_summarizes_short_text(tiny: Seq2SeqSummarizer, tiny_seq2seq_dir: Path) -> None:
    assert isinstance(tiny, Summarizer)
    result = tiny.summarize("Tỷ lệ điều tra, khám phá án hình sự đạt 92,2%.", max_words=20)
    assert result.method == "abstractive"
    assert result.model == tiny_seq2seq_dir.name
    assert result.text.strip()
    assert count_syllables(result.text) <= 20
    assert tiny.last_parts == 1
    assert tiny.last_generations == 1


def test_seq2seq_splits_long_input_then_combines(tiny_seq2seq_dir: Path) -> None:
    split = Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=2, long_input="split")
    assert split.max_input_tokens == 128  # the tokenizer's model_max_length
    text = SEED.read_text(encoding="utf-8")
    result = split.summarize(text, question="Bí thư yêu cầu gì?", max_words=30)
    assert result.method == "abstractive"
    assert result.text.strip()
    assert split.last_parts > 1
    # Every part, then at least one combine step over the part summaries.
    assert split.last_generations > split.last_parts


def test_seq2seq_reads_the_lead_and_central_sentences_of_a_long_article(
    tiny_seq2seq_dir: Path,
) -> None:
    # A window of 400 tokens holds several of the seed's sentences, not all of them.
    tiny = Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=1, max_input_tokens=400)
    text = SEED.read_text(encoding="utf-8")
    result = tiny.summarize(text, max_words=30)
    assert result.text.strip()
    assert (tiny.last_parts, tiny.last_generations) == (1, 1)  # one generation, not map-reduce
    blocks = [b for b in text.split("\n\n") if b.strip()]
    read = tiny._final_input(blocks, 48, None)
    assert tiny._room() * 0.7 <= tiny._count(read) <= tiny._room()
    assert tiny._count(read) < tiny._count(text) / 2
    lead = ExtractiveSummarizer().ranked_sentences(text)
    first = min(lead)[1]
    assert read.startswith(first[:40])  # the article's first sentence leads
    # Sentences come in the article's order.
    found = [text.find(s.strip()[:30]) for s in _sentences(read)]
    assert all(at >= 0 for at in found) and found == sorted(found)
    # With a question, the sentences about it are what the model reads.
    focused = tiny._final_input(blocks, 48, "Tỷ lệ điều tra, khám phá án hình sự đạt bao nhiêu?")
    assert "92,2%" in focused


def test_seq2seq_passages_and_input_limit(tiny_seq2seq_dir: Path) -> None:
    small = Seq2SeqSummarizer(
        str(tiny_seq2seq_dir),
        max_input_tokens=40,
        num_beams=1,
        local_files_only=True,
        long_input="split",
    )
    passages = [p for p in EXCERPT.split("\n\n") if p.strip()]
    result = small.summarize_passages(passages, question="dữ liệu", max_words=15)
    assert result.text.strip()
    assert small.last_parts > 1


def test_seq2seq_is_thread_safe(tiny: Seq2SeqSummarizer) -> None:
    results: list[Summary] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(tiny.summarize(EXCERPT, max_words=15))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 3
    assert len({r.text for r in results}) == 1  # deterministic beam search


class _RecordingGenerator:
    """The real generator, remembering each call's token budget."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.backend = inner.backend
        self.variant = inner.variant
        self.budgets: list[int] = []

    def generate(self, inputs, options: DecodeOptions):  # noqa: ANN001, ANN201
        self.budgets.append(options.max_new_tokens)
        return self.inner.generate(inputs, options)

    def stream(self, input_ids, options: DecodeOptions):  # noqa: ANN001, ANN201
        self.budgets.append(options.max_new_tokens)
        return self.inner.stream(input_ids, options)


def test_generation_is_never_longer_than_its_input(tiny_seq2seq_dir: Path) -> None:
    model = Seq2SeqSummarizer(str(tiny_seq2seq_dir), num_beams=1)
    recorder = _RecordingGenerator(model.generator)
    model.generator = recorder
    sentence = "Tỷ lệ điều tra, khám phá án hình sự năm nay đạt 92,2%, vượt chỉ tiêu được giao."
    read = model.count_tokens(sentence)
    assert MIN_BUDGET < read < max_new_tokens_for(80)
    model.summarize_passages([sentence], question="Tỷ lệ khám phá án là bao nhiêu?", max_words=80)
    list(model.stream_passages([sentence], question="Tỷ lệ khám phá án?", max_words=80))
    assert recorder.budgets == [read, read]  # an answer rewritten from one sentence
    # A long article keeps the budget its max_words gives.
    model.summarize(SEED.read_text(encoding="utf-8"), max_words=20)
    assert recorder.budgets[-1] == max_new_tokens_for(20)


def test_prompt_conventions_and_budget() -> None:
    vit5 = prompt_format_for("VietAI/vit5-base-vietnews-summarization")
    assert (vit5.prefix, vit5.suffix) == ("vietnews: ", " </s>")
    plain = prompt_format_for("vinai/bartpho-syllable")
    assert (plain.prefix, plain.suffix) == ("", "")
    assert max_new_tokens_for(80) == 104


# -- factory -------------------------------------------------------------------------


def test_build_seq2seq_from_a_local_folder(tiny_seq2seq_dir: Path) -> None:
    choice = build_summarizer("seq2seq", str(tiny_seq2seq_dir))
    assert isinstance(choice.summarizer, Seq2SeqSummarizer)
    assert choice.requested == "seq2seq"
    assert choice.fallback_reason is None
    assert choice.summarizer.summarize(EXCERPT, max_words=20).method == "abstractive"
    auto = build_summarizer("auto", str(tiny_seq2seq_dir))
    assert auto.method == "abstractive" and auto.fallback_reason is None


def test_auto_falls_back_to_extractive_quickly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_id = f"nonexistent/model-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="models.summarization.factory"):
        first = build_summarizer("auto", model_id)
        second = build_summarizer("auto", model_id)
    assert time.monotonic() - started < 5
    for choice in (first, second):
        assert isinstance(choice.summarizer, ExtractiveSummarizer)
        assert choice.requested == "auto"
        assert choice.fallback_reason and model_id in choice.fallback_reason
    warnings = [r for r in caplog.records if model_id in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert first.summarizer.summarize(EXCERPT, max_words=30).method == "extractive"


@pytest.mark.parametrize("model_id", ["nonexistent/model-id", "./no/such/folder"])
def test_seq2seq_raises_when_unavailable(monkeypatch: pytest.MonkeyPatch, model_id: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(ModelNotAvailableError, match="not"):
        build_summarizer("seq2seq", model_id)
    assert time.monotonic() - started < 5


def test_build_extractive() -> None:
    choice = build_summarizer("extractive", "ignored")
    assert isinstance(choice.summarizer, ExtractiveSummarizer)
    assert choice.fallback_reason is None and choice.method == "extractive"
