"""How vnqa holds a news archive: the curve at 10k, 100k and 1M chunks.

    .venv/bin/python bench/scaling.py                       # 10k, 100k, 1M (~30 min loaded)
    .venv/bin/python bench/scaling.py --sizes 10000 100000  # a shorter curve
    .venv/bin/python bench/scaling.py --chart-only          # redraw the PNG from the JSON

**Text.** Chunks are VietNews dev2k sentences recombined: each chunk takes sentences of
one dev article, shuffled, until it holds 60-120 syllables, so the vocabulary and BM25
statistics are those of real news; five chunks make one article (its text is the chunks
joined, their offsets exact). Sentences are split at end punctuation before a capital
(the product's splitter would take about an hour over dev2k on a shared 2-core CPU).

**Vectors.** ``--sentences-per-article`` sentences of each of ``--vector-articles`` dev
articles are embedded with the real model (passage side). A chunk's vector (the "fast
fill") is the normalized sum of 2-5 real sentence vectors of one of those articles plus
a little Gaussian noise: real geometry, recombined the way chunks recombine sentences.
``--real-sample`` chunks are embedded whole with the real model (their text and vector
go into the corpus among its first 10k chunks), which also measures the model's
passage rate. Queries (dev summaries) are real query vectors. With ``--vector-cache``
(the sentence vectors ``bench/dense_recall.py`` embeds and caches: 27,000 of them from
~1,990 articles in docs/benchmarks.md) the fill draws from every cached sentence, grouped
by article, instead of 12 sentences of 60 articles: far fewer near-duplicates.
The fill is vectorized (a million vectors in seconds of CPU).

**Build.** Embedding a million chunks on a 2-core CPU would take days, so each size is
built through the bulk paths of the components the server opens, not over HTTP: the
store (``ArticleStore.replace_articles``, 2,000 articles a transaction), the vectors
(``DenseIndex``: trained on a sample, then filled) and the keyword index
(``KeywordIndex.rebuild``), all recording the store generation so the server opens
them without any catch-up. Recall@10 of the approximate vector index against exact
search (a brute-force scan of the same vectors) is measured there, on the real query
vectors, for several ``nprobe``.

**Probe.** A separate process then opens the index as the server does
(``service.runtime.open_index`` with the real embedder) and measures: opening time,
hybrid search p50/p95 over the queries (query embedding included), single-article
writes (``ArticleIndex.add_articles`` of one held-out dev article: chunking, embedding,
SQLite commit, FAISS, keyword commit; the HTTP layer adds a few ms on top) and whether
that article is found by keyword and by dense search (its opening 300 characters as the
query) right after the write returns (a keyword search of its title is recorded too: a
ranking test), what the periodic save of the vector file costs, and the process's RSS
(current and peak). Disk is the index folder's size. ``--lock`` runs each probe under
an exclusive ``flock`` (quiet timings); ``--merge`` keeps other sizes already in
``--out``; ``--reprobe`` probes ``--keep`` builds again.

Results go to ``--out`` (JSON) and the chart to ``--chart`` (PNG), drawn from the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import perfkit  # noqa: E402
from quality_data import VIETNEWS, load_vietnews  # noqa: E402

from index.dense import DenseIndex, ivf_lists, training_sample  # noqa: E402
from index.documents import Article  # noqa: E402
from index.keywords import KeywordIndex  # noqa: E402
from index.records import DB_FILE, DENSE_FILE, KEYWORDS_DIR  # noqa: E402
from index.store import ArticleStore, NewArticle, NewChunk  # noqa: E402
from models.vietnamese import count_syllables  # noqa: E402
from service.core.config import Settings  # noqa: E402

MODELS_DIR = Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")).resolve()
DEV2K = VIETNEWS.parent / "vietnews-dev2k.jsonl"
CHUNKS_PER_ARTICLE = 5
HELD_OUT = 6  # dev articles kept out of the corpus, written one at a time by the probe
_FILL_NOISE = 0.02  # per-dimension noise on a fill vector (before renormalizing)


# -- corpus ------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“'(]?[A-ZÀ-Ỹ0-9Đ])")


def _split(body: str) -> list[str]:
    """Sentences by end punctuation before a capital (a fast stand-in for the product's
    splitter, which would take an hour over dev2k on a shared 2-core CPU)."""
    return [s.strip() for s in _SENTENCE_END.split(body) if count_syllables(s) >= 3]


class Corpus:
    """Dev sentences, real vectors of a sample of them, and chunks recombined from them."""

    def __init__(
        self,
        rows: list[dict],
        embedder,
        vector_articles: int,
        sentences_per_article: int,
        cached: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.sentences: list[str] = []
        self.by_article: list[np.ndarray] = []  # sentence ids per dev article
        for row in rows:
            ids = []
            for text in _split(row["body"]):
                ids.append(len(self.sentences))
                self.sentences.append(text)
            if len(ids) >= 2:
                self.by_article.append(np.asarray(ids, dtype=np.int64))
        self.syllables = np.asarray([count_syllables(s) for s in self.sentences])
        if cached is not None:  # every cached sentence vector, grouped by its article
            self.vectors, article_of = cached
            self.vector_groups = [
                rows_of
                for rows_of in np.split(
                    np.argsort(article_of, kind="stable"),
                    np.flatnonzero(np.diff(np.sort(article_of))) + 1,
                )
                if len(rows_of) >= 2
            ]
            self.sentence_s, self.embedded = 0.0, len(self.vectors)
            return
        rng = np.random.default_rng(0)
        groups = [
            rng.permutation(ids)[:sentences_per_article]
            for ids in self.by_article[:vector_articles]
        ]
        embedded = np.concatenate(groups)
        started = time.perf_counter()
        self.vectors = embedder.embed_passages([self.sentences[i] for i in embedded], batch_size=32)
        self.sentence_s = time.perf_counter() - started
        self.embedded = len(embedded)
        at = np.cumsum([0] + [len(g) for g in groups])
        self.vector_groups = [np.arange(at[i], at[i + 1]) for i in range(len(groups))]

    def chunks(self, n: int, seed: int = 0) -> list[str]:
        """``n`` chunk texts: sentences of one dev article, shuffled, 60-120 syllables."""
        rng = random.Random(seed)
        texts = []
        while len(texts) < n:
            order = list(rng.choice(self.by_article))
            rng.shuffle(order)
            picked, total = [], 0
            for sid in order:
                if total >= 60 or (picked and total + self.syllables[sid] > 120):
                    break
                picked.append(sid)
                total += int(self.syllables[sid])
            texts.append(" ".join(self.sentences[s] for s in picked))
        return texts

    def fill(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` fill vectors: each the normalized sum of 2-5 real sentence vectors of one
        embedded article, plus noise (a chunk-like mix of real vectors). Vectorized in
        blocks: a million of them take seconds."""
        rng = np.random.default_rng(seed)
        width = max(len(g) for g in self.vector_groups)
        members = np.full((len(self.vector_groups), width), -1, dtype=np.int64)
        for row, group in enumerate(self.vector_groups):
            members[row, : len(group)] = group
        sizes = (members >= 0).sum(axis=1)
        out = np.empty((n, self.vectors.shape[1]), dtype=np.float32)
        for start in range(0, n, 50_000):
            m = min(50_000, n - start)
            groups = rng.integers(len(members), size=m)
            picks = np.minimum(rng.integers(2, 6, size=m), sizes[groups])
            keys = rng.random((m, width))
            keys[members[groups] < 0] = np.inf  # padding sorts last
            order = np.argsort(keys, axis=1)
            chosen = np.take_along_axis(members[groups], order, axis=1)
            block = np.zeros((m, self.vectors.shape[1]), dtype=np.float32)
            for j in range(int(picks.max())):
                use = picks > j
                block[use] += self.vectors[chosen[use, j]]
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            block += rng.standard_normal(block.shape, dtype=np.float32) * _FILL_NOISE
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            out[start : start + m] = block
        return out


