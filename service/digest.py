"""The news of a date range grouped into stories, with a summary per story.

Articles about the same event are found by embedding each article's title and lead
(:func:`story_text`) and grouping by average-linkage clustering on cosine similarity:
two groups merge while their articles' mean similarity is at least
``VNQA_DIGEST_SIMILARITY`` (measured by ``bench/digest.py``). Stories are ordered by
size, then by their newest article. Each story's summary is the article's stored
summary when it has one article, else a summary across its articles' summaries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from index.lead import lead_paragraph
from index.store import ArticleRow
from index.summary_store import StoredSummary, SummaryStore
from models.summarization.base import Method, Summary, truncate_words, with_headline

#: Syllables of the lead embedded with the title: enough to name the event.
LEAD_WORDS = 60


@dataclass(frozen=True, slots=True)
class DigestArticle:
    """One article of a story, with its stored summary (if any)."""

    article: ArticleRow
    summary: StoredSummary | None

    @property
    def day(self) -> str:
        """The article's date, or the day it was stored."""
        return self.article.date or self.article.created_at[:10]


@dataclass(frozen=True, slots=True)
class Story:
    """Articles about one event, the most central first, and their summary."""

    id: str
    articles: list[DigestArticle]
    summary: Summary | None

    @property
    def newest(self) -> str:
        """The newest article's day."""
        return max(a.day for a in self.articles)

    @property
    def headline(self) -> str:
        """The most central article's title."""
        return self.articles[0].article.title or self.articles[0].article.id


@dataclass(frozen=True, slots=True)
class Digest:
    """The stories of a date range (and sources)."""

    date_from: str
    date_to: str
    sources: list[str] | None
    stories: list[Story]
    articles: int
    truncated: bool  # more articles matched than one digest groups


def story_text(article: ArticleRow) -> str:
    """What is embedded to compare articles: the title and the start of the lead."""
    lead = truncate_words(lead_paragraph(article.text) or "", LEAD_WORDS)
    return f"{article.title}. {lead}" if article.title else lead


def group_by_similarity(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Indices of ``vectors`` (L2-normalized rows) grouped by average-linkage clustering:
    groups merge while their mean cosine similarity is at least ``threshold``."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    similarity = np.clip(vectors @ vectors.T, -1.0, 1.0)
    distance = 1.0 - similarity
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2  # exact symmetry for squareform
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


def _central_first(members: list[int], vectors: np.ndarray) -> list[int]:
    if len(members) < 3:
        return members
    block = vectors[members]
    centrality = block @ block.mean(axis=0)
    return [members[i] for i in np.argsort(-centrality, kind="stable")]


def _story_id(members: Sequence[DigestArticle]) -> str:
    ids = sorted(a.article.id for a in members)
    return "story-" + hashlib.sha256("\x1f".join(ids).encode()).hexdigest()[:12]


def _story_summary(members: list[DigestArticle], summarizer: Any, max_words: int) -> Summary | None:
    stored = [
        m.summary
        for m in members
        if m.summary is not None and m.summary.text and m.summary.status in ("ready", "stale")
    ]
    if len(members) == 1 and stored:
        first = stored[0]
        method: Method = "abstractive" if first.method == "abstractive" else "extractive"
        return Summary(text=first.text or "", method=method, model=first.model or "")
    # Across articles: their stored summaries, or their leads where none is ready yet.
    pieces = []
    for m in members:
        made = m.summary
        if made is not None and made.text and made.status in ("ready", "stale"):
            pieces.append(made.text)
        else:
            pieces.append(
                with_headline(m.article.title, lead_paragraph(m.article.text) or m.article.text)
            )
    summary = summarizer.summarize_passages(pieces, max_words=max_words)
    return summary if summary.text.strip() else None


def default_window(date_from: str | None, date_to: str | None, days: int) -> tuple[str, str]:
    """The range asked for; without one, the ``days`` days up to today (UTC)."""
    end = date_to or date.today().isoformat()
    start = date_from or (date.fromisoformat(end[:10]) - timedelta(days=days - 1)).isoformat()
    return start, end


def build_digest(
    store: SummaryStore,
    embedder: Any,
    summarizer: Any,
    *,
    date_from: str,
    date_to: str,
    sources: list[str] | None = None,
    threshold: float,
    max_articles: int,
    max_words: int,
    max_stories: int | None = None,
) -> Digest:
    """Group the articles of ``[date_from, date_to]`` (and ``sources``) into stories."""
    rows = store.window(
        date_from=date_from, date_to=date_to, sources=sources, limit=max_articles + 1
    )
    truncated = len(rows) > max_articles
    items = [DigestArticle(a, s) for a, s in rows[:max_articles]]
    if not items:
        return Digest(date_from, date_to, sources, [], 0, False)
    vectors = np.asarray(
        embedder.embed_passages([story_text(i.article) for i in items]), dtype=np.float32
    )
    groups = [_central_first(g, vectors) for g in group_by_similarity(vectors, threshold)]
    # Biggest first, then newest; the order of the input (newest first) breaks ties.
    groups.sort(key=lambda g: (-len(g), _negated_day(max(items[i].day for i in g)), min(g)))
    if max_stories is not None:
        groups = groups[:max_stories]
    stories = []
    for group in groups:
        members = [items[i] for i in group]
        stories.append(
            Story(_story_id(members), members, _story_summary(members, summarizer, max_words))
        )
    return Digest(date_from, date_to, sources, stories, len(items), truncated)


def _negated_day(day: str) -> tuple[int, ...]:
    """A sort key that puts later ISO days first."""
    return tuple(-ord(ch) for ch in day)
