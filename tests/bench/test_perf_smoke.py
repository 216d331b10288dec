"""Smoke run of ``bench/perf.py --quick --no-http`` on a tiny dataset made here (vnqa only;
the HTTP phase starts a server, which would double the run time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import MODELS_DIR, REPO_ROOT

TOPICS = [
    (
        "an ninh",
        "Công an tỉnh triệt phá đường dây lừa đảo qua mạng.",
        "Công an tỉnh vừa triệt phá một đường dây lừa đảo qua mạng xã hội. Các đối tượng giả "
        "danh cán bộ ngân hàng để chiếm đoạt tiền của người dân. Cơ quan điều tra đã khởi tố "
        "vụ án và bắt tạm giam năm bị can.",
    ),
    (
        "thời tiết",
        "Không khí lạnh tràn về miền Bắc.",
        "Miền Bắc đón đợt không khí lạnh mạnh từ đêm nay. Nhiệt độ thấp nhất ở vùng núi có "
        "nơi dưới 10 độ C. Người dân cần giữ ấm cho trẻ nhỏ và người già.",
    ),
    (
        "giáo dục",
        "Bộ Giáo dục công bố phương án thi tốt nghiệp.",
        "Bộ Giáo dục và Đào tạo công bố phương án thi tốt nghiệp trung học phổ thông năm sau. "
        "Thí sinh thi bốn môn, trong đó có hai môn bắt buộc là Toán và Ngữ văn.",
    ),
    (
        "kinh tế",
        "Giá vàng trong nước tăng mạnh.",
        "Giá vàng miếng trong nước tăng mạnh phiên sáng nay theo đà thế giới. Chênh lệch giữa "
        "giá mua và giá bán được các doanh nghiệp nới rộng.",
    ),
]


def test_perf_quick_runs_and_reports(tmp_path):
    rows = [
        {"id": f"vn-{i}", "title": title, "summary": summary, "body": body}
        for i, (title, summary, body) in enumerate(TOPICS)
    ]
    (tmp_path / "vietnews-dev.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    out = tmp_path / "perf.json"
    env = dict(
        os.environ,
        VNQA_BENCH_DATA=str(tmp_path),
        VNQA_MODELS_DIR=str(MODELS_DIR),
        HF_HUB_OFFLINE="1",
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "bench" / "perf.py"),
            "--quick",
            "--no-http",
            "--json",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ingest, chunks/s" in proc.stdout and "search p50" in proc.stdout
    result = json.loads(out.read_text())["vnqa"]
    assert result["chunks"] >= len(rows) and result["queries"] == len(rows)
    assert result["hit1"] == 1.0  # each summary finds its own article among four
    assert result["peak_rss_bytes"] > 0 and result["index_bytes"] > 0
