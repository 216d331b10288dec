"""Compose the answer to a question from retrieved passages, sentence by sentence.

Every passage is split into sentences once; every distinct sentence is embedded once
(one batched call) and scored by a learned linear scorer over cheap features
(:mod:`service.answer_features`: the embedding cosine, TF-IDF over syllables and
syllable pairs, the IDF share of the question the sentence covers, the passage's
rank, the sentence's place next to the best lexical match, and what the question asks
for — a number, a year, a person, a place — against what the sentence holds). The
best sentence opens the answer. A factoid question gets at most one more sentence,
only when its probability of holding the answer (a softmax over the candidates) is
close enough to the best one's; a question that asks for a list ("yêu cầu gì",
"những biện pháp nào", "vì sao") gets its distinct points, chosen by maximal marginal
relevance so near-duplicates (overlapping chunks, the same fact told twice) are
skipped, within the word budget.

The same scores pick each passage's highlight, so the highlight, the answer and its
citations never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.vietnamese import split_sentences, syllables
from service.answer_features import DENSE_COLUMNS, SCORER_WEIGHTS, features

if TYPE_CHECKING:
    from index.records import SearchHit
    from models.embedder_protocol import TextEmbedder as Embedder

# Question phrasings that ask for several points rather than one fact.
_LIST_QUESTION_RE = re.compile(
    r"(yêu cầu|đề nghị|chỉ đạo|đề xuất|nhiệm vụ|giải pháp|biện pháp|kiến nghị|lưu ý|nhấn mạnh)"
    r".*\b(gì|những gì|nào)\b"
    r"|\b(những|các)\b.*\bnào\b"
    r"|\blàm gì\b|\bvì sao\b|\btại sao\b|\bnguyên nhân\b|\bnhững gì\b",
    re.IGNORECASE,
)
_TERMINAL = tuple(".!?…;:\"”»)'’")
_CLAUSE_END_RE = re.compile(r"[,;:](?=\s)")
_CREDIT_RE = re.compile(
    r"^(tác giả|nguồn|nguồn tin|ảnh|video|clip|đồ họa|đồ hoạ|bài và ảnh|thực hiện)\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Weights:
    """How many sentences an answer takes, given the learned sentence scores.

    Scores are :func:`service.answer_features.features` times ``SCORER_WEIGHTS``. For a
    factoid, a softmax over the question's candidates turns them into each sentence's
    probability of holding the answer and ``second_ratio`` compares a sentence's with
    the best one's; for a list question the scores are spread over [0, 1] (min–max)
    and ``list_ratio`` compares on that scale.
    """

    second_ratio: float = 0.15  # a factoid's next sentence: this share of the best's probability
    factoid_sentences: int = 2
    list_ratio: float = 0.6  # a list point: this share of the best (scores spread to [0, 1])
    novelty: float = 0.5  # MMR: weight of the similarity to points already chosen
    duplicate_cosine: float = 0.97  # sentences this close count as the same point
    duplicate_jaccard: float = 0.6
    point_syllables: int = 30  # a list point longer than this is cut after a clause
    scorer: tuple[float, ...] | None = None  # weights over the features; None: SCORER_WEIGHTS
    embed_top: int | None = 7  # a factoid embeds only its best this many by the other features


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of one passage, with absolute offsets into its article."""

    passage: int  # index into the passages, in rank order
    article_id: str
    start: int
    end: int
    text: str
    syllables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Composition:
    """The composer's decision: the answer's sentences (best first) and each passage's highlight.

    ``sentences`` index into ``candidates``; ``highlights[i]`` is the absolute
    ``(start, end)`` of passage ``i``'s best sentence (the whole passage when it has none).
    """

    candidates: list[Candidate]
    sentences: list[int]
    highlights: list[tuple[int, int]]
    is_list: bool


def is_list_question(question: str) -> bool:
    """Whether ``question`` asks for several points ("yêu cầu gì", "vì sao", "những … nào")."""
    return bool(_LIST_QUESTION_RE.search(question))


def _clean(text: str, start: int) -> tuple[str, int, int] | None:
    """The sentence without caption / heading lines merged into it; absolute offsets.

    Returns ``(text, start, end)`` or ``None`` for a credit line or an empty one.
    """
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
    if len(lines) > 1:
        kept = [(o, line) for o, line in lines if line.strip().endswith(_TERMINAL)]
        lines = kept or lines
    if not lines:
        return None
    first_offset, first_line = lines[0]
    last_offset, last_line = lines[-1]
    lo = first_offset + len(first_line) - len(first_line.lstrip())
    hi = last_offset + len(last_line.rstrip())
    joined = " ".join(line.strip() for _, line in lines)
    if _CREDIT_RE.match(joined):
        return None
    return joined, start + lo, start + hi


