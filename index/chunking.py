"""Split articles into retrieval chunks of whole sentences with exact offsets.

A chunk packs consecutive sentences (from :func:`models.vietnamese.split_sentences`)
up to ``max_syllables`` syllables, and repeats the last ``overlap_sentences`` sentences
of the previous chunk so a fact that straddles a boundary is still retrievable.
``chunk.text`` is always ``article.text[chunk.start:chunk.end]``.

A sentence longer than ``max_syllables`` (often captions merged into the paragraph
after them) is first cut into pieces: at line breaks, then after clause punctuation
(``;`` ``,`` ``:``), then between words, until each piece fits. Pieces are then packed
and overlapped exactly like sentences, so no chunk exceeds ``max_syllables``.

The work is linear in the article: its syllables are located once
(:class:`models.vietnamese.SyllableCounter`) and every span is counted from them, each
cutting level scans only the span it cuts, and packing looks back at most
``overlap_sentences`` units.

120 syllables is about 160–190 XLM-R tokens for Vietnamese (1.3–1.6 tokens a
syllable), well under the 512-token window of multilingual-e5-small.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.defaults import DEFAULT_MAX_SYLLABLES, DEFAULT_OVERLAP_SENTENCES
from index.documents import Article
from models.vietnamese import Span, SyllableCounter, split_sentences

_LINE_RE = re.compile(r"[^\n]+")
_CLAUSE_END_RE = re.compile(r"[;,:](?=\s)")
_WORD_RE = re.compile(r"\S+")
_SYLLABLE_END_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article: ``text == article.text[start:end]``."""

    article_id: str
    position: int
    start: int
    end: int
    text: str


