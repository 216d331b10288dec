"""Long keyword queries at archive scale: what leaving out common terms saves and changes.

    .venv/bin/python bench/long_queries.py --keywords /tmp/scale/keep/n1000000/index/keywords

Opens a kept keyword index (``bench/scaling.py --keep``) read-only and asks the scaling
bench's queries (200 VietNews dev2k summaries, ~70 distinct syllable and pair terms each)
as BM25 OR queries over the main field, top 40, in several shapes: every term (the
query before issue 12's third round), the product's rule (``KeywordIndex.search`` with
its defaults: a query of more than 48 distinct terms leaves out terms found in more
than a tenth of the chunks), other document-frequency cut-offs, and a cap on the
number of terms (the rarest kept). Printed per shape: p50/p95 ms and the share of the
full query's top 10 it keeps. It also times the full query with tantivy's hit count
on, which turns block-max WAND pruning off (a check that the pruning is in effect).
Retrieval quality of the rule is measured end to end by ``bench/retrieval.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tantivy

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import perfkit  # noqa: E402
from quality_data import load_vietnews  # noqa: E402
from scaling import DEV2K, HELD_OUT  # noqa: E402

from index.keywords import KeywordIndex, terms  # noqa: E402
from models.vietnamese import normalize, syllables  # noqa: E402

Top = list[tuple[int, int]]


def main(argv: list[str] | None = None) -> int:
    """Time each query shape over the kept index and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keywords", type=Path, required=True, help="a kept keywords/ folder")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    perfkit.require_vietnews()
    rows = load_vietnews(path=DEV2K)[:-HELD_OUT]
    queries = [normalize(r["summary"]) for r in rows[: args.queries]]
    index = KeywordIndex(args.keywords, read_only=True)
    searcher = index._searcher
    n = int(searcher.num_docs)
    counts: dict[str, int] = {}

    def df(term: str) -> int:
        if term not in counts:
            counts[term] = int(searcher.doc_freq("m", term))
        return counts[term]

    def words(q: str) -> list[str]:
        return list(dict.fromkeys(terms(syllables(q), True)))

    def shape(keep: Callable[[list[str]], list[str]]) -> Callable[[str], tantivy.Query]:
        def build(q: str) -> tantivy.Query:
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, tantivy.Query.term_query(index._schema, "m", w))
                    for w in keep(words(q))
                ]
            )

        return build

    def run(
        build: Callable[[str], tantivy.Query], count: bool = False
    ) -> tuple[list[float], list[Top]]:
        lat, tops = [], []
        for q in queries:
            t = time.perf_counter()
            hits = searcher.search(build(q), limit=40, count=count).hits
            lat.append((time.perf_counter() - t) * 1000)
            tops.append([(a.segment_ord, a.doc) for _, a in hits])
        return lat, tops

    def rule(q: str) -> tantivy.Query:
        built = index._terms_query(searcher, "m", terms(syllables(q), True))
        assert built is not None
        return built

    for q in queries:  # term counts and postings into the page cache
        [df(w) for w in words(q)]
    full = shape(lambda ws: ws)
    run(full)
    lengths = [len(words(q)) for q in queries]
    print(
        f"{n:,} chunks; {len(queries)} queries, distinct terms p50 "
        f"{perfkit.percentile(lengths, 50):.0f}, max {max(lengths)}\n"
    )
    _, base = run(full)
    shapes: list[tuple[str, Callable[[str], tantivy.Query], bool]] = [
        ("every term", full, False),
        ("every term, hit count on (no pruning)", full, True),
        ("the product's rule (> 48 terms: df <= 10%)", rule, False),
    ]
    for cut in (0.2, 0.05):
        shapes.append(
            (
                f"terms with df <= {cut:.0%}",
                shape(lambda ws, c=cut: [w for w in ws if df(w) <= c * n] or ws),
                False,
            )
        )
    for cap in (64, 48, 32):
        shapes.append(
            (f"the {cap} rarest terms", shape(lambda ws, k=cap: sorted(ws, key=df)[:k]), False)
        )
    print("| query shape | p50 ms | p95 ms | full top-10 kept |\n|---|---:|---:|---:|")
    for name, build, count in shapes:
        lat, tops = run(build, count)
        kept = np.mean(
            [
                len(set(t[:10]) & set(b[:10])) / max(1, len(b[:10]))
                for t, b in zip(tops, base, strict=True)
            ]
        )
        print(
            f"| {name} | {perfkit.percentile(lat, 50):.1f} | {perfkit.percentile(lat, 95):.1f} "
            f"| {kept:.3f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
