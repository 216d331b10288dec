"""Features of each candidate sentence for the answer composer's learned scorer.

Every feature is cheap: the embedding cosines the composer already has, TF-IDF over
syllables and syllable pairs (IDF over the candidates), the passage's rank, the
sentence's place in its passage, and what the question asks for (a number, a year, a
name, a place) against what the sentence holds and the question does not. The
composer scores a sentence as ``features @ SCORER_WEIGHTS``; the weights are learned by
``bench/train_answer_scorer.py`` (a softmax over each question's candidates, numpy
only) and pasted here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from models.summarization.extractive import tfidf_relevance

if TYPE_CHECKING:
    from service.answer_composer import Candidate

# What the question asks for.
_NUMBER_Q_RE = re.compile(r"bao nhiêu|\bmấy\b|tỉ lệ|tỷ lệ|số lượng|diện tích|dân số", re.IGNORECASE)
_TIME_Q_RE = re.compile(
    r"năm nào|khi nào|bao giờ|năm bao|thời gian nào|thời điểm nào|ngày nào|tháng nào"
    r"|thế kỷ nào|thế kỉ nào|giai đoạn nào|lúc nào|vào năm|năm mấy",
    re.IGNORECASE,
)
_PERSON_Q_RE = re.compile(r"\bai\b|người nào|vị nào|nhân vật nào", re.IGNORECASE)
_PLACE_Q_RE = re.compile(
    r"ở đâu|nơi nào|đâu là|nước nào|quốc gia nào|thành phố nào|tỉnh nào|vùng nào"
    r"|khu vực nào|địa điểm nào|\bđâu\b",
    re.IGNORECASE,
)
_NAME_Q_RE = re.compile(r"\btên\b|gọi là gì|được gọi|tên gọi", re.IGNORECASE)
_DEFINITION_Q_RE = re.compile(r"\blà gì\b|là ai\b", re.IGNORECASE)
_WHY_Q_RE = re.compile(r"vì sao|tại sao|nguyên nhân|lý do|lí do|do đâu", re.IGNORECASE)
_HOW_Q_RE = re.compile(r"như thế nào|thế nào|ra sao|bằng cách nào|cách nào", re.IGNORECASE)

_DIGIT_RE = re.compile(r"\d")
_YEAR_RE = re.compile(r"\b(1\d{3}|20\d{2})\b")
_TIME_WORD_RE = re.compile(r"\b(năm|tháng|ngày|thế kỷ|thế kỉ|thập niên|thời kỳ)\b", re.IGNORECASE)
_CAPITAL_RE = re.compile(r"\w+")
_PLACE_CUE_RE = re.compile(r"\b(tại|ở|thuộc|nằm)\b", re.IGNORECASE)
_CAUSE_CUE_RE = re.compile(r"\b(vì|do|bởi|nhờ|nên|để)\b", re.IGNORECASE)
_QUOTE_RE = re.compile(r"[\"“”«»(]")

# Question words: they name what is asked, not words the answer sentence shares.
QUESTION_WORDS = frozenset("gì nào ai đâu sao bao nhiêu mấy là không vậy thế".split())

FEATURES = (
    "dense_spread",  # question–sentence cosine, min–max over the candidates
    "dense_gap",  # cosine minus the best cosine (×10)
    "lexical",  # TF-IDF cosine (syllables + pairs), / the best
    "lexical_gap",  # raw TF-IDF cosine minus the best
    "coverage",  # IDF share of the question's content syllables the sentence has
    "bigram_coverage",  # share of the question's syllable pairs the sentence has
    "fresh",  # share of the sentence's syllables the question lacks
    "rank_prior",  # exp(-passage rank / 2)
    "top_passage",  # 1 for the top-ranked passage
    "log_length",  # log of the sentence's syllables
    "first_in_passage",  # the passage's first sentence
    "prev_lexical",  # lexical score of the sentence before it (same passage)
    "next_lexical",  # lexical score of the sentence after it
    "prev_dense",  # dense_spread of the sentence before it
    "best_lexical",  # 1 for the best lexical match
    "best_dense",  # 1 for the best embedding match
    "after_best_lexical",  # the sentence right after the best lexical match
    "number_match",  # a number the question lacks, for "bao nhiêu / mấy"
    "time_match",  # a year / date word + digit the question lacks, for "năm nào / khi nào"
    "person_match",  # a capitalized name the question lacks, for "ai"
    "place_match",  # a capitalized name or place cue, for "ở đâu / nước nào"
    "name_match",  # a capitalized name or quote, for "tên … là gì"
    "why_match",  # a cause word ("vì", "do", "nhờ"), for "vì sao"
    "number_any",  # the sentence holds a digit the question lacks (any question)
)
"""Feature names, in column order."""

DENSE_COLUMNS = np.array(
    [name in ("dense_spread", "dense_gap", "prev_dense", "best_dense") for name in FEATURES]
)
"""The columns that come from the question–sentence embedding cosines."""

SCORER_WEIGHTS = np.array(
    [
        +0.9444,  # dense_spread
        +0.8450,  # dense_gap
        +1.1722,  # lexical
        +0.6760,  # lexical_gap
        +1.7319,  # coverage
        +0.2678,  # bigram_coverage
        +0.9323,  # fresh
        +0.9997,  # rank_prior
        +0.4076,  # top_passage
        +0.2315,  # log_length
        +0.0662,  # first_in_passage
        +0.2800,  # prev_lexical
        -0.0380,  # next_lexical
        +0.3638,  # prev_dense
        +0.3142,  # best_lexical
        +0.5382,  # best_dense
        +0.6991,  # after_best_lexical
        +0.5969,  # number_match
        +0.8741,  # time_match
        +0.6059,  # person_match
        +0.3414,  # place_match
        +0.3366,  # name_match
        +0.4854,  # why_match
        -0.0465,  # number_any
    ]
)
"""Linear weights over :data:`FEATURES`, fit on all 2,285 ViQuAD dev questions by
``bench/train_answer_scorer.py --print-weights`` (default L2 0.1)."""


def _spread(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.ones_like(values)


def _new_capitals(text: str, asked: set[str]) -> bool:
    words = _CAPITAL_RE.findall(text)[1:]  # the first word is capitalized anyway
    return any(w[:1].isupper() and w.casefold() not in asked for w in words)


def _new_digits(syls: Sequence[str], asked: set[str]) -> bool:
    return any(_DIGIT_RE.search(s) and s not in asked for s in syls)


def lexical_scores(
    candidates: Sequence[Candidate], query_syllables: Sequence[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """Raw TF-IDF cosine of each candidate to the query, and the IDF (over candidates):
    the extractive summarizer's :func:`~models.summarization.extractive.tfidf_relevance`."""
    scores, idf = tfidf_relevance([c.syllables for c in candidates], query_syllables)
    return np.array(scores, dtype=np.float64), idf


