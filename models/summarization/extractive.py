"""Extractive summaries: whole sentences, chosen by relevance or by centrality and position.

With a question, sentences are ranked by TF-IDF cosine (syllables and syllable
bigrams, IDF over the input's own sentences) against the question, optionally
blended with an injected sentence embedder. Without one, the input is treated as
an article and scored by the learned salience model
(:mod:`models.summarization.salience`: the words of a news lead, centrality to the
article's TF-IDF centroid, LexRank, position, length); a first line without closing
punctuation is taken as the headline and pulls similar sentences up. Without the
model's weights, the hand-weighted scorer serves: centroid similarity plus an
exponential lead prior, and LexRank or the headline's terms.

Selection is greedy by score under a syllable budget, skips near-duplicates
(Jaccard over syllables) and returns the chosen sentences in document order.
Sentences are never cut, except a lone sentence over twice the budget.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from models.summarization.base import Method, Summary, join_passages, truncate_words
from models.summarization.salience import (
    STRUCTURAL,
    SalienceModel,
    shipped_model,
    structural_features,
    word_features,
)
from models.vietnamese import normalize, split_sentences, syllables

logger = logging.getLogger(__name__)

#: Maps a batch of texts to L2-normalized row vectors, e.g. ``Embedder.embed_passages``.
EmbedFn = Callable[[list[str]], np.ndarray]

_TERMINAL = tuple(".!?…;:\"”»)'’")
_BLANK_LINES_RE = re.compile(r"\n\s*\n")
# Bylines and credits: "Tác giả: …", "Nguồn tin: …", "Ảnh: …".
_CREDIT_RE = re.compile(
    r"^(tác giả|nguồn|nguồn tin|ảnh|video|clip|đồ họa|đồ hoạ|bài và ảnh|thực hiện)\s*:",
    re.IGNORECASE,
)
_MAX_HEADLINE_WORDS = 40


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # captions and sub-headings merged into it by the splitter are dropped
    position: int  # index among the input's sentences
    block: int  # index of the blank-line separated block (passage) it came from
    syllables: tuple[str, ...]

    @property
    def n_words(self) -> int:
        return len(self.syllables)


def _clean(span_text: str) -> str:
    """Drop caption / sub-heading lines that the splitter merged into a sentence."""
    lines = [line.strip() for line in span_text.split("\n") if line.strip()]
    if len(lines) > 1:
        # Only the lines that end like a sentence are the sentence; the rest are
        # photo captions or headings that have no closing punctuation.
        kept = [line for line in lines if line.endswith(_TERMINAL)]
        lines = kept or lines
    return " ".join(lines)


def _terms(syls: Sequence[str]) -> Counter[str]:
    """Syllables plus syllable bigrams: most Vietnamese words are two syllables long."""
    counts = Counter(syls)
    counts.update(f"{a}_{b}" for a, b in zip(syls, syls[1:], strict=False))
    return counts


def _tfidf(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """Sublinear TF × IDF, L2-normalized; terms unknown to ``idf`` are ignored."""
    vec = {t: (1.0 + math.log(n)) * idf[t] for t, n in counts.items() if t in idf}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 1.0


def _lexrank(vectors: list[dict[str, float]], damping: float = 0.85, steps: int = 30) -> np.ndarray:
    """LexRank (Erkan & Radev, 2004): PageRank over the sentences' cosine graph.

    Returns the stationary scores scaled to mean 1. The similarity matrix is a sparse
    product, so long inputs stay cheap.
    """
    n = len(vectors)
    if n < 2:
        return np.ones(n)
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, vec in enumerate(vectors):
        for term, weight in vec.items():
            rows.append(i)
            cols.append(vocab.setdefault(term, len(vocab)))
            vals.append(weight)
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, max(len(vocab), 1)))
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, 0.0)
    totals = sims.sum(axis=1, keepdims=True)
    transition = np.divide(sims, totals, out=np.zeros_like(sims), where=totals > 0)
    rank = np.full(n, 1.0 / n)
    for _ in range(steps):
        rank = (1.0 - damping) / n + damping * transition.T @ rank
    return rank * n / rank.sum()


def relevance_scores(texts: Sequence[str], question: str) -> list[float]:
    """Lexical relevance of each text to ``question``: TF-IDF cosine, IDF over ``texts``."""
    return relevance_from_syllables([syllables(t) for t in texts], syllables(question))


def relevance_from_syllables(
    texts: Sequence[Sequence[str]], question: Sequence[str]
) -> list[float]:
    """:func:`relevance_scores` over syllables already split (texts and question)."""
    return tfidf_relevance(texts, question)[0]


def tfidf_relevance(
    texts: Sequence[Sequence[str]], question: Sequence[str]
) -> tuple[list[float], dict[str, float]]:
    """TF-IDF cosine of each text to ``question`` (syllables and syllable pairs, IDF
    over ``texts``), and that IDF: the one lexical relevance of summaries and answers."""
    counts = [_terms(s) for s in texts]
    df = Counter(t for c in counts for t in c)
    idf = {t: math.log(1.0 + len(texts) / d) for t, d in df.items()}
    query = _tfidf(_terms(question), idf)
    return [_dot(query, _tfidf(c, idf)) for c in counts], idf


def _article_vectors(
    sentences: Sequence[_Sentence],
) -> tuple[list[dict[str, float]], dict[str, float], np.ndarray]:
    """TF-IDF vectors of the sentences (IDF over them), that IDF, and each sentence's
    cosine to the article's centroid."""
    counts = [_terms(s.syllables) for s in sentences]
    df = Counter(t for c in counts for t in c)
    n = len(sentences)
    idf = {t: math.log(1.0 + n / d) for t, d in df.items()}
    vectors = [_tfidf(c, idf) for c in counts]
    centroid: Counter[str] = Counter()
    for vec in vectors:
        centroid.update(vec)
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    centroid_vec = {t: v / norm for t, v in centroid.items()}
    return vectors, idf, np.array([_dot(v, centroid_vec) for v in vectors])