def _articles(texts: list[str]) -> list[NewArticle]:
    """Five chunks per article; the article text is the chunks joined by blank lines."""
    out = []
    for a in range(0, len(texts), CHUNKS_PER_ARTICLE):
        chunks, cursor, pieces = [], 0, texts[a : a + CHUNKS_PER_ARTICLE]
        for position, text in enumerate(pieces):
            chunks.append(NewChunk(position, cursor, cursor + len(text), text))
            cursor += len(text) + 2
        out.append(
            NewArticle(
                f"arc-{a // CHUNKS_PER_ARTICLE:07d}",
                None,
                "\n\n".join(pieces),
                None,
                "scaling",
                None,
                None,
                chunks,
            )
        )
    return out


# -- build -------------------------------------------------------------------------------
def build(
    n: int,
    corpus: Corpus,
    real: dict[int, tuple[str, np.ndarray]],
    settings: Settings,
    index_dir: Path,
    query_vectors: np.ndarray,
    nprobes: list[int],
) -> dict:
    """Build an index of ``n`` chunks in ``index_dir`` through the bulk paths."""
    texts = corpus.chunks(n)
    vectors = corpus.fill(n)
    for i, (text, vector) in real.items():
        if i < n:
            texts[i], vectors[i] = text, vector
    out: dict = {"chunks": n}
    index_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    store = ArticleStore(index_dir / DB_FILE)
    ids: list[int] = []
    articles = _articles(texts)
    for g in range(0, len(articles), 2000):
        new_ids, _, _ = store.replace_articles(articles[g : g + 2000])
        ids.extend(i for group in new_ids for i in group)
    generation = store.generation()
    store.close()
    out["store_s"] = time.perf_counter() - started
    keys = np.asarray(ids, dtype=np.int64)

    started = time.perf_counter()
    dense = DenseIndex(
        vectors.shape[1],
        exact_max=settings.exact_search_max,
        nprobe=settings.ivf_nprobe,
        codec=settings.ivf_codec,
        auto_fit=False,
    )
    if n > settings.exact_search_max:
        dense.start_refit()
        fresh = dense.empty_structure(n, training_sample(vectors, ivf_lists(n)))
        fresh.add_with_ids(vectors, keys)
        dense.finish_refit(fresh)
        del fresh
    else:
        dense.add(keys, vectors)
    out["dense_build_s"] = time.perf_counter() - started
    out["dense_structure"] = (
        "exact" if dense.is_exact else f"IVF{ivf_lists(n)},{settings.ivf_codec}"
    )
    out["recall_at_10"] = _recall(dense, keys, vectors, query_vectors, nprobes, settings)
    dense.save(index_dir / DENSE_FILE, generation)
    del dense

    started = time.perf_counter()
    keywords = KeywordIndex(
        index_dir / KEYWORDS_DIR, bigrams=settings.bm25_bigrams, folded=settings.bm25_folded
    )
    keywords.rebuild(zip(ids, texts, strict=True), generation)
    keywords.close()
    out["keywords_build_s"] = time.perf_counter() - started
    out["keyword_docs_per_s"] = n / out["keywords_build_s"]
    return out


