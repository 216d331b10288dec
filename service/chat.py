"""Chat turns into answers: the retrieval query of a conversation, inline citations,
the source list and token usage. Shared by the OpenAI-compatible route and MCP.

A chat answer's text is the answer with a ``[n]`` marker after every sentence that
comes from passage ``n`` (the composer's own citations: ``Answer.sentences``), then
a blank line and a source list (``Nguồn:``), one line
per cited passage: title, date, source (and URL when known). Passages are numbered
in rank order, the same order as the structured ``passages`` that travel with it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.summarization.base import GenerativeSummarizer
from models.vietnamese import count_syllables, syllables

if TYPE_CHECKING:
    from service.answering import AnswerSentence, Passage
    from service.runtime import Runtime

#: A follow-up this short ("còn về an ninh mạng thì sao?") leans on the previous question.
FOLLOW_UP_MAX_SYLLABLES = 12
#: Share of a summary sentence's syllables a passage must hold to be cited for it.
MIN_CITATION_OVERLAP = 0.5

_SENTENCE_END = tuple(".!?…")
_CLOSERS = "\"'”’»)]"


@dataclass(frozen=True)
class ChatMessage:
    """One turn: ``role`` is ``system``, ``user``, ``assistant`` (or ``tool``…)."""

    role: str
    content: str


def user_questions(messages: Sequence[ChatMessage]) -> list[str]:
    """The non-blank user turns, oldest first."""
    return [m.content.strip() for m in messages if m.role == "user" and m.content.strip()]


def retrieval_query(questions: Sequence[str]) -> str:
    """The story's search query: the latest question, with the one before it folded in
    when the latest is a short follow-up (at most ``FOLLOW_UP_MAX_SYLLABLES`` syllables).
    ``Answerer.draft(question, context=...)`` uses it to pick the articles.

    A short follow-up rarely names its subject ("còn về an ninh mạng thì sao?" after
    "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"); the earlier question supplies it.
    Longer questions stand on their own, so a change of topic is not dragged back.
    """
    if not questions:
        raise ValueError("no user question")
    latest = questions[-1]
    if len(questions) > 1 and count_syllables(latest) <= FOLLOW_UP_MAX_SYLLABLES:
        return f"{questions[-2]} {latest}"
    return latest


def cite(sentence: str, passages: Sequence[Passage]) -> int | None:
    """1-based number of the passage ``sentence`` comes from, or ``None``.

    A passage that contains the sentence verbatim wins (extractive summaries);
    otherwise the passage holding the largest share of the sentence's distinct
    syllables, if that share is at least ``MIN_CITATION_OVERLAP`` (abstractive).
    """
    flat = " ".join(sentence.split())
    if not flat:
        return None
    for number, passage in enumerate(passages, start=1):
        if flat in " ".join(passage.text.split()):
            return number
    wanted = set(syllables(flat))
    if not wanted:
        return None
    best, share = None, 0.0
    for number, passage in enumerate(passages, start=1):
        got = len(wanted.intersection(syllables(passage.text))) / len(wanted)
        if got > share:
            best, share = number, got
    return best if share >= MIN_CITATION_OVERLAP else None


def _flat(text: str) -> str:
    return " ".join(text.split())


class CitationMarker:
    """Add ``[n]`` after each sentence of an answer that arrives in pieces.

    :meth:`feed` returns the text to send for a piece (the piece, preceded by the
    marker of a sentence it closes); :meth:`finish` returns the marker of the last
    sentence. A sentence ends at ``.``, ``!``, ``?`` or ``…`` (and closing quotes)
    followed by whitespace, so decimal points ("3.5") and ``1.000`` don't split.

    With ``sentences`` (the composer's answer sentences), a finished sentence that is
    one of them, or part of one, is cited with that sentence's passage; anything else
    (a seq2seq model's own words) goes through :func:`cite`.
    """

    def __init__(
        self, passages: Sequence[Passage], sentences: Sequence[AnswerSentence] = ()
    ) -> None:
        self.passages = passages
        self.sources = [(_flat(s.text), s.passage + 1) for s in sentences]
        self.sentence = ""
        self.cited: list[int] = []

    def feed(self, piece: str) -> str:
        """Text to emit for ``piece``."""
        out = ""
        for char in piece:
            if char.isspace() and self._ends_sentence():
                out += self._marker()
            out += char
            self.sentence += char
        return out

    def finish(self) -> str:
        """The marker of the unfinished last sentence, if any."""
        return self._marker() if self.sentence.strip() else ""

    def _ends_sentence(self) -> bool:
        return self.sentence.rstrip(_CLOSERS).endswith(_SENTENCE_END)

    def _number(self, sentence: str) -> int | None:
        flat = _flat(sentence)
        if flat:
            for text, number in self.sources:
                if flat in text:
                    return number
        return cite(sentence, self.passages) if self.passages else None

    def _marker(self) -> str:
        number = self._number(self.sentence)
        self.sentence = ""
        if number is None:
            return ""
        if number not in self.cited:
            self.cited.append(number)
        return f" [{number}]"


def source_line(numbers: Sequence[int], passage: Passage) -> str:
    """``[1], [3] Title — 2025-11-27 — nghean.gov.vn — url`` (missing parts left out)."""
    parts = [passage.title or passage.article_id, passage.date, passage.source, passage.url]
    cited = ", ".join(f"[{n}]" for n in numbers)
    return f"{cited} " + " — ".join(p for p in parts if p)


def sources_block(passages: Sequence[Passage]) -> str:
    """The source list that follows the summary: one line per article, naming the
    numbers of its passages (empty without passages)."""
    if not passages:
        return ""
    numbers: dict[str, list[int]] = {}
    first: dict[str, Passage] = {}
    for number, passage in enumerate(passages, start=1):
        numbers.setdefault(passage.article_id, []).append(number)
        first.setdefault(passage.article_id, passage)
    lines = [f"- {source_line(numbers[a], first[a])}" for a in numbers]
    return "\n\nNguồn:\n" + "\n".join(lines)


def answer_pieces(
    summary_pieces: Iterator[str],
    passages: Sequence[Passage],
    sentences: Sequence[AnswerSentence] = (),
) -> Generator[str, None, None]:
    """The chat answer as text pieces: the answer with citations, then the sources."""
    marker = CitationMarker(passages, sentences)
    for piece in summary_pieces:
        out = marker.feed(piece)
        if out:
            yield out
    tail = marker.finish() + sources_block(passages)
    if tail:
        yield tail


class TokenCounter:
    """Counts tokens with the tokenizer of the model that did the work.

    The seq2seq summarizer's tokenizer when summaries are abstractive; otherwise
    the embedder's (multilingual-e5's SentencePiece), which read the question and
    passages. Counts are of the text alone: no prefix, no special tokens.
    """

    def __init__(self, runtime: Runtime) -> None:
        summarizer = runtime.summarizer
        self._count: Callable[[str], int]
        if isinstance(summarizer, GenerativeSummarizer):
            self.name = summarizer.model_name
            self._count = summarizer.count_tokens
        else:
            # Not count_tokens(text) - count_tokens(""): the prefix's trailing space is a
            # token of its own when nothing follows it, so that undercounts by one.
            self.name = runtime.embedder.name
            self._count = runtime.embedder.count_text_tokens

    def __call__(self, text: str) -> int:
        """Tokens in ``text``."""
        return self._count(text) if text else 0


@dataclass(frozen=True)
class Usage:
    """OpenAI-style token usage."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion."""
        return self.prompt_tokens + self.completion_tokens


def usage_for(
    counter: TokenCounter,
    messages: Sequence[ChatMessage],
    passages: Sequence[Passage],
    completion: str,
) -> Usage:
    """Prompt: every message's content plus the passages the summarizer read;
    completion: the answer text sent back."""
    prompt = sum(counter(m.content) for m in messages) + sum(counter(p.text) for p in passages)
    return Usage(prompt_tokens=prompt, completion_tokens=counter(completion))
