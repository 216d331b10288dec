"""Where a search, an answer and a one-article ingest spend their time (cProfile).

    .venv/bin/python bench/request_profile.py [--seed 30] [--lines 28]

Builds the server's runtime (:func:`service.runtime.build_runtime`, default settings,
summaries on arrival off) over a temporary folder, seeds ``--seed`` VietNews dev
articles, then profiles 30 searches, 15 asks (``top_k=3``, as ``bench/load.py``) and 8
one-article ingests, printing wall and CPU seconds and the top of each profile by
cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--lines", type=int, default=28)
    args = parser.parse_args()
    require_data(VIETNEWS)
    from index.documents import Article
    from service.core.config import Settings
    from service.runtime import build_runtime

    rows = load_vietnews()
    articles = [Article(id=f"a{i}", text=r["body"], title=r["title"]) for i, r in enumerate(rows)]
    queries = [r["title"] for r in rows[: args.seed]]
    with tempfile.TemporaryDirectory(prefix="vnqa-profile-") as tmp:
        settings = Settings(data_dir=Path(tmp), models_dir=ROOT / ".models", auto_summaries=False)
        runtime = build_runtime(settings)
        try:
            runtime.index.add_articles(articles[: args.seed])
            work = {
                "search": lambda: [runtime.index.search(q, top_k=5) for q in queries],
                "ask": lambda: [runtime.answerer.answer(q, top_k=3) for q in queries[:15]],
                "ingest": lambda: [
                    runtime.index.add_articles([a]) for a in articles[args.seed : args.seed + 8]
                ],
            }
            for name, run in work.items():
                profile = cProfile.Profile()
                wall, cpu = time.perf_counter(), time.process_time()
                profile.enable()
                run()
                profile.disable()
                print(
                    f"== {name}: wall {time.perf_counter() - wall:.2f} s, "
                    f"CPU {time.process_time() - cpu:.2f} s"
                )
                pstats.Stats(profile).sort_stats("cumulative").print_stats(args.lines)
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
