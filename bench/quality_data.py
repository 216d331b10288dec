"""Dev datasets for the quality benchmarks, read from ``../shared/data`` (never copied here).

``VNQA_BENCH_DATA`` overrides the folder. Scripts call :func:`require_data`, which exits
with a clear message when the folder or a file is missing.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("VNQA_BENCH_DATA", REPO_ROOT.parent / "shared" / "data"))
VIQUAD = DATA_DIR / "viquad-dev.json"
VIETNEWS = DATA_DIR / "vietnews-dev.jsonl"
VIETNEWS_2K = DATA_DIR / "vietnews-dev2k.jsonl"  # 2,000 articles: tune summaries here


def require_data(*paths: Path) -> None:
    """Exit (status 0, message on stderr) when any dataset file is absent."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(
            f"skipped: dataset not found: {', '.join(missing)} "
            "(expected ../shared/data, or set VNQA_BENCH_DATA)",
            file=sys.stderr,
        )
        sys.exit(0)


@dataclass(frozen=True)
class Paragraph:
    """One ViQuAD paragraph, ingested as one article."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    """One ViQuAD question; ``paragraph_id`` is the gold article."""

    id: str
    text: str
    paragraph_id: str
    answers: tuple[str, ...]


def load_viquad(limit: int | None = None) -> tuple[list[Paragraph], list[Question]]:
    """Paragraphs and questions of UIT-ViQuAD dev; ``limit`` keeps the first N paragraphs."""
    data = json.loads(VIQUAD.read_text(encoding="utf-8"))["data"]
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            pid = f"viquad-{a:02d}-{p:03d}"
            paragraphs.append(Paragraph(pid, article["title"], para["context"]))
            questions.extend(
                Question(
                    qa["id"],
                    qa["question"],
                    pid,
                    tuple(dict.fromkeys(ans["text"] for ans in qa["answers"])),
                )
                for qa in para["qas"]
            )
    if limit is not None:
        paragraphs = paragraphs[:limit]
        keep = {p.id for p in paragraphs}
        questions = [q for q in questions if q.paragraph_id in keep]
    return paragraphs, questions


def load_vietnews(limit: int | None = None, path: Path = VIETNEWS) -> list[dict[str, str]]:
    """VietNews dev articles (``id``, ``title``, ``summary``, ``body``), the first ``limit``."""
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return rows[:limit] if limit is not None else rows