def _salience_features(
    sentences: Sequence[_Sentence], vectors: list[dict[str, float]], centrality: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """What the salience model reads: hashed words and the structural columns."""
    words = word_features([s.syllables for s in sentences])
    lengths = [s.n_words for s in sentences]
    return words, structural_features(lengths, centrality, _lexrank(vectors))


def _headline(text: str) -> str | None:
    """The first line when it reads like a title: short, no closing punctuation."""
    stripped = text.strip()
    first, sep, rest = stripped.partition("\n")
    first = first.strip()
    if not sep or not rest.strip() or not first or first.endswith(_TERMINAL):
        return None
    return first if len(syllables(first)) <= _MAX_HEADLINE_WORDS else None


class ExtractiveSummarizer:
    """Summaries made of whole source sentences; needs no model weights.

    ``embed`` / ``embed_query`` are optional callables returning L2-normalized
    vectors (e.g. an embedder's ``embed_passages`` and ``embed_queries``); when
    given, question relevance blends lexical and embedding similarity.
    """

    method: Method = "extractive"

    def __init__(
        self,
        *,
        embed: EmbedFn | None = None,
        embed_query: EmbedFn | None = None,
        embed_weight: float = 0.5,
        # Defaults tuned for ROUGE on VietNews dev articles at a 45-word budget.
        position_weight: float = 0.15,
        position_decay: float = 1.5,
        headline_weight: float = 1.0,
        lexrank_weight: float = 0.2,
        overlength_penalty: float = 0.4,
        min_score_ratio: float = 0.3,
        redundancy: float = 0.6,
        salience: SalienceModel | None | bool = True,
        headline_salience_weight: float = 1.2,
        name: str | None = None,
    ) -> None:
        """Configure the scorer.

        ``position_weight`` and ``position_decay`` shape the lead prior
        ``weight * exp(-position / decay)``; ``lexrank_weight`` scales LexRank centrality
        (mean 1 over the sentences); ``headline_weight`` scales similarity
        to a detected headline; ``overlength_penalty`` is the exponent of the
        ``(budget / length)`` factor applied to sentences longer than the budget;
        sentences scoring below ``min_score_ratio`` × the best are not added to
        fill the budget (hand-weighted and question scores; the learned scores fill
        it in their order); ``redundancy`` is the Jaccard overlap above which a
        sentence counts as a near-duplicate of one already chosen.
        ``salience`` scores an article by a learned model
        (:mod:`models.summarization.salience`; ``True`` takes the shipped weights,
        ``False`` or ``None`` keeps the hand-weighted centrality, lead prior, LexRank
        and headline terms), plus ``headline_salience_weight`` × the similarity to a
        detected headline.
        """
        self.embed = embed
        self.embed_query = embed_query or embed
        self.embed_weight = embed_weight
        self.position_weight = position_weight
        self.position_decay = position_decay
        self.headline_weight = headline_weight
        self.lexrank_weight = lexrank_weight
        self.overlength_penalty = overlength_penalty
        self.min_score_ratio = min_score_ratio
        self.redundancy = redundancy
        self.headline_salience_weight = headline_salience_weight
        if isinstance(salience, SalienceModel):
            self.salience: SalienceModel | None = salience
        else:
            self.salience = shipped_model() if salience else None
        self.model_name = name or ("extractive-tfidf+embeddings" if embed else "extractive-tfidf")
        self._embed_warned = False

    # -- public API ---------------------------------------------------------------

    def summarize(self, text: str, *, question: str | None = None, max_words: int = 80) -> Summary:
        """Pick whole sentences of ``text`` that fit in ``max_words`` syllables.

        ``text`` is an article or passages joined by blank lines (earlier passages
        are taken as better ranked). With ``question``, sentences relevant to it
        win; otherwise central, early sentences do.
        """
        text = normalize(text or "")
        sentences = self._sentences(text)
        if not sentences:
            return Summary(text="", method="extractive", model=self.model_name)
        max_words = max(1, max_words)
        question = (question or "").strip() or None
        scores, floor = self._scores(sentences, question, _headline(text), max_words)
        chosen = self._select(sentences, scores, max_words, floor)
        if len(chosen) == 1 and chosen[0].n_words > 2 * max_words:
            summary = truncate_words(chosen[0].text, max_words)
        else:
            summary = " ".join(s.text for s in chosen)
        return Summary(text=summary, method="extractive", model=self.model_name)

    def summarize_passages(
        self, passages: Sequence[str], *, question: str | None = None, max_words: int = 80
    ) -> Summary:
        """Summarize retrieved passages, best-ranked first (the order is kept)."""
        return self.summarize(join_passages(passages), question=question, max_words=max_words)

    def ranked_sentences(self, text: str, *, question: str | None = None) -> list[tuple[int, str]]:
        """The sentences of ``text`` as ``(position, sentence)``, best first.

        Scored as :meth:`summarize` scores them (captions and bylines dropped), with no
        length penalty: what a seq2seq model reads when the whole text does not fit.
        """
        text = normalize(text or "")
        sentences = self._sentences(text)
        if not sentences:
            return []
        question = (question or "").strip() or None
        longest = max(s.n_words for s in sentences)
        scores, _ = self._scores(sentences, question, _headline(text), longest)
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        return [(sentences[i].position, sentences[i].text) for i in order]

    # -- scoring ------------------------------------------------------------------

    @staticmethod
    def _sentences(text: str) -> list[_Sentence]:
        block_starts = [m.end() for m in _BLANK_LINES_RE.finditer(text)]
        out: list[_Sentence] = []
        block = 0
        for span in split_sentences(text):
            while block < len(block_starts) and block_starts[block] <= span.start:
                block += 1
            cleaned = _clean(span.of(text))
            syls = tuple(syllables(cleaned))
            if syls:
                out.append(_Sentence(cleaned, len(out), block, syls))
        # Lines that never end like a sentence (captions left on their own, bylines)
        # are not summary material, unless the input has nothing else.
        real = [s for s in out if s.text.endswith(_TERMINAL) and not _CREDIT_RE.match(s.text)]
        return [replace(s, position=i) for i, s in enumerate(real or out)]

    def salience_inputs(self, text: str) -> tuple[list[str], sparse.csr_matrix, np.ndarray]:
        """An article's sentences and the features the salience model reads of them.

        Returns the sentence texts (captions and bylines dropped, as :meth:`summarize`
        sees them), their hashed word features and their structural features: what
        ``bench/train_summary_scorer.py`` fits the shipped weights on.
        """
        sentences = self._sentences(normalize(text or ""))
        if not sentences:
            return [], word_features([]), np.zeros((0, len(STRUCTURAL)))
        vectors, _, centrality = _article_vectors(sentences)
        return [s.text for s in sentences], *_salience_features(sentences, vectors, centrality)

    def _scores(
        self,
        sentences: list[_Sentence],
        question: str | None,
        headline: str | None,
        max_words: int,
    ) -> tuple[np.ndarray, float]:
        """Each sentence's score, and the share of the best score a sentence needs to join."""
        vectors, idf, centrality = _article_vectors(sentences)
        floor = self.min_score_ratio
        head = _tfidf(_terms(syllables(headline)), idf) if headline else {}

        relevance = None
        if question:
            relevance = self._relevance(sentences, vectors, question, idf)
        if relevance is not None:
            # Passages arrive ranked: a slight preference for earlier ones breaks ties.
            blocks = np.array([s.block for s in sentences], dtype=float)
            scores = relevance + 0.1 * centrality + 0.05 * np.exp(-blocks / 3.0)
        elif self.salience is not None:
            raw = self.salience.score(*_salience_features(sentences, vectors, centrality))
            if head:
                raw = raw + self.headline_salience_weight * np.array(
                    [_dot(head, v) for v in vectors]
                )
            scores = raw - raw.min() + 1e-6
            # Learned scores are only an order (shifted by their minimum): a ratio to the
            # best would always drop the weakest sentence, so the budget alone decides.
            floor = 0.0
        else:
            positions = np.array([s.position for s in sentences], dtype=float)
            scores = centrality + self.position_weight * np.exp(-positions / self.position_decay)
            if self.lexrank_weight and not headline:
                # Without a headline, graph centrality finds the main event (+0.9
                # ROUGE-1 on VietNews bodies); with one, it only dilutes the headline.
                scores = scores + self.lexrank_weight * _lexrank(vectors)
            if head:
                scores = scores + self.headline_weight * np.array([_dot(head, v) for v in vectors])

        lengths = np.array([s.n_words for s in sentences], dtype=float)
        over = np.maximum(lengths / max_words, 1.0)
        return scores / over**self.overlength_penalty, floor

    def _relevance(
        self,
        sentences: list[_Sentence],
        vectors: list[dict[str, float]],
        question: str,
        idf: dict[str, float],
    ) -> np.ndarray | None:
        """Similarity of each sentence to ``question`` in [0, 1]; None if nothing matches."""
        query = _tfidf(_terms(syllables(question)), idf)
        lexical = np.array([_dot(query, v) for v in vectors])
        dense = self._dense_relevance([s.text for s in sentences], question)
        if dense is None:
            return lexical if lexical.max() > 0 else None
        top = lexical.max()
        lexical = lexical / top if top > 0 else lexical
        return (1.0 - self.embed_weight) * lexical + self.embed_weight * dense

    def _dense_relevance(self, texts: list[str], question: str) -> np.ndarray | None:
        """Embedding cosine rescaled to [0, 1] over the candidates, or None."""
        if self.embed is None or self.embed_query is None:
            return None
        try:
            sent_vecs = np.asarray(self.embed(texts), dtype=np.float32)
            query_vec = np.asarray(self.embed_query([question]), dtype=np.float32).reshape(-1)
        except Exception:  # the lexical scorer still works; say so once, retry next call
            if not self._embed_warned:
                self._embed_warned = True
                logger.warning(
                    "sentence embedder failed; using lexical relevance only", exc_info=True
                )
            return None
        sims = sent_vecs @ query_vec
        # Embedding cosines sit in a narrow band; spread them over [0, 1] so the
        # blend weight means what it says.
        low, high = float(sims.min()), float(sims.max())
        return (sims - low) / (high - low) if high > low else np.ones_like(sims)

    # -- selection ----------------------------------------------------------------

    def _select(
        self,
        sentences: list[_Sentence],
        scores: np.ndarray,
        max_words: int,
        floor: float,
    ) -> list[_Sentence]:
        ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        best = scores[ranked[0]]
        chosen: list[_Sentence] = [sentences[ranked[0]]]  # always at least one sentence
        used = chosen[0].n_words
        for i in ranked[1:]:
            if used >= max_words or scores[i] < floor * best:
                break
            candidate = sentences[i]
            if used + candidate.n_words > max_words:
                continue
            if any(_jaccard(candidate.syllables, c.syllables) > self.redundancy for c in chosen):
                continue
            chosen.append(candidate)
            used += candidate.n_words
        return sorted(chosen, key=lambda s: s.position)
