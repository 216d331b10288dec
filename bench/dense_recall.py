"""Recall@10 of the IVF vector index against exact search, on real e5 vectors.

    .venv/bin/python bench/dense_recall.py --cache /tmp/dev2k-vectors.npz

The base is real passage vectors: VietNews dev2k sentences (split as ``bench/scaling.py``
splits them, in a fixed shuffled order) embedded with the real model; the queries are
real query vectors of dev2k summaries, whose nearest neighbours are sentences of their
own and of other articles. Embedding ~40k sentences takes about half an hour on a
shared 2-core CPU, so ``--cache`` keeps them (and a run with a cache only embeds what
it lacks).

For each base size, codec and ``nprobe`` it builds the IVF structure the product builds
(``index.dense``: ~4·√n lists, trained on the same sample) and reports recall@10
against a brute-force scan of the same vectors. The same is measured on ``bench/scaling.py``'s
default synthetic fill of the same size (sums of 2-5 of 12 real sentence vectors of one
of 60 articles, plus noise), which shows what that fill does to recall: its vectors form
60 tight clusters of near-duplicates, harder to tell apart than real vectors.

``--index DIR/dense.faiss`` measures a saved vector file instead (a ``bench/scaling.py
--keep`` build): recall@10 and single-query search time per ``nprobe``, against a
brute-force scan of its own vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import scaling  # noqa: E402
from quality_data import load_vietnews  # noqa: E402

from index.dense import DenseIndex, ivf_lists, training_sample  # noqa: E402
from service.core.config import Settings  # noqa: E402


def _sentences(rows: list[dict]) -> tuple[list[str], np.ndarray]:
    """Every dev2k sentence, in a fixed shuffled order (the cache's order), and the
    number of the article each comes from."""
    found = [(s, a) for a, row in enumerate(rows) for s in scaling._split(row["body"])]
    order = np.random.default_rng(0).permutation(len(found))
    return [found[i][0] for i in order], np.asarray([found[i][1] for i in order])


def article_of_sentences(rows: list[dict]) -> np.ndarray:
    """The article number of each sentence, in the cache's order."""
    return _sentences(rows)[1]


def fill_groups(article_of: np.ndarray, articles: int = 60, each: int = 12) -> list[np.ndarray]:
    """Rows of ``each`` sentences of ``articles`` articles, as the scaling fill takes them."""
    groups = []
    for article in np.unique(article_of):
        rows = np.flatnonzero(article_of == article)
        if len(rows) >= each:
            groups.append(rows[:each])
        if len(groups) == articles:
            break
    return groups


def real_vectors(
    rows: list[dict], n: int, queries: int, cache: Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` real sentence vectors and ``queries`` real query vectors (cached)."""
    base = np.zeros((0, 384), np.float32)
    query = np.zeros((0, 384), np.float32)
    if cache is not None and cache.exists():
        held = np.load(cache)
        base, query = held["base"], held["queries"]
    if len(base) >= n and len(query) >= queries:
        return base[:n], query[:queries]
    from service.runtime import load_embedder_from

    embedder = load_embedder_from(Settings(models_dir=scaling.MODELS_DIR))
    if len(query) < queries:
        query = embedder.embed_queries([r["summary"] for r in rows[:queries]])
    sentences = _sentences(rows)[0][:n]
    for start in range(len(base), len(sentences), 1000):
        fresh = embedder.embed_passages(sentences[start : start + 1000], batch_size=32)
        base = np.concatenate([base, fresh])
        if cache is not None:
            np.savez(cache, base=base, queries=query)
        print(f"embedded {len(base):,} sentences", flush=True)
    return base[:n], query[:queries]


def recall(
    vectors: np.ndarray, queries: np.ndarray, codec: str, nprobes: list[int]
) -> tuple[dict[str, float], float]:
    """Recall@10 per nprobe of the product's IVF over ``vectors``; and its build seconds."""
    keys = np.arange(len(vectors), dtype=np.int64)
    truth = [set(t.tolist()) for t in scaling.exact_top(vectors, queries, 10)]
    started = time.perf_counter()
    dense = DenseIndex(vectors.shape[1], exact_max=1, codec=codec, auto_fit=False)
    fresh = dense.empty_structure(len(vectors), training_sample(vectors, ivf_lists(len(vectors))))
    fresh.add_with_ids(vectors, keys)
    dense.finish_refit(fresh)
    built = time.perf_counter() - started
    out = {}
    for nprobe in nprobes:
        dense._index.nprobe = nprobe
        got = [
            len({i for i, _ in dense.search(q, 10)} & t) / 10
            for q, t in zip(queries, truth, strict=True)
        ]
        out[str(nprobe)] = float(np.mean(got))
    return out, built


def saved_index_recall(path: Path, queries: np.ndarray, nprobes: list[int]) -> dict:
    """Recall@10 and search time per nprobe of a saved vector file (``dense.faiss`` of a
    ``bench/scaling.py --keep`` build) against a brute-force scan of its own vectors."""
    dense = DenseIndex.load(path, queries.shape[1], exact_max=1, auto_fit=False)
    keys = dense.ids()
    vectors = dense.vectors(keys)
    truth = [set(keys[t].tolist()) for t in scaling.exact_top(vectors, queries, 10)]
    del vectors
    out: dict = {"n": len(keys), "lists": int(dense._index.nlist), "nprobe": {}}
    for nprobe in nprobes:
        dense._index.nprobe = nprobe
        got, took = [], []
        for q, t in zip(queries, truth, strict=True):
            started = time.perf_counter()
            hits = dense.search(q, 10)
            took.append((time.perf_counter() - started) * 1000)
            got.append(len({i for i, _ in hits} & t) / 10)
        out["nprobe"][str(nprobe)] = {
            "recall_at_10": float(np.mean(got)),
            "search_p50_ms": float(np.percentile(took, 50)),
            "search_p95_ms": float(np.percentile(took, 95)),
        }
        print(nprobe, out["nprobe"][str(nprobe)], flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Recall of real vs synthetic-fill vectors per size, codec and nprobe."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 39_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--codecs", nargs="+", default=["sq8", "fp16", "flat"])
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "dense_recall.json")
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="measure this saved dense.faiss instead (its own vectors as the base)",
    )
    args = parser.parse_args(argv)

    rows = load_vietnews(path=scaling.DEV2K)[: -scaling.HELD_OUT]
    if args.index is not None:
        queries = real_vectors(rows, 0, args.queries, args.cache)[1]
        found = saved_index_recall(args.index, queries, args.nprobe)
        args.out.write_text(json.dumps({"queries": len(queries), "index": found}, indent=1))
        return 0
    base, queries = real_vectors(rows, max(args.sizes), args.queries, args.cache)
    # The fill of bench/scaling.py, from sentence vectors of its first 60 articles.
    corpus = scaling.Corpus.__new__(scaling.Corpus)
    corpus.vectors = base
    corpus.vector_groups = fill_groups(_sentences(rows)[1][: len(base)])
    results = []
    for n in args.sizes:
        if n > len(base):
            print(f"only {len(base):,} real vectors: skipping {n:,}", flush=True)
            continue
        for kind in ("real", "fill"):
            vectors = base[:n] if kind == "real" else corpus.fill(n)
            for codec in args.codecs:
                found, built = recall(vectors, queries, codec, args.nprobe)
                row = {
                    "vectors": kind,
                    "n": n,
                    "lists": ivf_lists(n),
                    "codec": codec,
                    "recall_at_10": found,
                    "build_s": built,
                }
                results.append(row)
                print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps({"queries": len(queries), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
