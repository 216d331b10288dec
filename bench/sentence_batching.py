"""What padding-aware batching saves an answer: its sentences embedded two ways.

    .venv/bin/python bench/sentence_batching.py [--asks 60] [--rounds 2]

An answer embeds the sentences of its top passages (about ten, 10 to 100 tokens each)
in one ``embed_passages`` call. This script takes the sentences of three random
VietNews dev chunks per ask, as the answer composer does, and times the default
embedder on them with the batches cut by :func:`models.onnx_embedder.length_batches`
(least padding) and with the former cut (longest first, as many as fit in 4,096
tokens), alternating per round so drift hits both; it prints padded tokens per real
token and milliseconds per ask for each.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402


def former_batches(lengths: Sequence[int], max_batch: int) -> list[list[int]]:
    """The cut before padding-aware batching: longest first, fill to 4,096 tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches, start = [], 0
    while start < len(order):
        size = max(1, min(max_batch, 4096 // max(lengths[order[start]], 1)))
        batches.append(order[start : start + size])
        start += size
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    require_data(VIETNEWS)
    from index.chunking import chunk_article
    from index.documents import Article
    from models import onnx_embedder
    from models.embeddings import load_embedder
    from models.vietnamese import split_sentences

    chunks: list[str] = []
    for row in load_vietnews()[:80]:
        article = Article(id=row["id"], text=row["body"], title=row["title"])
        chunks += [c.text for c in chunk_article(article, max_syllables=120, overlap_sentences=1)]
    rnd = random.Random(7)
    asks = [
        [s.of(c) for c in rnd.sample(chunks, 3) for s in split_sentences(c)]
        for _ in range(args.asks)
    ]
    embedder = load_embedder(models_dir=ROOT / ".models", backend="onnx-int8")
    tokenizer = embedder._tokenizer  # noqa: SLF001 (the embedder's own tokenizer)
    cuts = {"least padding": onnx_embedder.length_batches, "former": former_batches}
    padding = {}
    for name, cut in cuts.items():
        real = padded = 0
        for sentences in asks:
            lengths = [
                len(e.ids) for e in tokenizer.encode_batch(["passage: " + s for s in sentences])
            ]
            real += sum(lengths)
            padded += sum(max(lengths[i] for i in b) * len(b) for b in cut(lengths, 32))
        padding[name] = padded / real
    seconds = dict.fromkeys(cuts, 0.0)
    embedder.embed_passages(asks[0])  # warm-up
    for _ in range(args.rounds):
        for name, cut in cuts.items():
            onnx_embedder.length_batches = cut  # what _encode calls
            started = time.perf_counter()
            for sentences in asks:
                embedder.embed_passages(sentences)
            seconds[name] += time.perf_counter() - started
    sentences_per_ask = sum(map(len, asks)) / len(asks)
    print(f"{len(asks)} asks, {sentences_per_ask:.1f} sentences each, {args.rounds} rounds")
    for name in cuts:
        per_ask = seconds[name] / (args.rounds * len(asks)) * 1000
        print(f"{name:14s} padded/real tokens {padding[name]:.2f}  {per_ask:.1f} ms per ask")


if __name__ == "__main__":
    main()