def _trimmed(text: str, start: int, end: int) -> Span | None:
    """``[start, end)`` without surrounding whitespace, or ``None`` when blank."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None


def _cut_after(text: str, span: Span, ends: list[int]) -> list[Span]:
    """Cut ``span`` after each offset in ``ends``; blank pieces are dropped."""
    pieces: list[Span] = []
    start = span.start
    for end in [*ends, span.end]:
        if start < end <= span.end and (piece := _trimmed(text, start, end)):
            pieces.append(piece)
        start = max(start, end)
    return pieces


def _by_lines(text: str, span: Span) -> list[Span]:
    return [
        piece
        for m in _LINE_RE.finditer(text, span.start, span.end)
        if (piece := _trimmed(text, m.start(), m.end()))
    ]


def _by_clauses(text: str, span: Span) -> list[Span]:
    ends = [m.end() for m in _CLAUSE_END_RE.finditer(text, span.start, span.end)]
    return _cut_after(text, span, ends)


def _by_words(text: str, span: Span) -> list[Span]:
    return [Span(m.start(), m.end()) for m in _WORD_RE.finditer(text, span.start, span.end)]


def _by_syllables(text: str, span: Span) -> list[Span]:
    """Last resort for a "word" such as a long URL: one piece per syllable."""
    found = list(_SYLLABLE_END_RE.finditer(text, span.start, span.end))
    return _cut_after(text, span, [m.end() for m in found[:-1]])


# Index 0 (line breaks) is handled by _fit_lines, which glues captions forward.
_SPLITTERS: tuple[Callable[[str, Span], list[Span]], ...] = (
    _by_lines,
    _by_clauses,
    _by_words,
    _by_syllables,
)


def _fit_lines(
    text: str, lines: list[Span], max_syllables: int, syllables: SyllableCounter
) -> list[Span]:
    """Fit each line, then glue every whole line to the piece after it while they fit.

    A sentence spans several lines only when captions or headings were merged into
    the sentence after them, so gluing backwards from the end keeps them with it.
    """
    backwards: list[Span] = []  # the pieces from the last one back; reversed at the end
    for line in reversed(lines):
        fitted = _fit(text, line, max_syllables, syllables, 1)
        if (
            len(fitted) == 1
            and backwards
            and syllables.count(line.start, backwards[-1].end) <= max_syllables
        ):
            backwards[-1] = Span(line.start, backwards[-1].end)
        else:
            backwards.extend(reversed(fitted))
    backwards.reverse()
    return backwards


def _fit(
    text: str, span: Span, max_syllables: int, syllables: SyllableCounter, level: int = 0
) -> list[Span]:
    """Split ``span`` into pieces of at most ``max_syllables`` syllables, trying line
    breaks, then clause punctuation, then word and syllable boundaries.

    Each level scans only the span it cuts, and a piece goes one level deeper only
    when it does not fit, so the work is linear in the span (four levels at most).
    """
    if syllables.of(span) <= max_syllables:
        return [span]
    if level == 0 and len(lines := _by_lines(text, span)) > 1:
        return _fit_lines(text, lines, max_syllables, syllables)
    for depth in range(max(level, 1), len(_SPLITTERS)):
        pieces = _SPLITTERS[depth](text, span)
        if len(pieces) > 1:
            return [
                fit
                for piece in pieces
                for fit in _fit(text, piece, max_syllables, syllables, depth)
            ]
    return [span]  # unreachable for max_syllables >= 1: a single syllable always fits


def chunk_units(
    text: str,
    max_syllables: int = DEFAULT_MAX_SYLLABLES,
    syllables: SyllableCounter | None = None,
) -> list[Span]:
    """The packing units of ``text``: its sentences, with any sentence longer than
    ``max_syllables`` cut into pieces that fit. ``syllables`` counts spans of ``text``
    (built here when not given)."""
    counter = syllables or SyllableCounter(text)
    return [
        piece
        for sentence in split_sentences(text)
        for piece in _fit(text, sentence, max_syllables, counter)
    ]


def _pack(counts: list[int], max_syllables: int, overlap: int) -> list[tuple[int, int]]:
    """Group unit indices into ``[first, last)`` ranges of at most ``max_syllables``.

    Each range after the first starts with up to ``overlap`` units of the previous one,
    fewer when they would not fit with the next new unit; every range adds at least
    one new unit, so packing always progresses.
    """
    ranges: list[tuple[int, int]] = []
    next_new = 0
    while next_new < len(counts):
        first = max(next_new - overlap, ranges[-1][0] + 1) if ranges else next_new
        total = sum(counts[first:next_new])
        while first < next_new and total + counts[next_new] > max_syllables:
            total -= counts[first]
            first += 1
        last = next_new
        while last < len(counts) and (last == next_new or total + counts[last] <= max_syllables):
            total += counts[last]
            last += 1
        ranges.append((first, last))
        next_new = last
    return ranges


def chunk_article(
    article: Article,
    *,
    max_syllables: int = DEFAULT_MAX_SYLLABLES,
    overlap_sentences: int = DEFAULT_OVERLAP_SENTENCES,
) -> list[Chunk]:
    """Chunk ``article`` into runs of whole sentences of at most ``max_syllables``
    syllables, each repeating the last ``overlap_sentences`` sentences of the one
    before (fewer when they would not fit with a new sentence).

    Over-long sentences are cut into pieces first (see the module docstring), so every
    chunk respects ``max_syllables``. Positions run ``0..n-1``; an empty text gives no
    chunks.
    """
    if max_syllables < 1:
        raise ValueError(f"max_syllables must be at least 1, got {max_syllables}")
    if overlap_sentences < 0:
        raise ValueError(f"overlap_sentences must be >= 0, got {overlap_sentences}")
    text = article.text
    syllables = SyllableCounter(text)  # one scan; every span is then counted in O(log n)
    units = chunk_units(text, max_syllables, syllables)
    counts = [syllables.of(unit) for unit in units]
    chunks: list[Chunk] = []
    for position, (first, last) in enumerate(_pack(counts, max_syllables, overlap_sentences)):
        start, end = units[first].start, units[last - 1].end
        chunks.append(Chunk(article.id, position, start, end, text[start:end]))
    return chunks
