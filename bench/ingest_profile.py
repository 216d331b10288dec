"""Where a bulk ingest's time goes: chunking, tokenization, padding, model, SQLite, FAISS, BM25.

    .venv/bin/python bench/ingest_profile.py [--backend onnx-int8] [--articles 300]

Ingests VietNews dev articles into a fresh index with ``ArticleIndex.add_articles``
(what ``vnqa ingest``, ``POST /v1/articles`` and ``bench/perf.py`` call) and times each
stage by wrapping the functions that do it. Stages on the ingest thread are wall
seconds; ``model`` is the summed run time of the forward passes, which may run on
several threads at once (``model wall`` is the time the ingest thread spent in them),
and ``padding`` is the share of the model's token slots that were padding. The rest
(``other``) is Python glue, lock waits and the vectors' copies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402

MODELS_DIR = Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")).resolve()


class Stages:
    """Seconds and counts per stage, from any thread."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float, count: int = 1) -> None:
        """Record ``seconds`` spent in ``stage``."""
        with self._lock:
            self.seconds[stage] += seconds
            self.counts[stage] += count

    def wrap(self, owner: object, name: str, stage: str) -> None:
        """Time every call of ``owner.name`` as ``stage``."""
        original: Callable = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - started)

        setattr(owner, name, timed)


def instrument(stages: Stages, embedder: object) -> dict[str, int]:
    """Wrap the ingest's stages; returns the token counters the model wrapper fills."""
    import index.engine as engine
    from index.dense import DenseIndex
    from index.sparse import SparseIndex
    from index.store import ArticleStore

    stages.wrap(engine, "chunk_article", "chunking (underthesea sentences)")
    stages.wrap(ArticleStore, "replace_articles", "SQLite commit")
    stages.wrap(ArticleStore, "all_chunks", "SQLite read for BM25")
    stages.wrap(DenseIndex, "add", "FAISS add")
    stages.wrap(DenseIndex, "save", "FAISS save")
    stages.wrap(SparseIndex, "rebuild", "BM25 rebuild")
    stages.wrap(embedder, "embed_passages", "embedding (wall)")
    tokens = {"real": 0, "slots": 0}
    model = getattr(embedder, "_model", None) or getattr(embedder, "_session", None)
    if hasattr(embedder, "_tokenizer") and hasattr(embedder, "_run"):  # ONNX Runtime
        stages.wrap(embedder._tokenizer, "encode_batch", "tokenization")
        original_run = embedder._run

        def run(encodings):
            lengths = [len(e.ids) for e in encodings]
            tokens["real"] += sum(lengths)
            tokens["slots"] += max(lengths) * len(lengths)
            started = time.perf_counter()
            try:
                return original_run(encodings)
            finally:
                stages.add("model forward (summed over threads)", time.perf_counter() - started)

        embedder._run = run
    elif model is not None and hasattr(model, "tokenize"):  # sentence-transformers
        original_tokenize, original_forward = model.tokenize, model.forward

        def tokenize(texts, *args, **kwargs):
            started = time.perf_counter()
            features = original_tokenize(texts, *args, **kwargs)
            stages.add("tokenization", time.perf_counter() - started)
            mask = features["attention_mask"]
            tokens["real"] += int(mask.sum())
            tokens["slots"] += int(mask.numel())
            return features

        def forward(features, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original_forward(features, *args, **kwargs)
            finally:
                stages.add("model forward (summed over threads)", time.perf_counter() - started)

        model.tokenize, model.forward = tokenize, forward
    return tokens


def profile(backend: str, n_articles: int) -> dict:
    """Ingest ``n_articles`` VietNews dev articles into a fresh index; the stage breakdown."""
    from index.documents import Article
    from service.core.config import Settings
    from service.runtime import load_embedder_from, open_index

    rows = load_vietnews()[:n_articles]
    articles = [Article(id=r["id"], text=r["body"], title=r["title"]) for r in rows]
    with tempfile.TemporaryDirectory(prefix="vnqa-profile-") as tmp:
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), models_dir=MODELS_DIR, embedding_backend=backend
        )
        embedder = load_embedder_from(settings)
        embedder.embed_passages(["khởi động"])
        index = open_index(settings, embedder)
        stages = Stages()
        tokens = instrument(stages, embedder)
        try:
            cpu_started, started = time.process_time(), time.perf_counter()
            index.add_articles(articles)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            chunks = index.stats().chunks
        finally:
            index.close()
    measured = {
        k: v
        for k, v in stages.seconds.items()
        if k not in ("model forward (summed over threads)", "tokenization")
    }
    return {
        "backend": backend,
        "articles": len(articles),
        "chunks": chunks,
        "wall_s": wall,
        "process_cpu_s": cpu,
        "chunks_per_s": chunks / wall,
        "stages_s": dict(stages.seconds),
        "calls": dict(stages.counts),
        "other_s": wall - sum(measured.values()),
        "tokens_real": tokens["real"],
        "token_slots": tokens["slots"],
        "padding_share": 1 - tokens["real"] / tokens["slots"] if tokens["slots"] else None,
    }


def report(result: dict) -> str:
    """A Markdown table of the stages, as shares of the ingest's wall time."""
    wall = result["wall_s"]
    lines = [
        f"{result['backend']}: {result['articles']} articles, {result['chunks']} chunks in "
        f"{wall:.1f} s ({result['chunks_per_s']:.1f} chunks/s; process CPU "
        f"{result['process_cpu_s']:.1f} s)",
        "",
        "| stage | seconds | share of wall |",
        "|---|---|---|",
    ]
    for stage, seconds in sorted(result["stages_s"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {stage} | {seconds:.2f} | {seconds / wall:.0%} |")
    lines.append(
        f"| other (glue, locks, copies) | {result['other_s']:.2f} | "
        f"{result['other_s'] / wall:.0%} |"
    )
    if result["padding_share"] is not None:
        lines.append("")
        lines.append(
            f"tokens: {result['tokens_real']:,} real in {result['token_slots']:,} "
            f"slots (padding {result['padding_share']:.1%})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, profile, print the table (and the JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", default="onnx-int8", help="comma list of torch, onnx, onnx-int8"
    )
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    require_data(VIETNEWS)
    results = []
    for backend in args.backend.split(","):
        result = profile(backend, args.articles)
        results.append(result)
        print(report(result), flush=True)
        print(flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
