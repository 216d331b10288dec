"""Chunking does work linear in the article (issue 8, finding 4), checked by counting
operations, not by timing: the function calls made while chunking (``sys.setprofile``)
and the characters copied out of the article text by slicing. Both are deterministic.

The shapes are the ones that were quadratic: zero-syllable lines before a sentence
longer than a chunk (caption gluing re-counted a span that grew with every line) and
sentences without spaces between them (underthesea's abbreviation look-back walked
back over the whole run at every full stop). ``bench/chunking.py`` times them.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

import pytest

from index.article_files import load_articles
from index.chunking import chunk_article
from index.documents import Article
from models.vietnamese import SyllableCounter, count_syllables
from tests.index.test_chunking import SEED

_LONG_SENTENCE = "Hội nghị bàn về " + "an ninh trật tự, " * 60 + "và kết thúc."

# The shapes that were quadratic, plus the plain case; ``bench/chunking.py`` times these.
SHAPES: dict[str, Callable[[int], str]] = {
    # n zero-syllable lines before a sentence longer than a chunk
    "dash-lines": lambda n: "-\n" * n + _LONG_SENTENCE,
    # n sentences without spaces between them, one paragraph
    "glued-sentences": lambda n: "Ab." * n,
    # n short numbered sentences, one a line
    "short-lines": lambda n: "\n".join(f"Dòng số {i}." for i in range(n)),
    # captions between long lines
    "captions": lambda n: "\n".join(
        "Ảnh minh họa" if i % 2 else "Một hai ba bốn năm sáu bảy tám chín mười, " * 14
        for i in range(n)
    ),
}


def count_calls(func: Callable[[], object]) -> int:
    """The number of Python and C function calls ``func()`` makes (deterministic)."""
    calls = 0

    def profiler(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        func()
    finally:
        sys.setprofile(None)
    return calls


class CountingText(str):
    """Article text that counts the characters sliced out of it."""

    copied = 0

    def __getitem__(self, key):  # type: ignore[no-untyped-def, override]
        piece = str.__getitem__(self, key)
        CountingText.copied += len(piece)
        return piece


def work(text: str) -> tuple[int, int]:
    """(function calls, characters copied) while chunking ``text``."""
    article = Article(id="growth", text=text)
    clean = article.text
    article.text = CountingText(clean)
    CountingText.copied = 0
    chunks: list = []
    calls = count_calls(lambda: chunks.extend(chunk_article(article)))
    assert chunks and all(c.text == clean[c.start : c.end] for c in chunks)
    return calls, CountingText.copied


@pytest.mark.parametrize("shape", list(SHAPES))
def test_chunking_work_grows_linearly(shape: str) -> None:
    chunk_article(Article(id="warm-up", text="Câu một. Câu hai."))  # loads the splitter
    small, large = SHAPES[shape](500), SHAPES[shape](2000)
    (calls_small, copied_small), (calls_large, copied_large) = work(small), work(large)
    # 4× the lines: linear work grows at most 4× (less with a fixed part), quadratic 16×.
    assert calls_large <= 1.2 * 4 * calls_small, (calls_small, calls_large)
    assert copied_large <= 1.2 * 4 * copied_small, (copied_small, copied_large)
    # Bounded per character: each chunk holds its sentences plus one overlap sentence.
    assert copied_large <= 4 * len(large) + 1000


def test_syllable_counter_agrees_with_counting_the_substring() -> None:
    rng = random.Random(3)
    words = ["Hà", "Nội", "ngày", "27/11", "đ", "ăn-uống", "…", ",", "x_y", "\n", " ", "1.500"]
    for _ in range(200):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "  "]) for _ in range(40))
        counter = SyllableCounter(text)
        for _ in range(20):
            start = rng.randrange(len(text) + 1)
            end = rng.randrange(start, len(text) + 1)
            assert counter.count(start, end) == count_syllables(text[start:end]), (text, start, end)


def test_bounded_sentence_splitter_keeps_underthesea_sentences() -> None:
    """The look-back bound changes the cost, not the sentences: they are underthesea's."""
    from underthesea import sent_tokenize

    from models.vietnamese import _sent_tokenize

    bounded = _sent_tokenize()
    paragraphs = [line for a in load_articles(SEED) for line in a.text.split("\n")] + [
        "Ab." * 300,
        "TP.HCM có mưa. GS.TS. Nguyễn Văn A phát biểu. Giá 1.500.000 đồng. Ông T. về.",
        "Xem vnexpress.net/abc.html để biết thêm... và sau đó. " * 20,
        "a" * 400 + ".tp. Tiếp theo. " + "x." * 50 + "tp. Hết.",
    ]
    for paragraph in paragraphs:
        assert bounded(paragraph) == sent_tokenize(paragraph)
