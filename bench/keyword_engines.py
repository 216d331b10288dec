"""Keyword-index candidates side by side: SQLite FTS5, tantivy, and the bm25s rebuild.

    .venv/bin/python bench/keyword_engines.py --chunks 20000

Chunks are VietNews dev2k sentences recombined (as in ``bench/scaling.py``); each engine
indexes the same analysed terms (syllables + syllable pairs, accented and folded
fields), and 100 dev summaries are asked as OR queries over the main field with BM25
ranking (FTS5: ``bm25()`` with per-column weights; tantivy: its BM25 with block-max
WAND top-k). Printed: build rate, bytes per chunk, query p50/p95, and the cost of one
more chunk (FTS5: one insert transaction; tantivy: add + commit + reader reload;
bm25s: a full rebuild, as the old engine did).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import perfkit  # noqa: E402
from quality_data import load_vietnews  # noqa: E402
from scaling import DEV2K, _split  # noqa: E402

from index.keywords import KeywordIndex, fold, terms  # noqa: E402
from index.sparse import SparseIndex  # noqa: E402
from models.vietnamese import syllables  # noqa: E402


def _chunks(n: int) -> tuple[list[str], list[str]]:
    rows = load_vietnews(path=DEV2K)
    rng = np.random.default_rng(0)
    per_article = [_split(r["body"]) for r in rows]
    per_article = [s for s in per_article if len(s) >= 3]
    texts = []
    while len(texts) < n:
        sentences = per_article[rng.integers(len(per_article))]
        start = int(rng.integers(len(sentences)))
        texts.append(" ".join(sentences[start : start + int(rng.integers(3, 6))]))
    return texts, [r["summary"] for r in rows[:100]]


def _latency(fn, queries: list[str]) -> tuple[float, float]:
    lat = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        lat.append((time.perf_counter() - t) * 1000)
    return perfkit.percentile(lat, 50), perfkit.percentile(lat, 95)


def fts5(texts: list[str], queries: list[str], folder: Path) -> None:
    """SQLite FTS5, contentless, pre-analysed terms (the ascii tokenizer splits on spaces)."""

    def analyse(text: str, folded: bool) -> str:
        syls = syllables(text)
        return " ".join(terms([fold(s) for s in syls] if folded else syls, True))

    db = sqlite3.connect(folder / "fts.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE VIRTUAL TABLE k USING fts5(m, f, content='', tokenize=\"ascii tokenchars '_'\")"
    )
    rows = [(i, analyse(t, False), analyse(t, True)) for i, t in enumerate(texts)]
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO k(rowid, m, f) VALUES (?, ?, ?)", rows)
    db.execute("COMMIT")
    build = time.perf_counter() - started

    def search(q: str) -> list:
        words = sorted(set(analyse(q, False).split()))
        expr = "{m} : (" + " OR ".join('"' + w.replace('"', '""') + '"' for w in words) + ")"
        return db.execute(
            "SELECT rowid, bm25(k, 1.0, 0.0) AS s FROM k WHERE k MATCH ? ORDER BY s LIMIT 40",
            (expr,),
        ).fetchall()

    p50, p95 = _latency(search, queries)
    started = time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO k(rowid, m, f) VALUES (?, ?, ?)", (len(texts), *rows[0][1:]))
    db.execute("COMMIT")
    one = time.perf_counter() - started
    size = (folder / "fts.db").stat().st_size
    print(
        f"| SQLite FTS5 | {len(texts) / build:,.0f} | {size / len(texts):,.0f} | "
        f"{p50:.1f} / {p95:.1f} | {one * 1000:.0f} ms (insert, commit) |",
        flush=True,
    )


def tantivy_index(texts: list[str], queries: list[str], folder: Path) -> None:
    """vnqa's KeywordIndex (tantivy)."""
    index = KeywordIndex(folder / "tantivy")
    started = time.perf_counter()
    index.rebuild(enumerate(texts), 1)
    build = time.perf_counter() - started
    p50, p95 = _latency(lambda q: index.search(q, 40), queries)
    started = time.perf_counter()
    index.write([], [(len(texts), texts[0])], 2)
    one = time.perf_counter() - started
    index.close()
    size = perfkit.dir_bytes(folder / "tantivy")
    print(
        f"| tantivy (KeywordIndex) | {len(texts) / build:,.0f} (analysis included) | "
        f"{size / len(texts):,.0f} | {p50:.1f} / {p95:.1f} | {one * 1000:.0f} ms "
        "(add, commit, reload) |",
        flush=True,
    )


def bm25s_index(texts: list[str], queries: list[str]) -> None:
    """The previous engine: bm25s in memory, rebuilt whole on every write."""
    index = SparseIndex()
    started = time.perf_counter()
    index.rebuild(list(range(len(texts))), texts)
    build = time.perf_counter() - started
    p50, p95 = _latency(lambda q: index.search(q, 40), queries)
    print(
        f"| bm25s (old) | {len(texts) / build:,.0f} (analysis included) | in memory | "
        f"{p50:.1f} / {p95:.1f} | {build * 1000:,.0f} ms (full rebuild) |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Build each engine over the same chunks and print one table row each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    args = parser.parse_args(argv)
    texts, queries = _chunks(args.chunks)
    print(f"{len(texts):,} chunks, {len(queries)} queries")
    print("| engine | build chunks/s | bytes/chunk | query p50 / p95 ms | one more chunk |")
    print("|---|---|---|---|---|", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="vnqa-kw-"))
    try:
        fts5(texts, queries, folder)
        tantivy_index(texts, queries, folder)
        bm25s_index(texts, queries)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
