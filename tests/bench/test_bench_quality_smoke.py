"""Smoke runs of ``bench/retrieval.py`` and ``bench/summaries.py`` on tiny datasets made here.

The real dev data lives in ``../shared/data``; these runs point ``VNQA_BENCH_DATA`` at
a few hand-written Vietnamese items so the scripts' whole path is exercised in
``make test`` whether or not the shared data is present.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODELS_DIR, REPO_ROOT

PARAGRAPHS = [
    (
        "Hà Nội",
        "Hà Nội là thủ đô của Việt Nam. Thành phố nằm bên bờ sông Hồng và có hơn "
        "một nghìn năm lịch sử.",
        "Thủ đô của Việt Nam nằm bên bờ sông nào?",
        "sông Hồng",
    ),
    (
        "Phở",
        "Phở là món ăn truyền thống được làm từ bánh phở, nước dùng xương bò và thịt. "
        "Món ăn này phổ biến khắp cả nước.",
        "Nước dùng của phở được nấu từ gì?",
        "xương bò",
    ),
    (
        "Vịnh Hạ Long",
        "Vịnh Hạ Long thuộc tỉnh Quảng Ninh. Năm 1994, vịnh được UNESCO công "
        "nhận là di sản thiên nhiên thế giới.",
        "Vịnh Hạ Long được UNESCO công nhận năm nào?",
        "1994",
    ),
]
NEWS = [
    {
        "id": "vn-1",
        "title": "Không khí lạnh tràn về miền Bắc",
        "summary": "Miền Bắc đón đợt không khí lạnh mạnh, vùng núi có nơi dưới 10 độ C.",
        "body": "Từ đêm nay, không khí lạnh tràn về các tỉnh phía Bắc. Nhiệt độ thấp nhất ở "
        "vùng núi có nơi dưới 10 độ C.\n\nNgười dân cần giữ ấm cho trẻ nhỏ.",
    },
    {
        "id": "vn-2",
        "title": "Giá vàng tăng mạnh",
        "summary": "Giá vàng miếng trong nước tăng mạnh theo đà thế giới.",
        "body": "Sáng nay, giá vàng miếng trong nước tăng mạnh. Các doanh nghiệp nới rộng "
        "chênh lệch giữa giá mua và giá bán.\n\nGiá vàng thế giới cũng tăng.",
    },
]


def _write_data(folder: Path) -> None:
    viquad = {
        "version": "test",
        "data": [
            {
                "title": title,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": f"q{i}",
                                "question": question,
                                "answers": [
                                    {"text": answer, "answer_start": context.index(answer)}
                                ],
                            }
                        ],
                    }
                ],
            }
            for i, (title, context, question, answer) in enumerate(PARAGRAPHS)
        ],
    }
    (folder / "viquad-dev.json").write_text(json.dumps(viquad, ensure_ascii=False), "utf-8")
    (folder / "vietnews-dev.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in NEWS), encoding="utf-8"
    )


def _run(script: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        VNQA_BENCH_DATA=str(tmp_path),
        VNQA_MODELS_DIR=str(MODELS_DIR),
        HF_HUB_OFFLINE="1",
    )
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_retrieval_bench_reports_every_mode_and_variant(tmp_path):
    _write_data(tmp_path)
    out = tmp_path / "retrieval.json"
    proc = _run("retrieval.py", tmp_path, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Targets (hybrid, accented)" in proc.stdout
    result = json.loads(out.read_text())
    viquad = result["viquad"]
    assert viquad["questions"] == len(PARAGRAPHS)
    assert set(viquad["variants"]) == {"accented", "unaccented", "nfd"}
    hybrid = viquad["variants"]["accented"]["hybrid"]
    assert hybrid["hit@1"] == 100.0 and hybrid["answer@5"] == 100.0  # three distinct topics
    assert viquad["variants"]["nfd"] == viquad["variants"]["accented"]
    assert result["vietnews"]["queries"]["summary"]["hybrid"]["hit@1"] == 100.0


def test_summaries_bench_scores_vietnamese_text(tmp_path):
    _write_data(tmp_path)
    out = tmp_path / "summaries.json"
    proc = _run("summaries.py", tmp_path, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    systems = json.loads(out.read_text())["systems"]
    assert set(systems) >= {"Lead-1", "Lead-2", "Lead-3", "extractive (body)"}
    # Lead-1 shares Vietnamese words with the reference: a tokenizer that dropped
    # non-ASCII letters would score these near zero.
    assert systems["Lead-1"]["rouge1"] > 30
    assert systems["Lead-1"]["length"] > 0


def test_missing_data_skips_with_a_message(tmp_path):
    proc = _run("summaries.py", tmp_path)
    assert proc.returncode == 0
    assert "dataset not found" in proc.stderr
