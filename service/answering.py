"""Question answering: retrieve passages, highlight the best sentence, summarize.

The :class:`Answerer` is the one place where retrieval, sentence highlighting and
summarization meet. It is synchronous and CPU-bound; the HTTP layer runs it in a
worker thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from index.engine import SearchFilters, SearchHit
from models.summarization.base import Summary
from models.vietnamese import normalize, split_sentences, syllables

if TYPE_CHECKING:
    from index.engine import ArticleIndex
    from models.embeddings import Embedder
    from models.summarization.base import Summarizer

logger = logging.getLogger(__name__)

NO_ANSWER_TEXT = (
    "Không tìm thấy thông tin liên quan đến câu hỏi trong các bài báo đã lưu. "
    "Hãy thử diễn đạt câu hỏi khác hoặc nạp thêm bài báo."
)
"""Summary text returned when retrieval finds nothing (Vietnamese: "nothing relevant found")."""

# Cosine scores closer than this count as a tie and fall back to syllable overlap: e5
# cosines sit in a narrow band, so within 0.02 the question's own words decide.
_TIE_EPSILON = 0.02

SearchMode = Literal["hybrid", "dense", "bm25"]

_PIECE_RE = re.compile(r"\s*\S+")


def _pieces(text: str) -> Iterator[str]:
    """``text`` as word pieces, each carrying the whitespace before it."""
    for match in _PIECE_RE.finditer(text):
        yield match.group()


class ArticleNotFoundError(LookupError):
    """No stored article has the requested id."""

    def __init__(self, article_id: str) -> None:
        super().__init__(
            f"No article with id {article_id!r}; list stored ids with GET /v1/articles "
            "or `vnqa stats`."
        )
        self.article_id = article_id


@dataclass(frozen=True, slots=True)
class Passage(SearchHit):
    """A retrieved chunk plus the sentence that best answers the question.

    ``highlight`` is a half-open ``(start, end)`` range of absolute offsets into the
    article text; it always lies inside ``[start, end)`` of the passage.
    """

    highlight: tuple[int, int] = field(kw_only=True)

    @classmethod
    def from_hit(cls, hit: SearchHit, highlight: tuple[int, int]) -> Passage:
        """Copy every field of ``hit`` and attach ``highlight``."""
        values = {f.name: getattr(hit, f.name) for f in fields(SearchHit)}
        return cls(**values, highlight=highlight)

    @property
    def highlighted_text(self) -> str:
        """The highlighted sentence itself."""
        return self.text[self.highlight[0] - self.start : self.highlight[1] - self.start]


@dataclass(frozen=True)
class Answer:
    """The answer to one question: a summary of the passages and the passages."""

    question: str
    summary: Summary
    passages: list[Passage]


def _overlap(query_syllables: set[str], sentence: str) -> int:
    """Number of distinct question syllables that occur in ``sentence``."""
    return len(query_syllables.intersection(syllables(sentence)))


def best_sentence(
    sentences: Sequence[str], similarities: np.ndarray, query_syllables: set[str]
) -> int:
    """Index of the sentence with the highest cosine; near-ties go to syllable overlap.

    Among sentences whose cosine is within ``_TIE_EPSILON`` of the best, the one
    sharing the most syllables with the question wins; then the earliest.
    """
    if not len(sentences):
        raise ValueError("no sentences to choose from")
    top = float(np.max(similarities))
    candidates = [i for i, s in enumerate(similarities) if float(s) >= top - _TIE_EPSILON]
    return max(candidates, key=lambda i: (_overlap(query_syllables, sentences[i]), -i))


class Answerer:
    """Retrieve, highlight and summarize over one :class:`ArticleIndex`."""

    def __init__(
        self,
        index: ArticleIndex,
        embedder: Embedder,
        summarizer: Summarizer,
        *,
        default_max_words: int = 80,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.summarizer = summarizer
        self.default_max_words = default_max_words

    # -- answering -----------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        max_words: int | None = None,
        mode: SearchMode = "hybrid",
    ) -> Answer:
        """Answer ``question`` from the index.

        Searches for ``top_k`` passages, highlights in each the sentence closest to
        the question, and summarizes the passages (joined by blank lines, in rank
        order) with the question in view. With no hits the summary says, in
        Vietnamese, that nothing relevant was found and ``passages`` is empty.
        """
        question = normalize(question).strip()
        if not question:
            raise ValueError("question must not be empty")
        words = max_words or self.default_max_words
        hits = self.index.search(question, top_k=top_k, filters=filters, mode=mode)
        if not hits:
            summary = Summary(
                text=NO_ANSWER_TEXT,
                method=self.summarizer.method,  # type: ignore[arg-type]
                model=self.summarizer.model_name,
            )
            return Answer(question=question, summary=summary, passages=[])

        passages = self.highlight(question, hits)
        # Passages in rank order; the summarizer joins them with blank lines.
        summary = self.summarizer.summarize_passages(
            [p.text for p in passages], question=question, max_words=words
        )
        return Answer(question=question, summary=summary, passages=passages)

    def retrieve(
        self,
        question: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        context: str | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Passage]:
        """Search for ``question`` and highlight; the first half of :meth:`answer`.

        With ``context`` (a chat follow-up folded into the conversation's earlier
        question), ``context`` picks the articles of the story and ``question`` ranks
        the passages inside them: the follow-up stays on the story without the
        earlier question deciding which passage comes first. Falls back to the
        ``context`` hits when the question finds nothing in those articles.
        """
        question = question.strip()
        if not question:
            raise ValueError("question must not be empty")
        if context and context.strip() != question:
            story = self.index.search(context, top_k=top_k, filters=filters, mode=mode)
            ids = list(dict.fromkeys(hit.article_id for hit in story))
            scoped = replace(filters or SearchFilters(), article_ids=ids) if ids else None
            hits = self.index.search(question, top_k=top_k, filters=scoped, mode=mode) or story
        else:
            hits = self.index.search(question, top_k=top_k, filters=filters, mode=mode)
        return self.highlight(question, hits) if hits else []

    def summarize_passages(
        self, question: str, passages: Sequence[Passage], max_words: int | None = None
    ) -> Summary:
        """The second half of :meth:`answer`: summarize ``passages`` with ``question`` in view."""
        if not passages:
            return self.no_answer()
        return self.summarizer.summarize_passages(
            [p.text for p in passages],
            question=question,
            max_words=max_words or self.default_max_words,
        )

    def stream_summary(
        self, question: str, passages: Sequence[Passage], max_words: int | None = None
    ) -> Iterator[str]:
        """Yield the summary of ``passages`` in pieces, as soon as each is available.

        A summarizer with ``stream_passages`` (seq2seq) yields tokens while it
        generates; any other (extractive) summary is computed, then yielded word by
        word (each piece after the first starts with its whitespace).
        """
        if not passages:
            yield from _pieces(NO_ANSWER_TEXT)
            return
        words = max_words or self.default_max_words
        texts = [p.text for p in passages]
        stream = getattr(self.summarizer, "stream_passages", None)
        if stream is not None:
            yield from stream(texts, question=question, max_words=words)
            return
        summary = self.summarizer.summarize_passages(texts, question=question, max_words=words)
        yield from _pieces(summary.text)

    def no_answer(self) -> Summary:
        """The summary returned when retrieval finds nothing."""
        return Summary(
            text=NO_ANSWER_TEXT,
            method=self.summarizer.method,  # type: ignore[arg-type]
            model=self.summarizer.model_name,
        )

    def highlight(self, question: str, hits: Sequence[SearchHit]) -> list[Passage]:
        """Attach to every hit the absolute span of its sentence that best matches.

        Sentences are scored by cosine between the question's query embedding and
        the sentences' passage embeddings (one batched call for all hits); near-ties
        are broken by syllable overlap with the question.
        """
        per_hit = [split_sentences(hit.text) for hit in hits]
        sentences = [
            span.of(hit.text) for hit, spans in zip(hits, per_hit, strict=True) for span in spans
        ]
        if sentences:
            query = self.embedder.embed_queries([question])[0]
            vectors = self.embedder.embed_passages(sentences)
            sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(query, dtype=np.float32)
        else:
            sims = np.zeros(0, dtype=np.float32)
        query_syllables = set(syllables(question))

        passages: list[Passage] = []
        offset = 0
        for hit, spans in zip(hits, per_hit, strict=True):
            if spans:
                window = slice(offset, offset + len(spans))
                best = spans[best_sentence(sentences[window], sims[window], query_syllables)]
                span = (hit.start + best.start, hit.start + best.end)
            else:  # a chunk without any sentence: highlight all of it
                span = (hit.start, hit.end)
            offset += len(spans)
            passages.append(Passage.from_hit(hit, span))
        return passages

    # -- summaries -----------------------------------------------------------------

    def summarize_text(self, text: str, max_words: int | None = None) -> Summary:
        """Summarize free ``text`` (no question in view)."""
        text = text.strip()
        if not text:
            raise ValueError("text must not be empty")
        return self.summarizer.summarize(text, max_words=max_words or self.default_max_words)

    def summarize_article(self, article_id: str, max_words: int | None = None) -> Summary:
        """Summarize a stored article; raises :class:`ArticleNotFoundError` if unknown."""
        article = self.index.get_article(article_id)
        if article is None:
            raise ArticleNotFoundError(article_id)
        # A headline on the first line steers sentence selection (+4.7 ROUGE-1 on VietNews).
        text = f"{article.title}\n{article.text}" if article.title else article.text
        return self.summarize_text(text, max_words)