def _recall(
    dense: DenseIndex,
    keys: np.ndarray,
    vectors: np.ndarray,
    queries: np.ndarray,
    nprobes: list[int],
    settings: Settings,
) -> dict[str, float]:
    """Recall@10 of ``dense`` against a brute-force scan, per nprobe (1.0 when exact)."""
    if dense.is_exact:
        return {"exact": 1.0}
    truth = [set(keys[top].tolist()) for top in exact_top(vectors, queries, 10)]
    found = {}
    for nprobe in nprobes:
        dense._index.nprobe = nprobe
        got = [
            len({i for i, _ in dense.search(q, 10)} & t) / 10
            for q, t in zip(queries, truth, strict=True)
        ]
        found[str(nprobe)] = float(np.mean(got))
    dense._index.nprobe = settings.ivf_nprobe
    return found


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each query's ``k`` nearest ``vectors`` (inner product), by a
    brute-force scan in blocks (a million rows: seconds, little memory)."""
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(vectors), 100_000):
        scores = queries @ vectors[start : start + 100_000].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_rows = np.concatenate([best_rows, top + start], axis=1)
        best_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_rows = np.take_along_axis(best_rows, keep, 1)
        best_scores = np.take_along_axis(best_scores, keep, 1)
    return best_rows


# -- probe (a separate process, as the server would be) ------------------------------------
def _save_parts(index: Any) -> dict:
    """Where a vector-file save's time goes: cloning FAISS (what the write that finds
    the save due pays since it runs in the background), serializing, writing, fsync."""
    import faiss

    t = time.perf_counter()
    clone = faiss.clone_index(index._dense._index)
    clone_s = time.perf_counter() - t
    del clone
    t = time.perf_counter()
    image = faiss.serialize_index(index._dense._index)
    serialize_s = time.perf_counter() - t
    fd, name = tempfile.mkstemp(dir=index.directory, prefix=".probe.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            t = time.perf_counter()
            handle.write(memoryview(image))
            handle.flush()
            write_s = time.perf_counter() - t
            t = time.perf_counter()
            os.fsync(handle.fileno())
            fsync_s = time.perf_counter() - t
    finally:
        os.unlink(name)
    return {
        "save_clone_s": clone_s,
        "save_serialize_s": serialize_s,
        "save_write_s": write_s,
        "save_fsync_s": fsync_s,
    }


def probe(data_dir: Path, queries: list[str], held_out: list[dict], backend: str | None) -> dict:
    """Open the index like the server, time searches and single-article writes."""
    from service.runtime import load_embedder_from, open_index

    overrides = {"embedding_backend": backend} if backend else {}
    settings = Settings(models_dir=MODELS_DIR, data_dir=data_dir, **overrides)
    embedder = _Timed(load_embedder_from(settings))
    rss_model = perfkit.rss_bytes()
    started = time.perf_counter()
    index = open_index(settings, embedder)
    open_s = time.perf_counter() - started
    try:
        for q in queries[:5]:
            index.search(q, top_k=5)
        lat = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, top_k=5)
            lat.append((time.perf_counter() - t) * 1000)
        by_mode: dict[str, list[float]] = {"bm25": [], "dense": [], "embed": []}
        for q in queries[:100]:
            for mode in ("bm25", "dense"):
                t = time.perf_counter()
                index.search(q, top_k=5, mode=mode)
                by_mode[mode].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            embedder.embed_queries([q])
            by_mode["embed"].append((time.perf_counter() - t) * 1000)
        warm = held_out[0]  # the first write loads the sentence splitter: not timed
        index.add_articles([Article(id="warm-up", title=warm.get("title"), text=warm["body"])])
        writes = []
        for row in held_out[1:]:
            article = Article(id=f"new-{row['id']}", title=row.get("title"), text=row["body"])
            embedder.passage_s = 0.0
            t = time.perf_counter()
            index.add_articles([article])
            ack = time.perf_counter() - t
            embed_s = embedder.passage_s
            t = time.perf_counter()
            kw = index.search(row["body"][:300], top_k=10, mode="bm25")  # its own words
            kw_s = time.perf_counter() - t
            by_title = index.search(row["title"], top_k=10, mode="bm25")  # a ranking test
            t = time.perf_counter()
            dn = index.search(row["body"][:300], top_k=10, mode="dense")
            dn_s = time.perf_counter() - t
            writes.append(
                {
                    "ack_s": ack,
                    "embed_s": embed_s,
                    "index_side_s": ack - embed_s,
                    "found_keyword": any(h.article_id == article.id for h in kw),
                    "found_keyword_by_title": any(h.article_id == article.id for h in by_title),
                    "found_dense": any(h.article_id == article.id for h in dn),
                    "keyword_found_after_s": ack + kw_s,
                    "dense_found_after_s": ack + dn_s,
                }
            )
        rss = perfkit.rss_bytes()
        # Past the exact threshold the vector file is saved at most once a minute, by
        # the write that finds it due: that write's acknowledgement, and when the save
        # it started (in the background since issue 12's second round) was on disk.
        row = held_out[1]
        index._last_save = -float("inf")  # due now
        t = time.perf_counter()
        index.add_articles(
            [Article(id=f"due-{row['id']}", title=row.get("title"), text=row["body"])]
        )
        save_write_ack_s = time.perf_counter() - t
        # The next write, at once: since issue 12's fourth round the saver thread copies
        # the index under a read hold after the due write, and a write meanwhile waits.
        row = held_out[2]
        embedder.passage_s = 0.0
        t_next = time.perf_counter()
        index.add_articles(
            [Article(id=f"after-due-{row['id']}", title=row.get("title"), text=row["body"])]
        )
        next_write_ack_s = time.perf_counter() - t_next
        next_write_embed_s = embedder.passage_s
        index.settle()
        save_write_done_s = time.perf_counter() - t
        t = time.perf_counter()
        index._save_dense()  # the whole save, in the caller
        save_s = time.perf_counter() - t
        peak_rss = perfkit.peak_rss_bytes()  # before the breakdown's in-memory copies
        save_parts = _save_parts(index)
    finally:
        index.close()
    return {
        "dense_save_s": save_s,
        **save_parts,
        "save_write_ack_s": save_write_ack_s,
        "save_next_write_ack_s": next_write_ack_s,
        "save_next_write_embed_s": next_write_embed_s,
        "save_write_on_disk_s": save_write_done_s,
        "open_s": open_s,
        "hybrid_p50_ms": perfkit.percentile(lat, 50),
        "hybrid_p95_ms": perfkit.percentile(lat, 95),
        "keyword_p50_ms": perfkit.percentile(by_mode["bm25"], 50),
        "dense_p50_ms": perfkit.percentile(by_mode["dense"], 50),
        "query_embed_p50_ms": perfkit.percentile(by_mode["embed"], 50),
        "nprobe": settings.ivf_nprobe,
        "writes": writes,
        "post_ack_s_median": float(np.median([w["ack_s"] for w in writes])),
        "post_ack_s_max": float(max(w["ack_s"] for w in writes)),
        "post_index_side_s_median": float(np.median([w["index_side_s"] for w in writes])),
        "post_index_side_s_max": float(max(w["index_side_s"] for w in writes)),
        "found_keyword": all(w["found_keyword"] for w in writes),
        "found_dense": all(w["found_dense"] for w in writes),
        "rss_bytes": rss,
        "peak_rss_bytes": peak_rss,
        "rss_model_only_bytes": rss_model,
    }


class _Timed:
    """Wraps an embedder and adds up the time spent embedding passages."""

    def __init__(self, inner) -> None:
        self._inner, self.passage_s = inner, 0.0
        self.name, self.dimension, self.fingerprint = inner.name, inner.dimension, inner.fingerprint

    def embed_queries(self, texts):
        """The wrapped embedder's query vectors."""
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts, *, batch_size: int = 32, show_progress: bool = False):
        """The wrapped embedder's passage vectors, timed."""
        started = time.perf_counter()
        try:
            return self._inner.embed_passages(texts, batch_size=batch_size)
        finally:
            self.passage_s += time.perf_counter() - started


