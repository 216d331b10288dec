"""Do int8 vectors depend on their batch? ViQuAD dense retrieval, batched vs one at a time.

    .venv/bin/python bench/batch_dependence.py

The onnx-int8 embedder quantizes activations dynamically: each forward pass picks one
scale per tensor from the whole batch (every text and its padding), so a text's vector
depends slightly on which texts share its pass. This embeds the 1,164 ViQuAD dev chunks
(the product's chunking) and the 2,285 questions twice — in batches as an ingest and
``bench/retrieval.py`` do, and each text alone (as the product embeds a question) — and
prints the cosine between the two vectors of each chunk and dense Hit@1/5 and MRR@10
(articles over the top 20 chunks, exact search) for the four combinations. Times are
printed too but mean nothing on a shared machine.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

from quality_data import load_viquad  # noqa: E402

from index.chunking import chunk_article  # noqa: E402
from index.documents import make_article  # noqa: E402
from models.vietnamese import normalize  # noqa: E402
from service.core.config import Settings  # noqa: E402
from service.runtime import load_embedder_from  # noqa: E402


def _metrics(passages: np.ndarray, queries: np.ndarray, owner: np.ndarray, gold: list) -> str:
    hit1 = hit5 = mrr = 0.0
    for scores, g in zip(queries @ passages.T, gold, strict=True):
        top = np.argsort(-scores)[:20]
        articles = list(dict.fromkeys(owner[top].tolist()))[:10]
        rank = articles.index(g) + 1 if g in articles else None
        hit1 += rank == 1
        hit5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank else 0
    n = len(gold)
    return f"{100 * hit1 / n:.1f} | {100 * hit5 / n:.1f} | {100 * mrr / n:.1f}"


def main() -> int:
    """Embed batched and alone, print the table."""
    settings = Settings(models_dir=Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")))
    embedder = load_embedder_from(settings)
    paragraphs, questions = load_viquad(None)
    texts, owner = [], []
    for p in paragraphs:
        article = make_article(id=p.id, title=p.title, text=p.text)
        for chunk in chunk_article(
            article,
            max_syllables=settings.chunk_max_syllables,
            overlap_sentences=settings.chunk_overlap_sentences,
        ):
            texts.append(chunk.text)
            owner.append(p.id)
    asked = [normalize(q.text) for q in questions]
    gold = [q.paragraph_id for q in questions]
    t = time.perf_counter()
    batched = embedder.embed_passages(texts, batch_size=settings.embedding_batch_size)
    print(f"{len(texts)} chunks batched: {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    alone = np.concatenate([embedder.embed_passages([x]) for x in texts])
    print(f"{len(texts)} chunks one at a time: {time.perf_counter() - t:.0f} s", flush=True)
    queries_batched = np.concatenate(
        [embedder.embed_queries(asked[i : i + 64]) for i in range(0, len(asked), 64)]
    )
    queries_alone = np.concatenate([embedder.embed_queries([q]) for q in asked])
    cos = (batched * alone).sum(1)
    print(f"cosine of a chunk's two vectors: min {cos.min():.4f}, mean {cos.mean():.4f}\n")
    print("| chunks / questions | dense Hit@1 | Hit@5 | MRR@10 |\n|---|---:|---:|---:|")
    owners = np.array(owner)
    for pname, passages in (("batched", batched), ("one at a time", alone)):
        for qname, queries in (("batched (64)", queries_batched), ("one at a time", queries_alone)):
            print(f"| {pname} / {qname} | {_metrics(passages, queries, owners, gold)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
