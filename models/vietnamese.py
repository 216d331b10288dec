"""Vietnamese text primitives: normalization, syllables and sentence spans.

Sentence splitting wraps underthesea's ``sent_tokenize`` (its model ships in the
wheel) and returns character spans into the original text, so callers can keep
exact offsets. Fragments that are not sentences — photo captions, sub-headings,
a quote's trailing attribution — are merged into a neighbouring sentence.
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_PARAGRAPH_RE = re.compile(r"[^\n]+")
_TERMINAL = tuple(".!?…;:\"”»)'’")
# C0/C1 controls (tab and newline kept), zero-width and bidi formatting characters, the
# byte-order mark, and lone surrogates (JSON "\\ud800" decodes to one; UTF-8 cannot hold it).
_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)
# Vietnamese đ/Đ is a separate letter, not a base letter plus a combining mark.
_DSTROKE = str.maketrans({"đ": "d", "Đ": "D"})


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` into some text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        """The substring this span covers."""
        return text[self.start : self.end]


def normalize(text: str) -> str:
    """NFC-normalize, drop control characters and normalize line endings."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks: "Bí thư" -> "Bi thu"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_DSTROKE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries any Vietnamese tone or vowel mark (or đ)."""
    return strip_diacritics(text) != unicodedata.normalize("NFC", text)


def syllables(text: str) -> list[str]:
    """Lower-cased NFC syllables (runs of letters and digits), the BM25 vocabulary."""
    return _WORD_RE.findall(unicodedata.normalize("NFC", text).lower())


def count_syllables(text: str) -> int:
    """Number of syllables (word-character runs) in ``text``."""
    return sum(1 for _ in _WORD_RE.finditer(text))


class SyllableCounter:
    """Syllable counts of any span of one text, after a single scan of it.

    ``count(start, end) == count_syllables(text[start:end])`` (a syllable cut by a span
    edge counts once, as it does in the substring), in ``O(log n)`` instead of a scan
    of the span: callers that count many overlapping spans stay linear in the text.
    """

    def __init__(self, text: str) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for match in _WORD_RE.finditer(text):
            self._starts.append(match.start())
            self._ends.append(match.end())

    def count(self, start: int, end: int) -> int:
        """Syllables overlapping ``[start, end)``."""
        if start >= end:
            return 0
        # Runs starting before ``end``, less those ending at or before ``start``.
        return bisect.bisect_left(self._starts, end) - bisect.bisect_right(self._ends, start)

    def of(self, span: Span) -> int:
        """Syllables in ``span``."""
        return self.count(span.start, span.end)


@lru_cache(maxsize=1)
def _sent_tokenize() -> Callable[[str], list[str]]:
    """underthesea's sentence tokenizer, with its abbreviation look-back bounded.

    underthesea 9's Punkt tokenizer walks back over the whole run of letters, digits
    and dots before every full stop to test for an abbreviation, so a paragraph such
    as ``"Ab.Ab.Ab.…"`` costs time quadratic in its length. Any run longer than the
    longest abbreviation is no abbreviation, so the walk stops there: the sentences
    are the library's own, in linear time.
    """
    import underthesea.pipeline.sent_tokenize as punkt  # lazily: loading takes ~1 s

    punkt.sent_tokenize("")  # loads the model and its abbreviations
    model = getattr(punkt, "sentence_tokenizer", None)
    base = getattr(punkt, "PunktSentenceTokenizer", None)
    if model is None or base is None or not hasattr(base, "_get_preceding_word"):
        logger.warning(
            "underthesea's sentence tokenizer is not the one vnqa bounds (underthesea 9); "
            "its abbreviation look-back may be quadratic on long runs without spaces"
        )
        return punkt.sent_tokenize
    return _bounded_punkt(base, set(model.abbrev_types)).sentences_from_text


def _bounded_punkt(base: type, abbrev_types: set[str]) -> Any:
    """An instance of underthesea's ``PunktSentenceTokenizer`` whose look-back for an
    abbreviation stops one character past the longest abbreviation."""
    # Lower-casing never shortens a string, so a longer word is never an abbreviation.
    longest = max((len(a) for a in abbrev_types), default=0) + 1

    class BoundedPunkt(base):
        def _get_preceding_word(self, text: str, pos: int) -> str | None:
            start = pos - 1
            floor = max(-1, pos - 1 - longest)
            while start > floor and (text[start].isalnum() or text[start] == "."):
                start -= 1
            return text[start + 1 : pos] or None

    return BoundedPunkt(abbrev_types)


def _locate(text: str, pieces: list[str], base: int) -> list[Span]:
    """Map the strings a tokenizer returned back to spans of ``text``."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        at = text.find(piece, cursor)
        if at < 0:  # the tokenizer altered whitespace: match it loosely
            pattern = r"\s+".join(re.escape(tok) for tok in piece.split())
            match = re.compile(pattern).search(text, cursor)
            if match is None:
                continue
            at, end = match.start(), match.end()
        else:
            end = at + len(piece)
        spans.append(Span(base + at, base + end))
        cursor = end
    return spans


def _is_fragment(sentence: str) -> bool:
    """True for text that cannot stand as a sentence: captions, headings, attributions."""
    stripped = sentence.strip()
    if not stripped:
        return True
    if stripped[0] in "-–—" or stripped[0].islower():
        return True
    return not stripped.endswith(_TERMINAL)


def _is_attribution(sentence: str) -> bool:
    """A quote's trailing attribution such as "”- Bí thư Tỉnh ủy nhấn mạnh."."""
    stripped = sentence.strip().lstrip('”"’»)').lstrip()
    return bool(stripped) and (stripped[0] in "-–—" or stripped[0].islower())


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentence spans along Vietnamese sentence boundaries.

    Paragraphs (lines) are split separately, so a sentence never crosses a line
    break. Captions and headings (no closing punctuation) are merged into the
    sentence that follows them; attributions are merged into the one before.
    Spans are sorted, non-overlapping and cover every non-blank character.
    """
    tokenize = _sent_tokenize()
    raw: list[Span] = []
    for para in _PARAGRAPH_RE.finditer(text):
        body = para.group()
        if not body.strip():
            continue
        pieces = tokenize(body) or [body]
        located = _locate(body, pieces, para.start())
        raw.extend(located or [Span(para.start(), para.end())])
    if not raw:
        return []

    merged: list[Span] = []
    pending_start: int | None = None  # start of captions waiting for their sentence
    for span in raw:
        piece = span.of(text)
        if _is_attribution(piece) and merged and pending_start is None:
            merged[-1] = Span(merged[-1].start, span.end)
            continue
        if _is_fragment(piece):
            if pending_start is None:
                pending_start = span.start
            continue
        start = pending_start if pending_start is not None else span.start
        merged.append(Span(start, span.end))
        pending_start = None
    if pending_start is not None:  # trailing fragments join the last sentence
        if merged:
            merged[-1] = Span(merged[-1].start, raw[-1].end)
        else:
            merged.append(Span(pending_start, raw[-1].end))
    return merged
