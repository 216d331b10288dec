"""Retrieval quality on real Vietnamese data: ViQuAD questions and VietNews known items.

    .venv/bin/python bench/retrieval.py [--limit N] [--out results.json] [--no-vietnews]

UIT-ViQuAD dev: every paragraph is ingested as one article through the product's
ingestion path (``make_article`` + ``ArticleIndex.add_articles``, chunked and embedded
as ``/v1/articles`` would), every question is asked, the gold article is the question's
paragraph. For dense, BM25 and hybrid search: Hit@1/5/10 and MRR@10 over the ranking of
distinct articles (from the top 20 chunks). "answer@5" is the share of questions whose
gold answer text (any of its annotations, NFC, case-folded) occurs in one of the top-5
passages: those are exactly the passages ``/v1/ask`` returns (``Answerer.answer`` calls
``index.search(question, top_k=5)`` and only adds a highlight span and a summary).
Each metric is reported for the questions as written, stripped of diacritics
(``strip_diacritics``) and in NFD.

VietNews dev: known-item search, querying with each article's ``summary`` and,
separately, its ``title``.

Settings come from ``VNQA_*`` variables exactly as for the service (chunk size, fusion
weights...), so a lever is measured by setting its variable; the index lives in a
temporary folder. Query embeddings are computed once per distinct text, in batches.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Runnable as a plain script from any folder: the repo root and bench/ on the path.
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from quality_data import VIETNEWS, VIQUAD, load_vietnews, load_viquad, require_data  # noqa: E402

from index.documents import make_article  # noqa: E402
from index.engine import ArticleIndex  # noqa: E402
from index.records import SearchHit  # noqa: E402
from models.vietnamese import strip_diacritics  # noqa: E402
from service.core.config import Settings  # noqa: E402
from service.runtime import load_embedder_from, open_index  # noqa: E402

MODES = ("dense", "bm25", "hybrid")
VARIANTS: dict[str, Callable[[str], str]] = {
    "accented": lambda q: q,
    "unaccented": strip_diacritics,
    "nfd": lambda q: unicodedata.normalize("NFD", q),
}
CHUNK_DEPTH = 20  # chunks retrieved to rank distinct articles
ANSWER_K = 5  # passages /v1/ask returns by default


class CachedQueryEmbedder:
    """Wraps an embedder so each distinct query text is embedded once (same vectors)."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self._cache: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def prefetch(self, texts: Sequence[str], batch: int = 64) -> None:
        """Embed the texts not cached yet, in batches."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            for text, vector in zip(part, self._inner.embed_queries(part), strict=True):
                self._cache[text] = vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.prefetch(texts)
        return np.stack([self._cache[t] for t in texts])


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def article_ranking(hits: Sequence[SearchHit], k: int = 10) -> list[str]:
    """Distinct article ids in the order their first chunk appears."""
    return list(dict.fromkeys(h.article_id for h in hits))[:k]


def rank_metrics(rankings: Sequence[list[str]], gold: Sequence[str]) -> dict[str, float]:
    """Hit@1/5/10 and MRR@10 (×100)."""
    ranks = [r.index(g) + 1 if g in r else None for r, g in zip(rankings, gold, strict=True)]
    n = max(len(ranks), 1)

    def hit(k: int) -> float:
        return 100.0 * sum(1 for r in ranks if r is not None and r <= k) / n

    mrr = 100.0 * sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return {"hit@1": hit(1), "hit@5": hit(5), "hit@10": hit(10), "mrr@10": mrr}


def ingest(index: ArticleIndex, articles) -> float:
    """Add articles; returns seconds taken."""
    started = time.perf_counter()
    index.add_articles(articles)
    return time.perf_counter() - started


def eval_viquad(settings: Settings, embedder: CachedQueryEmbedder, limit: int | None) -> dict:
    paragraphs, questions = load_viquad(limit)
    with tempfile.TemporaryDirectory(prefix="vnqa-bench-") as tmp:
        index = open_index(settings.model_copy(update={"data_dir": Path(tmp)}), embedder)
        try:
            seconds = ingest(
                index, (make_article(id=p.id, title=p.title, text=p.text) for p in paragraphs)
            )
            chunks = index.stats().chunks
            print(
                f"ViQuAD: {len(paragraphs)} paragraphs -> {chunks} chunks "
                f"in {seconds:.0f}s; {len(questions)} questions",
                file=sys.stderr,
            )
            gold = [q.paragraph_id for q in questions]
            results: dict = {
                "paragraphs": len(paragraphs),
                "chunks": chunks,
                "questions": len(questions),
                "variants": {},
            }
            for variant, transform in VARIANTS.items():
                texts = [transform(q.text) for q in questions]
                embedder.prefetch(texts)
                per_mode = {}
                for mode in MODES:
                    hits = [index.search(t, top_k=CHUNK_DEPTH, mode=mode) for t in texts]
                    metrics = rank_metrics([article_ranking(h) for h in hits], gold)
                    if mode == "hybrid":
                        # Same fused list as search(top_k=5) would cut, at /v1/ask's depth.
                        top5 = [index.search(t, top_k=ANSWER_K, mode=mode) for t in texts]
                        found = sum(
                            any(_fold(a) in _fold(h.text) for h in hs for a in q.answers)
                            for hs, q in zip(top5, questions, strict=True)
                        )
                        metrics["answer@5"] = 100.0 * found / max(len(questions), 1)
                    per_mode[mode] = metrics
                results["variants"][variant] = per_mode
                print(f"  {variant}: done", file=sys.stderr)
        finally:
            index.close()
    return results


def eval_vietnews(settings: Settings, embedder: CachedQueryEmbedder, limit: int | None) -> dict:
    rows = load_vietnews(limit)
    with tempfile.TemporaryDirectory(prefix="vnqa-bench-") as tmp:
        index = open_index(settings.model_copy(update={"data_dir": Path(tmp)}), embedder)
        try:
            seconds = ingest(
                index, (make_article(id=r["id"], title=r["title"], text=r["body"]) for r in rows)
            )
            chunks = index.stats().chunks
            print(
                f"VietNews: {len(rows)} articles -> {chunks} chunks in {seconds:.0f}s",
                file=sys.stderr,
            )
            gold = [r["id"] for r in rows]
            results: dict = {"articles": len(rows), "chunks": chunks, "queries": {}}
            for field in ("summary", "title"):
                texts = [r[field] for r in rows]
                embedder.prefetch(texts)
                results["queries"][field] = {
                    mode: rank_metrics(
                        [
                            article_ranking(index.search(t, top_k=CHUNK_DEPTH, mode=mode))
                            for t in texts
                        ],
                        gold,
                    )
                    for mode in MODES
                }
        finally:
            index.close()
    return results


def _row(name: str, m: dict[str, float], extra: bool) -> str:
    cells = [f"{m[k]:.1f}" for k in ("hit@1", "hit@5", "hit@10", "mrr@10")]
    if extra:
        cells.append(f"{m['answer@5']:.1f}" if "answer@5" in m else "")
    return f"| {name} | " + " | ".join(cells) + " |"


TARGETS = {"hit@1": 78.0, "hit@5": 96.0, "mrr@10": 86.0, "answer@5": 93.0}


def report(results: dict) -> str:
    """Markdown tables of the results, with the issue's targets checked."""
    lines = []
    vq = results.get("viquad")
    if vq:
        lines += [
            f"ViQuAD dev: {vq['questions']} questions over {vq['paragraphs']} paragraphs "
            f"({vq['chunks']} chunks)",
            "",
            "| query / mode | Hit@1 | Hit@5 | Hit@10 | MRR@10 | answer@5 |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for variant, per_mode in vq["variants"].items():
            for mode, m in per_mode.items():
                lines.append(_row(f"{variant} / {mode}", m, True))
        lines.append("")
        hybrid = vq["variants"]["accented"]["hybrid"]
        checks = [
            f"{k} {hybrid[k]:.1f} (target >= {t:.0f}: "
            f"{'met' if hybrid[k] >= t else f'missed by {t - hybrid[k]:.1f}'})"
            for k, t in TARGETS.items()
        ]
        if "unaccented" in vq["variants"]:
            gap = hybrid["hit@5"] - vq["variants"]["unaccented"]["hybrid"]["hit@5"]
            checks.append(
                f"unaccented Hit@5 gap {gap:.1f} (target <= 3: {'met' if gap <= 3 else 'missed'})"
            )
        if "nfd" in vq["variants"]:
            same = vq["variants"]["nfd"] == vq["variants"]["accented"]
            checks.append(f"NFD identical to NFC: {'yes' if same else 'NO'}")
        lines += ["Targets (hybrid, accented): " + "; ".join(checks), ""]
    vn = results.get("vietnews")
    if vn:
        lines += [
            f"VietNews dev known-item search: {vn['articles']} articles ({vn['chunks']} chunks)",
            "",
            "| query / mode | Hit@1 | Hit@5 | Hit@10 | MRR@10 |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for field, per_mode in vn["queries"].items():
            for mode, m in per_mode.items():
                lines.append(_row(f"{field} / {mode}", m, False))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=None, help="first N ViQuAD paragraphs and N VietNews articles"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write results as JSON")
    parser.add_argument("--no-vietnews", action="store_true", help="ViQuAD only")
    parser.add_argument("--no-viquad", action="store_true", help="VietNews only")
    args = parser.parse_args(argv)
    require_data(*([] if args.no_viquad else [VIQUAD]), *([] if args.no_vietnews else [VIETNEWS]))

    settings = Settings(summarizer="extractive")
    embedder = CachedQueryEmbedder(load_embedder_from(settings))
    started = time.perf_counter()
    results: dict = {
        "embedder": embedder.name,
        "embedder_source": str(embedder.source),
        "settings": settings.model_dump(
            mode="json",
            include={
                "chunk_max_syllables",
                "chunk_overlap_sentences",
                "rrf_k",
                "fusion",
                "fusion_dense_weight",
                "bm25_bigrams",
                "bm25_folded",
                "embedding_backend",
            },
        ),
    }
    if not args.no_viquad:
        results["viquad"] = eval_viquad(settings, embedder, args.limit)
    if not args.no_vietnews:
        results["vietnews"] = eval_vietnews(settings, embedder, args.limit)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(report(results))
    print(f"settings: {json.dumps(results['settings'])}; {results['seconds']}s")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
