"""Shared pieces of the speed benchmarks: corpora of a given size, memory and disk figures.

Corpora come from VietNews dev (300 articles, ~1,800 chunks of ≤120 syllables). Larger
ones are synthesized: copy ``r`` of an article keeps its sentences but in an order
shuffled with seed ``r`` (vnqa's sentence splitter, so no sentence is altered) and gets
the id ``<id>~r<r>``. Chunks of a copy pair sentences differently, so chunk texts are
new, but the vocabulary is the article's own: the copies measure cost (embedding,
index and search time, memory, disk), not retrieval quality, and near-duplicates make
known-item Hit@1 meaningless beyond the original articles.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from quality_data import VIETNEWS, load_vietnews, require_data

from index.chunking import chunk_article
from index.documents import Article
from models.vietnamese import split_sentences

__all__ = [
    "CorpusChunk",
    "build_corpus",
    "dir_bytes",
    "peak_rss_bytes",
    "percentile",
    "read_jsonl",
    "require_vietnews",
    "rss_bytes",
    "write_jsonl",
]


@dataclass(frozen=True)
class CorpusChunk:
    """One chunk as vnqa's chunker cuts it; ``id`` is ``<article id>#<position>``."""

    id: str
    article_id: str
    text: str


def require_vietnews() -> None:
    """Exit with a clear message when VietNews dev is absent."""
    require_data(VIETNEWS)


def _shuffled(article: dict, copy: int) -> dict:
    """``article`` with its sentences in an order shuffled by seed ``copy``, new id."""
    body = article["body"]
    sentences = [body[s.start : s.end] for s in split_sentences(body)]
    random.Random(copy).shuffle(sentences)
    return {**article, "id": f"{article['id']}~r{copy}", "body": " ".join(sentences)}


def _articles(base: list[dict]) -> Iterator[dict]:
    yield from base
    copy = 1
    while True:
        for article in base:
            yield _shuffled(article, copy)
        copy += 1


def build_corpus(
    n_chunks: int | None,
    *,
    max_syllables: int,
    overlap_sentences: int,
    limit_articles: int | None = None,
) -> tuple[list[Article], list[CorpusChunk], list[dict]]:
    """Articles, their chunks (vnqa's chunker) and the original dev rows used.

    ``n_chunks=None`` takes the dev articles as they are (``limit_articles`` of them);
    otherwise articles (then shuffled copies) are added until ``n_chunks`` chunks exist
    (so a few more than ``n_chunks``: whole articles, as vnqa ingests them).
    """
    base = load_vietnews(limit_articles)
    articles: list[Article] = []
    chunks: list[CorpusChunk] = []
    source = iter(base) if n_chunks is None else _articles(base)
    for row in source:
        article = Article(id=row["id"], text=row["body"], title=row.get("title"))
        pieces = chunk_article(
            article, max_syllables=max_syllables, overlap_sentences=overlap_sentences
        )
        articles.append(article)
        chunks.extend(CorpusChunk(f"{article.id}#{c.position}", article.id, c.text) for c in pieces)
        if n_chunks is not None and len(chunks) >= n_chunks:
            break
    used = {a.id for a in articles}
    originals = [row for row in base if row["id"] in used]
    return articles, chunks, originals


def write_jsonl(path: Path, rows: Sequence) -> None:
    """Write dataclasses or dicts as JSON Lines."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            data = asdict(row) if hasattr(row, "__dataclass_fields__") else row
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _status_kb(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM)."""
    return _status_kb("VmHWM") * 1024


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of ``pid`` now (VmRSS)."""
    return _status_kb("VmRSS", pid) * 1024


def dir_bytes(path: Path) -> int:
    """Total size of the regular files under ``path``."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            p = Path(root) / name
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
    return total


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linear interpolation."""
    return float(np.percentile(values, q)) if len(values) else float("nan")
