"""How vnqa's ingest and search costs grow: 1k, 10k and 100k chunks, exact vs IVF.

    .venv/bin/python bench/scaling.py       # 1k end to end, 10k index side, 100k search
    .venv/bin/python bench/scaling.py --sizes 1000 10000 --replay-sizes   # all real (slow)

Corpora are synthesized from VietNews dev (sentence-shuffled copies of the articles,
see ``bench/perfkit.py``). For each of ``--sizes`` the articles go through vnqa's own
ingestion (``ArticleIndex.add_articles``: chunking, embedding, SQLite, FAISS, BM25) and
300 hybrid searches are timed (queries: the dev summaries).

``--replay-sizes`` (10k by default) go through the same ingestion with a stand-in for
the model's passage encoder: each chunk gets the vector of a chunk embedded in the
``--sizes`` runs (picked by a hash of its text) plus Gaussian noise, at no model cost.
That measures the index side of ingest (chunking, SQLite, FAISS, BM25) at that size;
the model side costs the same per chunk at any size (the chunks/s of the ``--sizes``
run), so end-to-end chunks/s is estimated as ``1 / (1/model + 1/index side)``. Queries
are always embedded by the real model.

``--big`` (100k) is too many chunks to embed on a 2-core CPU in a benchmark run (about an
hour at ~25 chunks/s), so it measures search only, on components built directly:
BM25 over the 100k real chunk texts, and FAISS over 100k vectors of which the first
ones are the real vectors embedded in the largest ``--sizes`` run and the rest are those
vectors with Gaussian noise added (cosine ≈ 0.9 to their source), renormalized. It
reports exact (flat) and IVF latency and IVF recall@10 against exact for several
``nprobe``, on real query vectors; recall is also reported on the real vectors alone
with an IVF forced at that size. The semi-synthetic vectors cluster around the real
ones, which may flatter IVF recall; read it as indicative.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import perfkit  # noqa: E402

from index.dense import DenseIndex, ivf_lists  # noqa: E402
from index.fusion import reciprocal_rank_fusion  # noqa: E402
from index.sparse import SparseIndex  # noqa: E402
from service.core.config import Settings  # noqa: E402
from service.runtime import load_embedder_from, open_index  # noqa: E402

MODELS_DIR = Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")).resolve()


class ReplayEmbedder:
    """The real embedder for queries; passages get a stored real vector plus noise."""

    def __init__(self, real, vectors: np.ndarray) -> None:
        self._real, self._vectors = real, vectors
        self.name, self.dimension, self.fingerprint = real.name, real.dimension, real.fingerprint

    def embed_queries(self, texts):
        """Real query vectors."""
        return self._real.embed_queries(texts)

    def embed_passages(self, texts, *, batch_size: int = 32, show_progress: bool = False):
        """A stored vector per text (by CRC32 of the text) with noise, renormalized."""
        picks = self._vectors[[zlib.crc32(t.encode()) % len(self._vectors) for t in texts]]
        rng = np.random.default_rng(len(texts))
        noisy = picks + rng.standard_normal(picks.shape).astype(np.float32) * (
            0.5 / np.sqrt(picks.shape[1]))
        return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


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


def end_to_end(n: int, embedder, settings: Settings, queries: list[str]) -> dict:
    """Ingest a corpus of ``n`` chunks through ArticleIndex and time hybrid searches."""
    articles, chunks, _ = perfkit.build_corpus(
        n, max_syllables=settings.chunk_max_syllables,
        overlap_sentences=settings.chunk_overlap_sentences)
    timed = _Timed(embedder)
    with tempfile.TemporaryDirectory(prefix="vnqa-scale-") as tmp:
        s = settings.model_copy(update={"data_dir": Path(tmp)})
        index = open_index(s, timed)
        try:
            started = time.perf_counter()
            index.add_articles(articles)
            ingest_s = time.perf_counter() - started
            n_chunks = index.stats().chunks
            for q in queries[:5]:
                index.search(q, top_k=5)
            lat = []
            for q in queries:
                t = time.perf_counter()
                index.search(q, top_k=5)
                lat.append((time.perf_counter() - t) * 1000)
            dense = index._dense
            ids = dense.ids()
            real = {"ids": ids, "vectors": dense.vectors(ids)}
            size = perfkit.dir_bytes(s.index_dir)
        finally:
            index.close()
    return {
        "chunks": n_chunks, "articles": len(articles), "ingest_s": ingest_s,
        "model_s": timed.passage_s,
        "ingest_chunks_per_s": n_chunks / ingest_s,
        "p50_ms": perfkit.percentile(lat, 50), "p95_ms": perfkit.percentile(lat, 95),
        "bytes_per_chunk": size / n_chunks, "real": real, "texts": [c.text for c in chunks],
    }


def _recall(approx: DenseIndex, exact: DenseIndex, qv: np.ndarray, k: int = 10) -> float:
    got = [len({i for i, _ in approx.search(q, k)} & {i for i, _ in exact.search(q, k)}) / k
           for q in qv]
    return float(np.mean(got))


def _latency(fn, items) -> tuple[float, float]:
    lat = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        lat.append((time.perf_counter() - t) * 1000)
    return perfkit.percentile(lat, 50), perfkit.percentile(lat, 95)


def big_search(n: int, real: dict, settings: Settings, embedder, queries: list[str],
               nprobes: list[int]) -> list[str]:
    """Search-only figures at ``n`` chunks (see the module docstring)."""
    lines = []
    rng = np.random.default_rng(0)
    base = real["vectors"]
    extra = n - len(base)
    src = base[np.arange(extra) % len(base)]
    noisy = src + rng.standard_normal(src.shape).astype(np.float32) * (0.5 / np.sqrt(src.shape[1]))
    vectors = np.concatenate([base, noisy / np.linalg.norm(noisy, axis=1, keepdims=True)])
    ids = np.arange(len(vectors), dtype=np.int64)
    qv = embedder.embed_queries(queries)

    started = time.perf_counter()
    exact = DenseIndex(vectors.shape[1], exact_max=10**9)
    exact.add(ids.tolist(), vectors)
    exact_build = time.perf_counter() - started
    started = time.perf_counter()
    approx = DenseIndex(vectors.shape[1], exact_max=0, nprobe=nprobes[0])
    approx.add(ids.tolist(), vectors)
    ivf_build = time.perf_counter() - started

    _, chunks, _ = perfkit.build_corpus(
        n, max_syllables=settings.chunk_max_syllables,
        overlap_sentences=settings.chunk_overlap_sentences)
    texts = [c.text for c in chunks][:n]
    sparse = SparseIndex()
    started = time.perf_counter()
    sparse.rebuild(list(range(len(texts))), texts)
    bm25_build = time.perf_counter() - started

    lines.append(f"\n{n:,} chunks ({len(base):,} real vectors + {extra:,} noisy copies; "
                 f"BM25 over {len(texts):,} real chunk texts)")
    lines.append(f"build: FAISS flat {exact_build:.1f}s, IVF{approx._index.nlist} "
                 f"(train+add) {ivf_build:.1f}s, BM25 {bm25_build:.1f}s")
    lines.append("| dense index | recall@10 vs exact | dense p50 ms | dense p95 ms | "
                 "hybrid p50 ms (with query embedding) |")
    lines.append("|---|---|---|---|---|")

    def hybrid(dense: DenseIndex):
        def run(i: int) -> None:
            q = embedder.embed_queries([queries[i]])[0]
            d = dense.search(q, 40)
            s = sparse.search(queries[i], 40)
            reciprocal_rank_fusion([[c for c, _ in d], [c for c, _ in s]], k=settings.rrf_k)
        return run

    p50, p95 = _latency(lambda q: exact.search(q, 40), qv)
    h50, _ = _latency(hybrid(exact), range(len(queries)))
    lines.append(f"| exact (flat) | 1.000 | {p50:.2f} | {p95:.2f} | {h50:.1f} |")
    for nprobe in nprobes:
        approx.nprobe = nprobe
        approx._index.nprobe = nprobe
        p50, p95 = _latency(lambda q: approx.search(q, 40), qv)  # noqa: B023
        h50, _ = _latency(hybrid(approx), range(len(queries)))
        lines.append(f"| IVF{approx._index.nlist}, nprobe {nprobe} | "
                     f"{_recall(approx, exact, qv):.3f} | {p50:.2f} | {p95:.2f} | {h50:.1f} |")

    # Real vectors only, IVF forced at that size.
    rids = real["ids"]
    r_exact = DenseIndex(base.shape[1], exact_max=10**9)
    r_exact.add(rids.tolist(), base)
    r_ivf = DenseIndex(base.shape[1], exact_max=0, nprobe=nprobes[0])
    r_ivf.add(rids.tolist(), base)
    parts = []
    for nprobe in nprobes:
        r_ivf._index.nprobe = nprobe
        parts.append(f"nprobe {nprobe}: {_recall(r_ivf, r_exact, qv):.3f}")
    lines.append(f"\nreal vectors only ({len(base):,}, IVF{ivf_lists(len(base))}) "
                 f"recall@10: " + ", ".join(parts))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the scaling study and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--replay-sizes", type=int, nargs="*", default=[10_000],
                        help="sizes ingested with replayed passage vectors (index side only)")
    parser.add_argument("--big", type=int, default=100_000, help="search-only size (0: skip)")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", default=None, help="vnqa embedding backend")
    args = parser.parse_args(argv)
    perfkit.require_vietnews()

    overrides = {"embedding_backend": args.backend} if args.backend else {}
    settings = Settings(models_dir=MODELS_DIR, **overrides)
    embedder = load_embedder_from(settings)
    queries = [r["summary"] for r in perfkit.load_vietnews(args.queries)]
    print(f"embedder: {settings.embedding_backend}; {len(queries)} queries; "
          f"exact search up to {settings.exact_search_max:,} chunks", flush=True)
    print("| chunks | articles | ingest chunks/s | ingest s | hybrid p50 ms | hybrid p95 ms "
          "| index bytes/chunk |")
    print("|---|---|---|---|---|---|---|", flush=True)
    real, model_rate = None, None
    for n in args.sizes:
        r = end_to_end(n, embedder, settings, queries)
        real = r["real"]
        model_rate = r["chunks"] / r["model_s"] if r["model_s"] else None
        print(f"| {r['chunks']:,} | {r['articles']:,} | {r['ingest_chunks_per_s']:.1f} | "
              f"{r['ingest_s']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              f"{r['bytes_per_chunk']:,.0f} |", flush=True)
    if real is not None and model_rate:
        print(f"\nmodel side at {args.sizes[-1]:,}: {model_rate:.1f} chunks/s (passage encoder "
              "alone)", flush=True)
        for n in args.replay_sizes:
            r = end_to_end(n, ReplayEmbedder(embedder, real["vectors"]), settings, queries)
            index_rate = r["chunks"] / max(r["ingest_s"] - r["model_s"], 1e-9)
            total = 1 / (1 / model_rate + 1 / index_rate)
            print(f"| {r['chunks']:,} (replayed vectors) | {r['articles']:,} | "
                  f"~{total:.1f} est. (index side {index_rate:.0f}) | {r['ingest_s']:.0f} | "
                  f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['bytes_per_chunk']:,.0f} |",
                  flush=True)
    if args.big and real is not None:
        for line in big_search(args.big, real, settings, embedder, queries, args.nprobe):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
