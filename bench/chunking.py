"""How chunking time grows with the number of lines or sentences in one article.

    PYTHONPATH=. .venv/bin/python bench/chunking.py                      # 16k, 32k, 64k
    PYTHONPATH=. .venv/bin/python bench/chunking.py --sizes 1000 4000 --ops

Each shape is an article built to hit one of the chunker's former quadratic paths
(``docs/reliability.md``, "Chunking is linear"):

- ``dash-lines``: n lines of ``-`` (no syllable) before one sentence longer than a chunk,
  so caption gluing once re-counted a span that grew with every line;
- ``glued-sentences``: n sentences ``Ab.`` without spaces, one paragraph, where the
  sentence splitter once walked back over the whole run at every full stop;
- ``short-lines``: n lines ``Dòng số i.``, the plain case;
- ``captions``: short caption lines between long lines.

The shapes and the call counter are the growth test's, imported from it.

For each shape and size it prints the chunking time, the number of chunks and, with
``--ops``, the number of Python and C function calls made while chunking (counted with
``sys.setprofile``; deterministic, and what ``tests/index/test_chunking_growth.py``
checks grows linearly).
"""

from __future__ import annotations

import argparse
import time

from index.chunking import chunk_article
from index.documents import Article
from tests.index.test_chunking_growth import SHAPES, count_calls  # the shapes' one home


def main() -> None:
    """Time (and optionally count) chunking of each shape at each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16_000, 32_000, 64_000])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--ops", action="store_true", help="also count function calls")
    args = parser.parse_args()
    chunk_article(Article(id="warm-up", text="Câu một. Câu hai."))  # loads the splitter
    for shape in args.shapes:
        for n in args.sizes:
            article = Article(id=f"{shape}-{n}", text=SHAPES[shape](n))
            started = time.perf_counter()
            chunks = chunk_article(article)
            seconds = time.perf_counter() - started
            line = (
                f"{shape:16} n={n:>6} chars={len(article.text):>7} "
                f"chunks={len(chunks):>5} {seconds:8.2f} s"
            )
            if args.ops:
                line += f" calls={count_calls(lambda a=article: chunk_article(a)):>10}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