def features(
    question: str,
    question_syllables: Sequence[str],
    candidates: Sequence[Candidate],
    cosines: np.ndarray,
) -> np.ndarray:
    """The ``(len(candidates), len(FEATURES))`` feature matrix.

    ``cosines`` are the question–sentence embedding cosines, one per candidate.
    """
    n = len(candidates)
    asked = {s.casefold() for s in question_syllables}
    content = [s for s in question_syllables if s not in QUESTION_WORDS] or list(question_syllables)
    raw_lexical, idf = lexical_scores(candidates, content)
    top_lexical = float(raw_lexical.max()) if n else 0.0
    lexical = raw_lexical / top_lexical if top_lexical > 0 else raw_lexical
    dense = _spread(cosines)

    unknown = math.log(1.0 + n)  # a question syllable no candidate has
    q_set = set(content)
    q_mass = sum(idf.get(s, unknown) for s in q_set) or 1.0
    q_pairs = {f"{a}_{b}" for a, b in zip(question_syllables, question_syllables[1:], strict=False)}

    number_q = bool(_NUMBER_Q_RE.search(question))
    time_q = bool(_TIME_Q_RE.search(question))
    person_q = bool(_PERSON_Q_RE.search(question))
    place_q = bool(_PLACE_Q_RE.search(question))
    name_q = bool(_NAME_Q_RE.search(question))
    why_q = bool(_WHY_Q_RE.search(question))

    best_lex = int(np.argmax(raw_lexical)) if n else -1
    best_dense = int(np.argmax(cosines)) if n else -1
    out = np.zeros((n, len(FEATURES)))
    for i, c in enumerate(candidates):
        syl_set = set(c.syllables)
        pairs = {f"{a}_{b}" for a, b in zip(c.syllables, c.syllables[1:], strict=False)}
        prev_same = i > 0 and candidates[i - 1].passage == c.passage
        next_same = i + 1 < n and candidates[i + 1].passage == c.passage
        digits = _new_digits(c.syllables, asked)
        capitals = _new_capitals(c.text, asked)
        dated = _TIME_WORD_RE.search(c.text)
        out[i] = (
            dense[i],
            10.0 * (float(cosines[i]) - float(cosines.max())),
            lexical[i],
            raw_lexical[i] - top_lexical,
            sum(idf.get(s, unknown) for s in q_set & syl_set) / q_mass,
            len(q_pairs & pairs) / len(q_pairs) if q_pairs else 0.0,
            sum(1 for s in c.syllables if s not in asked) / len(c.syllables),
            math.exp(-c.passage / 2.0),
            float(c.passage == 0),
            math.log(len(c.syllables)),
            float(not prev_same),
            lexical[i - 1] if prev_same else 0.0,
            lexical[i + 1] if next_same else 0.0,
            dense[i - 1] if prev_same else 0.0,
            float(i == best_lex),
            float(i == best_dense),
            float(prev_same and i - 1 == best_lex),
            float(number_q and digits),
            float(time_q and digits and bool(_YEAR_RE.search(c.text) or dated)),
            float(person_q and capitals),
            float(place_q and (capitals or bool(_PLACE_CUE_RE.search(c.text)))),
            float(name_q and (capitals or bool(_QUOTE_RE.search(c.text)))),
            float(why_q and bool(_CAUSE_CUE_RE.search(c.text))),
            float(digits),
        )
    return out