# -- chart -------------------------------------------------------------------------------
def chart(results: list[dict], path: Path) -> None:
    """Draw the curve (latency, write, memory/disk, recall) from the JSON results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["chunks"] for r in results]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    ax = axes[0]
    ax.plot(n, [r["hybrid_p50_ms"] for r in results], "o-", label="p50")
    ax.plot(n, [r["hybrid_p95_ms"] for r in results], "s-", label="p95")
    ax.axhline(50, color="C0", ls=":", lw=1)
    ax.axhline(150, color="C1", ls=":", lw=1)
    ax.set_title("hybrid search (ms)")
    ax = axes[1]
    ax.plot(n, [r["post_ack_s_median"] for r in results], "o-", label="acknowledged (median)")
    ax.plot(n, [r["post_index_side_s_median"] for r in results], "o:", label="of which index side")
    ax.plot(
        n,
        [np.median([w["keyword_found_after_s"] for w in r["writes"]]) for r in results],
        "s--",
        label="found by keyword",
    )
    ax.plot(
        n,
        [np.median([w["dense_found_after_s"] for w in r["writes"]]) for r in results],
        "^--",
        label="found by dense",
    )
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    ax.set_title("one-article write (s)")
    ax = axes[2]
    ax.plot(n, [r["rss_bytes"] / 2**30 for r in results], "o-", label="server RSS")
    ax.plot(n, [r["disk_bytes"] / 2**30 for r in results], "s-", label="disk")
    ax.axhline(4.0, color="C0", ls=":", lw=1)
    ax.set_title("GiB")
    ax = axes[3]
    for key in sorted({k for r in results for k in r["recall_at_10"] if k != "exact"}, key=int):
        ax.plot(n, [r["recall_at_10"].get(key, 1.0) for r in results], "o-", label=f"nprobe {key}")
    ax.axhline(0.95, color="grey", ls=":", lw=1)
    ax.set_title("dense recall@10 vs exact")
    if not ax.get_legend_handles_labels()[0]:
        ax.plot(n, [1.0] * len(n), "o-", label="exact")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(results: list[dict]) -> str:
    """The markdown table of docs/benchmarks.md."""
    lines = [
        "| chunks | structure | build: store / dense / keyword s | open s | hybrid p50 / "
        "p95 ms | p50 ms: keyword / dense / query embedding | POST ack median / max s "
        "(index side) | found at once (kw / dense) | vector save s (the ack of the write "
        "that finds it due) | RSS GiB (peak) | "
        "disk GiB | recall@10 (nprobe) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        recall = ", ".join(f"{v:.3f} ({k})" for k, v in r["recall_at_10"].items())
        lines.append(
            f"| {r['chunks']:,} | {r['dense_structure']} | {r['store_s']:.0f} / "
            f"{r['dense_build_s']:.0f} / {r['keywords_build_s']:.0f} | {r['open_s']:.1f} | "
            f"{r['hybrid_p50_ms']:.1f} / {r['hybrid_p95_ms']:.1f} | "
            f"{r.get('keyword_p50_ms', float('nan')):.1f} / "
            f"{r.get('dense_p50_ms', float('nan')):.1f} / "
            f"{r.get('query_embed_p50_ms', float('nan')):.1f} | "
            f"{r['post_ack_s_median']:.2f} / {r['post_ack_s_max']:.2f} "
            f"({r['post_index_side_s_median']:.2f} / {r['post_index_side_s_max']:.2f}) | "
            f"{'yes' if r['found_keyword'] else 'NO'} / {'yes' if r['found_dense'] else 'NO'} | "
            f"{r.get('dense_save_s', float('nan')):.2f}"
            f" ({r.get('save_write_ack_s', float('nan')):.2f}) | "
            f"{r['rss_bytes'] / 2**30:.2f} ({r['peak_rss_bytes'] / 2**30:.2f}) | "
            f"{r['disk_bytes'] / 2**30:.2f} | {recall} |"
        )
    return "\n".join(lines)


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _probe_child(
    data_dir: Path, args: argparse.Namespace, queries: list[str], held_out: list[dict]
) -> dict | None:
    """Run :func:`probe` in a fresh process (under ``--lock`` when given); None if it failed."""
    locked = ["flock", "-x", str(args.lock)] if args.lock else []
    child = subprocess.run(
        locked
        + [sys.executable, __file__, "--probe", str(data_dir)]
        + (["--backend", args.backend] if args.backend else []),
        input=json.dumps({"queries": queries, "held_out": held_out}),
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        print(child.stderr[-3000:], flush=True)
        return None
    return json.loads(child.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Build each size, probe it in a fresh process, write the JSON, table and chart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--vector-articles",
        type=int,
        default=60,
        help="dev2k articles whose sentences are embedded for the fill",
    )
    parser.add_argument("--sentences-per-article", type=int, default=12)
    parser.add_argument(
        "--vector-cache",
        type=Path,
        default=None,
        help="fill from every sentence vector cached by bench/dense_recall.py instead",
    )
    parser.add_argument(
        "--real-sample", type=int, default=100, help="chunks embedded whole with the real model"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--backend", default=None, help="vnqa embedding backend")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "scaling.json")
    parser.add_argument("--chart", type=Path, default=REPO_ROOT / "docs" / "scaling.png")
    parser.add_argument("--chart-only", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="build under this folder and keep it (default: a temp folder)",
    )
    parser.add_argument(
        "--lock",
        type=Path,
        default=None,
        help="run each probe under an exclusive flock of this file (quiet timings)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other sizes' results already in --out (one size per run)",
    )
    parser.add_argument(
        "--reprobe",
        action="store_true",
        help="probe the --keep builds of --sizes again and update their results in --out",
    )
    parser.add_argument("--probe", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.chart_only:
        results = json.loads(args.out.read_text())["results"]
        chart(results, args.chart)
        print(table(results))
        return 0
    if args.probe is not None:  # the child process
        spec = json.loads(sys.stdin.read())
        print(json.dumps(probe(args.probe, spec["queries"], spec["held_out"], args.backend)))
        return 0

    perfkit.require_vietnews()
    if args.reprobe:  # probe kept builds again (other settings, a quieter machine)
        if args.keep is None:
            parser.error("--reprobe needs --keep")
        rows = load_vietnews(path=DEV2K)
        held_out, rows = rows[-HELD_OUT:], rows[:-HELD_OUT]
        queries = [r["summary"] for r in rows[: args.queries]]
        saved = json.loads(args.out.read_text())
        for r in saved["results"]:
            if r["chunks"] in args.sizes:
                probed = _probe_child(args.keep / f"n{r['chunks']}", args, queries, held_out)
                if probed is None:
                    return 1
                r.update(probed)
                print(json.dumps({k: v for k, v in r.items() if k != "writes"}), flush=True)
        args.out.write_text(json.dumps(saved, indent=1))
        chart(saved["results"], args.chart)
        print(table(saved["results"]))
        return 0
    from service.runtime import load_embedder_from

    overrides = {"embedding_backend": args.backend} if args.backend else {}
    settings = Settings(models_dir=MODELS_DIR, **overrides)
    embedder = load_embedder_from(settings)
    rows = load_vietnews(path=DEV2K)
    held_out, rows = rows[-HELD_OUT:], rows[:-HELD_OUT]
    cached = None
    if args.vector_cache is not None:  # the sentence vectors of bench/dense_recall.py
        from dense_recall import article_of_sentences

        base = np.load(args.vector_cache)["base"]
        cached = (base, article_of_sentences(rows)[: len(base)])
    corpus = Corpus(rows, embedder, args.vector_articles, args.sentences_per_article, cached)
    print(
        f"{len(corpus.sentences):,} sentences of {len(rows)} dev2k articles; "
        f"{corpus.embedded} of them embedded in {corpus.sentence_s:.0f} s",
        flush=True,
    )
    sample_texts = corpus.chunks(args.real_sample, seed=1)
    t = time.perf_counter()
    real_vectors = embedder.embed_passages(sample_texts, batch_size=32)
    model_rate = len(sample_texts) / (time.perf_counter() - t)
    # Spread over the first 10k chunks, with their own texts.
    real = {
        i * 997 % 10_000: (t, v)
        for i, (t, v) in enumerate(zip(sample_texts, real_vectors, strict=True))
    }
    print(f"real passage embedding: {model_rate:.1f} chunks/s (this machine, shared)", flush=True)
    queries = [r["summary"] for r in rows[: args.queries]]
    query_vectors = embedder.embed_queries(queries)

    results = []
    for n in args.sizes:
        base = args.keep or Path(tempfile.mkdtemp(prefix="vnqa-scale-"))
        data_dir = base / f"n{n}"
        shutil.rmtree(data_dir, ignore_errors=True)
        run_settings = settings.model_copy(update={"data_dir": data_dir})
        started = time.perf_counter()
        result = build(
            n, corpus, real, run_settings, run_settings.index_dir, query_vectors, args.nprobe
        )
        result["build_s"] = time.perf_counter() - started
        print(f"built {n:,} chunks in {result['build_s']:.0f} s: {result}", flush=True)
        probed = _probe_child(data_dir, args, queries, held_out)
        if probed is None:
            return 1
        result.update(probed)
        result["disk_bytes"] = perfkit.dir_bytes(run_settings.index_dir)
        results = sorted([*results, result], key=lambda r: r["chunks"])
        print(json.dumps({k: v for k, v in result.items() if k != "writes"}), flush=True)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
        meta = {
            "embedder": settings.embedding_backend,
            "model_chunks_per_s": model_rate,
            "sentences": len(corpus.sentences),
            "embedded_sentences": corpus.embedded,
            "articles": len(rows),
            "queries": len(queries),
            "cpu": _cpu(),
        }
        written = results
        if args.merge and args.out.exists():  # read now: another run may have written since
            done = {r["chunks"] for r in results}
            kept = json.loads(args.out.read_text())["results"]
            written = sorted(
                [r for r in kept if r["chunks"] not in done] + results, key=lambda r: r["chunks"]
            )
        args.out.write_text(json.dumps({"meta": meta, "results": written}, indent=1))
        chart(written, args.chart)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
