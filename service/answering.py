"""Question answering: retrieve passages, compose a cited answer, write it.

The :class:`Answerer` is the one place where retrieval, the answer composer
(:mod:`service.answer_composer`) and the summarizer meet. It is synchronous and
CPU-bound; the HTTP layer runs it in a worker thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Literal

from index.records import SearchFilters, SearchHit
from models.summarization.base import GenerativeSummarizer, Summary, with_headline
from models.vietnamese import normalize
from service.answer_composer import compose, is_list_question

if TYPE_CHECKING:
    from index.backends import SearchIndex
    from models.embedder_protocol import TextEmbedder as Embedder
    from models.summarization.base import Summarizer

logger = logging.getLogger(__name__)

NO_ANSWER_TEXT = (
    "Không tìm thấy thông tin liên quan đến câu hỏi trong các bài báo đã lưu. "
    "Hãy thử diễn đạt câu hỏi khác hoặc nạp thêm bài báo."
)
"""Summary text returned when retrieval finds nothing (Vietnamese: "nothing relevant found")."""

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


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """One sentence of an answer and where it comes from.

    ``passage`` indexes the answer's ``passages`` (0-based; the chat's ``[n]`` is
    ``passage + 1``); ``start``/``end`` are absolute offsets into the article text.
    """

    text: str
    passage: int
    article_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Draft:
    """An answer before its text is written: the passages and the chosen sentences.

    With an extractive summarizer the answer is ``sentences`` themselves; a seq2seq
    model reads them (not the whole passages) and writes the answer.
    """

    question: str
    passages: list[Passage]
    sentences: list[AnswerSentence]
    max_words: int


@dataclass(frozen=True)
class Answer:
    """The answer to one question: its text, the sentences it came from, the passages."""

    question: str
    summary: Summary
    passages: list[Passage]
    sentences: list[AnswerSentence] = field(default_factory=list)


class Answerer:
    """Retrieve, compose and write answers over one index (:class:`~index.backends.SearchIndex`).

    One pipeline serves every interface (``/v1/ask``, chat, MCP, CLI): :meth:`draft`
    normalizes the question once, searches, and lets the composer pick the sentences;
    :meth:`write` / :meth:`stream` turn a draft into text.
    """

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        summarizer: Summarizer,
        *,
        default_max_words: int = 80,
        list_max_words: int = 160,
        sentence_embedder: Embedder | None = None,
    ) -> None:
        """``sentence_embedder`` embeds passage sentences for the composer (e.g. a
        :class:`service.sentence_vectors.SentenceVectors` that remembers them);
        ``embedder`` by default."""
        self.index = index
        self.embedder = embedder
        self.sentence_embedder = sentence_embedder or embedder
        self.summarizer = summarizer
        self.default_max_words = default_max_words
        self.list_max_words = list_max_words

    # -- answering -----------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        max_words: int | None = None,
        mode: SearchMode = "hybrid",
        context: str | None = None,
    ) -> Answer:
        """Answer ``question`` from the index: :meth:`draft`, then :meth:`write`.

        With no hits the summary says, in Vietnamese, that nothing relevant was found
        and ``passages`` is empty.
        """
        draft = self.draft(
            question, top_k=top_k, filters=filters, max_words=max_words, mode=mode, context=context
        )
        return self.write(draft)

    def draft(
        self,
        question: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        max_words: int | None = None,
        mode: SearchMode = "hybrid",
        context: str | None = None,
    ) -> Draft:
        """Search for ``question`` and choose the sentences that answer it.

        With ``context`` (a chat follow-up folded into the conversation's earlier
        question), ``context`` picks the articles of the story and ``question`` ranks
        the passages inside them: the follow-up stays on the story without the
        earlier question deciding which passage comes first. Falls back to the
        ``context`` hits when the question finds nothing in those articles.

        ``max_words`` caps the answer; without it a factoid answer is capped by
        ``default_max_words`` and a list question ("yêu cầu gì", "vì sao") by
        ``list_max_words``, so its points fit.
        """
        question = normalize(question).strip()
        if not question:
            raise ValueError("question must not be empty")
        if context and normalize(context).strip() != question:
            story = self.index.search(context, top_k=top_k, filters=filters, mode=mode)
            ids = list(dict.fromkeys(hit.article_id for hit in story))
            scoped = replace(filters or SearchFilters(), article_ids=ids) if ids else None
            hits = self.index.search(question, top_k=top_k, filters=scoped, mode=mode) or story
        else:
            hits = self.index.search(question, top_k=top_k, filters=filters, mode=mode)
        words = max_words or (
            self.list_max_words if is_list_question(question) else self.default_max_words
        )
        if not hits:
            return Draft(question=question, passages=[], sentences=[], max_words=words)
        composition = compose(question, hits, self.sentence_embedder, max_words=words)
        passages = [
            Passage.from_hit(hit, span)
            for hit, span in zip(hits, composition.highlights, strict=True)
        ]
        sentences = [
            AnswerSentence(c.text, c.passage, c.article_id, c.start, c.end)
            for c in (composition.candidates[i] for i in composition.sentences)
        ]
        return Draft(question=question, passages=passages, sentences=sentences, max_words=words)

    def write(self, draft: Draft) -> Answer:
        """The answer's text: the chosen sentences (extractive), or a seq2seq model's
        answer written from them alone."""
        if not draft.passages:
            return Answer(question=draft.question, summary=self.no_answer(), passages=[])
        if self.summarizer.method == "abstractive":
            summary = self.summarizer.summarize_passages(
                [s.text for s in draft.sentences],
                question=draft.question,
                max_words=draft.max_words,
            )
        else:
            summary = Summary(
                text=" ".join(s.text for s in draft.sentences),
                method="extractive",
                model=self.summarizer.model_name,
            )
        return Answer(
            question=draft.question,
            summary=summary,
            passages=draft.passages,
            sentences=draft.sentences,
        )

    def stream(self, draft: Draft) -> Iterator[str]:
        """Yield the answer's text in pieces, as soon as each is available.

        A :class:`GenerativeSummarizer` (seq2seq) yields tokens while it
        generates from the chosen sentences; otherwise the sentences are yielded word
        by word (each piece after the first starts with its whitespace).
        """
        if not draft.passages:
            yield from _pieces(NO_ANSWER_TEXT)
            return
        if self.summarizer.method == "abstractive" and isinstance(
            self.summarizer, GenerativeSummarizer
        ):
            yield from self.summarizer.stream_passages(
                [s.text for s in draft.sentences],
                question=draft.question,
                max_words=draft.max_words,
            )
            return
        yield from _pieces(self.write(draft).summary.text)

    def close(self) -> None:
        """Release what the sentence embedder holds (its vector file)."""
        close = getattr(self.sentence_embedder, "close", None)
        if close is not None and self.sentence_embedder is not self.embedder:
            close()

    def no_answer(self) -> Summary:
        """The summary returned when retrieval finds nothing."""
        return Summary(
            text=NO_ANSWER_TEXT,
            method=self.summarizer.method,
            model=self.summarizer.model_name,
        )

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
        return self.summarize_text(with_headline(article.title, article.text), max_words)