def candidates_of(hits: Sequence[SearchHit]) -> list[Candidate]:
    """Every sentence of every passage, once: a sentence repeated by overlapping chunks of
    one article is kept in the better-ranked passage only."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for number, hit in enumerate(hits):
        for span in split_sentences(hit.text):
            cleaned = _clean(span.of(hit.text), hit.start + span.start)
            if cleaned is None:
                continue
            text, start, end = cleaned
            syls = tuple(syllables(text))
            if not syls or (hit.article_id, start) in seen:
                continue
            seen.add((hit.article_id, start))
            out.append(Candidate(number, hit.article_id, start, end, text, syls))
    return out


def trim_point(candidate: Candidate, limit: int) -> Candidate:
    """``candidate`` cut after its last clause (``,`` ``;`` ``:``) within ``limit``
    syllables, ending in "…"; unchanged when short enough or when no clause boundary
    leaves at least a third of ``limit``. Offsets follow the cut."""
    if len(candidate.syllables) <= limit or candidate.end - candidate.start != len(candidate.text):
        return candidate
    cut = None
    for match in _CLAUSE_END_RE.finditer(candidate.text):
        words = len(syllables(candidate.text[: match.start()]))
        if words > limit:
            break
        if words >= limit // 3:
            cut = match.start()
    if cut is None:
        return candidate
    text = candidate.text[:cut]
    return Candidate(
        candidate.passage,
        candidate.article_id,
        candidate.start,
        candidate.start + cut,
        text + "…",
        tuple(syllables(text)),
    )


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def _embedded(
    question: str,
    question_syllables: Sequence[str],
    candidates: Sequence[Candidate],
    scorer: np.ndarray,
    weights: Weights,
    is_list: bool,
) -> list[int]:
    """The candidates worth embedding, in order: all of them, or for a factoid with
    ``weights.embed_top`` set, the best that many by the scorer without its embedding
    features (embedding the sentences is nearly all of an answer's time)."""
    top = weights.embed_top
    if is_list or top is None or len(candidates) <= max(top, 1):
        return list(range(len(candidates)))
    lexical_only = np.where(DENSE_COLUMNS, 0.0, scorer)
    flat = np.zeros(len(candidates))
    rough = features(question, question_syllables, candidates, flat) @ lexical_only
    return sorted(np.argsort(-rough, kind="stable")[:top].tolist())


def compose(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    *,
    max_words: int,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Composition:
    """Choose the sentences of ``hits`` (ranked passages) that answer ``question``.

    The answer holds at least one sentence; the rest fit in ``max_words`` syllables.
    """
    candidates = candidates_of(hits)
    is_list = is_list_question(question)
    if not candidates:
        return Composition([], [], [(h.start, h.end) for h in hits], is_list)

    query = np.asarray(embedder.embed_queries([question])[0], dtype=np.float32)
    scorer = SCORER_WEIGHTS if weights.scorer is None else np.asarray(weights.scorer)
    question_syllables = syllables(question)
    kept = _embedded(question, question_syllables, candidates, scorer, weights, is_list)
    vectors = np.zeros((len(candidates), len(query)), dtype=np.float32)
    vectors[kept] = np.asarray(
        embedder.embed_passages([candidates[i].text for i in kept]), dtype=np.float32
    )
    cosines = vectors @ query
    if len(kept) < len(candidates):
        # The sentences left out sit at the bottom of the embedding scale, out of the race.
        dropped = np.setdiff1d(np.arange(len(candidates)), kept)
        cosines[dropped] = cosines[kept].min()
    raw = features(question, question_syllables, candidates, cosines) @ scorer
    if len(kept) < len(candidates):
        raw[dropped] = raw[kept].min() - 1.0
    if is_list:
        # A list has several answering sentences: scores spread over [0, 1], so that
        # every point close to the best qualifies (the softmax below is too peaked).
        low, high = float(raw.min()), float(raw.max())
        scores = (raw - low) / (high - low) if high > low else np.ones_like(raw)
    else:
        # Each sentence's probability of holding the answer, as a share of the best one's.
        scores = np.exp(raw - raw.max())

    highlights: list[tuple[int, int]] = []
    for number, hit in enumerate(hits):
        own = [i for i, c in enumerate(candidates) if c.passage == number]
        if own:
            best = max(own, key=lambda i: (scores[i], -i))
            highlights.append((candidates[best].start, candidates[best].end))
        else:
            highlights.append((hit.start, hit.end))

    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    chosen = [order[0]]
    used = len(candidates[order[0]].syllables)
    best_score = float(scores[order[0]])

    def duplicate(i: int) -> bool:
        return any(
            float(vectors[i] @ vectors[j]) >= weights.duplicate_cosine
            or _jaccard(candidates[i].syllables, candidates[j].syllables)
            > weights.duplicate_jaccard
            for j in chosen
        )

    if is_list:
        # Points after the best are kept short so that more of them fit: each is cut
        # after a clause (the best sentence stays whole: it holds the answer).
        candidates = [
            c if i == order[0] else trim_point(c, weights.point_syllables)
            for i, c in enumerate(candidates)
        ]
        pool = [i for i in order[1:] if scores[i] >= weights.list_ratio * best_score]
        while pool and used < max_words:
            # Maximal marginal relevance: relevant, and unlike the points already chosen.
            def mmr(i: int) -> float:
                similar = max(float(vectors[i] @ vectors[j]) for j in chosen)
                return float(scores[i]) - weights.novelty * similar

            pick = max(pool, key=mmr)
            pool.remove(pick)
            length = len(candidates[pick].syllables)
            if used + length > max_words or duplicate(pick):
                continue
            chosen.append(pick)
            used += length
        # After the best point, the others read in document order.
        rest = sorted(chosen[1:], key=lambda i: (candidates[i].passage, candidates[i].start))
        chosen = [chosen[0], *rest]
    else:
        runners = [i for i in order[1:] if scores[i] >= weights.second_ratio * best_score]
        for i in runners:
            length = len(candidates[i].syllables)
            if len(chosen) >= weights.factoid_sentences:
                break
            if used + length <= max_words and not duplicate(i):
                chosen.append(i)
                used += length
    return Composition(candidates, chosen, highlights, is_list)
