"""Crash and shutdown against the real server process.

A server is SIGKILLed while clients are ingesting; after a restart every article is
either fully searchable (SQLite, FAISS and BM25 agree) or absent, nothing that was
acknowledged with 201 is lost, and start-up is clean. Then a SIGTERM arrives during an
ingest: the ingest finishes, is acknowledged, and survives the next start.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.service.server_process import ServerProcess
from tests.service.synthetic import synthetic_articles
from tests.small_disk import fill, free_up, small_disk

ARTICLES = 240
BATCH = 8
CLIENTS = 3
KILL_AFTER_ACKED = 96


def ingest_until_killed(server: ServerProcess, articles: list[dict]) -> tuple[set[str], set[str]]:
    """``CLIENTS`` threads post batches; SIGKILL once ``KILL_AFTER_ACKED`` are acknowledged.

    Returns the ids acknowledged with 201 and the ids sent in any request.
    """
    batches = [articles[i : i + BATCH] for i in range(0, len(articles), BATCH)]
    lock = threading.Lock()
    acked: set[str] = set()
    sent: set[str] = set()
    refused: list[str] = []  # asserted below: an assert in a worker thread only warns

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            while True:
                with lock:
                    if not batches:
                        return
                    batch = batches.pop(0)
                    sent.update(a["id"] for a in batch)
                try:
                    response = http.post("/v1/articles", json={"articles": batch})
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code != 201:
                    with lock:
                        refused.append(f"{response.status_code}: {response.text[:300]}")
                    return
                with lock:
                    acked.update(a["id"] for a in response.json()["articles"])

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 300
    while True:
        with lock:
            enough = len(acked) >= KILL_AFTER_ACKED
        if enough or not any(t.is_alive() for t in threads) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    server.kill()  # mid-ingest: the other clients have requests in flight
    for thread in threads:
        thread.join(timeout=60)
    with lock:
        assert not refused, f"a batch was refused before the kill: {refused[0]}"
        return set(acked), set(sent)


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """The server after a SIGKILL mid-ingest and a restart on the same data folder."""
    data = tmp_path_factory.mktemp("crash-data")
    logs = tmp_path_factory.mktemp("crash-logs")
    articles = synthetic_articles(ARTICLES)
    first = ServerProcess(data, logs / "first.log").start()
    try:
        acked, sent = ingest_until_killed(first, articles)
    finally:
        first.kill()
    second = ServerProcess(data, logs / "second.log").start()  # the lock must not block it
    yield second, articles, acked, sent
    second.kill()


def test_sigkill_mid_ingest_loses_nothing_acknowledged(restarted):
    server, articles, acked, sent = restarted
    assert len(acked) >= KILL_AFTER_ACKED and len(sent) < len(articles), "not killed mid-ingest"
    present, absent = [], []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for article in articles:
            response = http.get(f"/v1/articles/{article['id']}")
            assert response.status_code in (200, 404), response.text
            (present if response.status_code == 200 else absent).append((article, response.json()))
        lost = acked - {a["id"] for a, _ in present}
        assert not lost, f"acknowledged with 201 but lost: {sorted(lost)[:5]}"
        for article, stored in present:
            assert stored["text"] == article["text"]
            ids = {"article_ids": [article["id"]]}
            # Every chunk is in FAISS (dense) and in BM25, and the article wins its tag.
            for mode in ("dense", "bm25"):
                hits = http.post(
                    "/v1/search",
                    json={
                        "query": article["tag"],
                        "mode": mode,
                        "top_k": 50,
                        "filters": ids,
                    },
                ).json()["results"]
                assert len(hits) == stored["chunks"], (article["id"], mode, hits)
            top = http.post(
                "/v1/search", json={"query": article["tag"], "mode": "bm25", "top_k": 1}
            ).json()
            assert top["results"][0]["article_id"] == article["id"]
        health = http.get("/healthz").json()["index"]
    assert health["articles"] == len(present)
    assert not list((server.data_dir / "index").glob(".*.tmp"))
    log = server.log()
    assert "Traceback" not in log and '"level": "error"' not in log
    repairs = [
        json.loads(line)["message"]
        for line in log.splitlines()
        if line.startswith("{")
        and '"logger": "index.engine"' in line
        and '"level": "warning"' in line
    ]
    in_flight = len(sent) - len(acked)
    committed_unacked = len(present) - len(acked)
    print(
        f"\nSIGKILL mid-ingest: {len(sent)} articles sent, {len(acked)} acknowledged, "
        f"{in_flight} in flight at the kill; after restart {len(present)} present "
        f"({committed_unacked} committed but unacknowledged), {len(absent)} absent, "
        f"0 lost, 0 partial; repairs at start-up: {repairs or 'none needed'}"
    )


def test_sigterm_finishes_the_ingest_in_flight(restarted, tmp_path):
    server, _, _, _ = restarted
    batch = synthetic_articles(64, start=5000)
    result: dict = {}

    def ingest() -> None:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            result["response"] = http.post("/v1/articles", json={"articles": batch})

    thread = threading.Thread(target=ingest)
    thread.start()
    busy = re.compile(r'^vnqa_offload_in_flight\{lane="write"\} 1\.0$', re.M)
    deadline = time.monotonic() + 120
    while not busy.search(httpx.get(f"{server.url}/metrics", timeout=10).text):
        assert thread.is_alive() and time.monotonic() < deadline, "the ingest never started"
        time.sleep(0.005)
    status = server.terminate()
    thread.join(timeout=300)
    # uvicorn re-raises the signal once shut down, so the status says "ended by SIGTERM".
    assert status in (0, -signal.SIGTERM), server.log()[-3000:]
    log = server.log()
    assert log.index("Waiting for connections to close") < log.index('"status": 201')
    assert result["response"].status_code == 201
    assert len(result["response"].json()["articles"]) == len(batch)
    again = ServerProcess(server.data_dir, tmp_path / "third.log").start()
    try:
        with httpx.Client(base_url=again.url, timeout=60) as http:
            for article in batch:
                assert http.get(f"/v1/articles/{article['id']}").status_code == 200
    finally:
        again.terminate()


def _wal(data_dir: Path) -> Path:
    return data_dir / "index" / "store.sqlite3-wal"


def test_sigterm_leaves_a_checkpointed_store(tmp_path):
    """A stopped server has closed its index: no write-ahead log is left beside the
    store, and the main file alone holds every acknowledged article."""
    data = tmp_path / "data"
    server = ServerProcess(data, tmp_path / "server.log").start()
    batch = synthetic_articles(12, start=7000)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            response = http.post("/v1/articles", json={"articles": batch})
            assert response.status_code == 201, response.text
        assert _wal(data).exists() and _wal(data).stat().st_size > 0  # the commits sit there
    finally:
        status = server.terminate()
    assert status in (0, -signal.SIGTERM), server.log()[-3000:]
    assert not _wal(data).exists() or _wal(data).stat().st_size == 0
    # Read-only and immutable: the main file alone, as if the log were gone.
    db = sqlite3.connect(f"file:{data / 'index' / 'store.sqlite3'}?mode=ro&immutable=1", uri=True)
    try:
        stored = {row[0] for row in db.execute("SELECT id FROM articles")}
    finally:
        db.close()
    assert stored == {a["id"] for a in batch}


def run_cli(data_dir: Path, *args: str, limit_s: float = 300) -> subprocess.CompletedProcess:
    """``python -m service.cli ARGS`` over ``data_dir``, as an operator would run it."""
    env = ServerProcess(data_dir, data_dir / "unused.log").env
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=limit_s,
        check=False,
    )


def _ingest_batches(server: ServerProcess, articles: list[dict], size: int) -> set[str]:
    acked: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=120) as http:
        for i in range(0, len(articles), size):
            response = http.post("/v1/articles", json={"articles": articles[i : i + size]})
            assert response.status_code == 201, response.text
            acked.update(a["id"] for a in response.json()["articles"])
    return acked


def _damage(log: Path, offset: int) -> bytes:
    """Write 4 KB of random bytes into ``log`` at ``offset``; return the damaged log."""
    with open(log, "r+b") as handle:
        handle.seek(offset)
        handle.write(os.urandom(4096))
    return log.read_bytes()


@pytest.mark.parametrize("where", ["middle", "header"])
def test_damaged_log_after_sigkill_loses_nothing_acknowledged(tmp_path, where):
    """The issue's probe: SIGKILL, 4 KB of garbage into the write-ahead log, restart.
    Every commit is checkpointed into the main file at once, so the log holds nothing
    the store needs and every acknowledged article is there."""
    data = tmp_path / "data"
    articles = synthetic_articles(48, start=8000)
    first = ServerProcess(data, tmp_path / "first.log").start()
    try:
        acked = _ingest_batches(first, articles, size=4)
    finally:
        first.kill()
    wal = _wal(data)
    _damage(wal, 0 if where == "header" else wal.stat().st_size // 2)
    second = ServerProcess(data, tmp_path / "second.log").start()
    try:
        with httpx.Client(base_url=second.url, timeout=60) as http:
            assert http.get("/healthz").json()["status"] == "ok"
            present = {
                a["id"] for a in articles if http.get(f"/v1/articles/{a['id']}").status_code == 200
            }
            hits = http.post(
                "/v1/search", json={"query": articles[-1]["tag"], "mode": "bm25", "top_k": 1}
            ).json()["results"]
            assert hits[0]["article_id"] == articles[-1]["id"]
    finally:
        second.terminate()
    assert acked - present == set(), f"acknowledged but lost: {sorted(acked - present)[:5]}"
    print(
        f"\nDamaged log ({where}) after SIGKILL: {len(acked)} acknowledged, "
        f"{len(acked & present)} present, {len(acked - present)} lost"
    )


def test_store_that_lost_commits_serves_read_only_and_keeps_evidence(tmp_path):
    """The store loses its last commits (an older main file, a damaged log): the server
    serves read-only and says to run `vnqa repair`, the vector file and the damaged log
    are kept, `vnqa repair` backs up and restores writes."""
    data = tmp_path / "data"
    articles = synthetic_articles(48, start=8000)
    first = ServerProcess(data, tmp_path / "first.log").start()
    try:
        early = _ingest_batches(first, articles[:24], size=4)
        # Idle, every commit checkpointed: the main file alone is a consistent copy.
        old_store = (data / "index" / "store.sqlite3").read_bytes()
        acked = early | _ingest_batches(first, articles[24:], size=4)
    finally:
        first.kill()
    (data / "index" / "store.sqlite3").write_bytes(old_store)
    damaged_log = _damage(_wal(data), 0)  # a log SQLite cannot replay
    vectors = (data / "index" / "dense.faiss").read_bytes()

    second = ServerProcess(data, tmp_path / "second.log").start()
    try:
        with httpx.Client(base_url=second.url, timeout=60) as http:
            health = http.get("/healthz").json()
            assert health["status"] == "degraded", health
            assert "lost commits" in health["problems"][0]
            assert "vnqa repair" in health["problems"][0]
            refused = http.post("/v1/articles", json=synthetic_articles(1, start=9000)[0])
            assert refused.status_code == 503 and refused.json()["error"]["code"] == "read_only"
            present = {
                a["id"] for a in articles if http.get(f"/v1/articles/{a['id']}").status_code == 200
            }
            assert present == early
            assert http.post("/v1/search", json={"query": "hội nghị"}).status_code == 200
    finally:
        second.terminate()
    assert (data / "index" / "dense.faiss").read_bytes() == vectors
    evidence = sorted((data / "index").glob("evidence-*"))
    assert len(evidence) == 1
    assert (evidence[0] / "store.sqlite3-wal").read_bytes() == damaged_log
    assert (evidence[0] / "dense.faiss").read_bytes() == vectors
    assert "Traceback" not in second.log()

    repaired = run_cli(data, "repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "backup" in repaired.stdout and "lost from the store" in repaired.stdout
    backups = list((data / "index").glob("backup-*"))
    assert len(backups) == 1 and (backups[0] / "dense.faiss").read_bytes() == vectors

    third = ServerProcess(data, tmp_path / "third.log").start()
    try:
        with httpx.Client(base_url=third.url, timeout=60) as http:
            assert http.get("/healthz").json()["status"] == "ok"
            again = http.post("/v1/articles", json={"articles": articles})  # re-send
            assert again.status_code == 201
            assert http.get("/healthz").json()["index"]["articles"] == len(articles)
    finally:
        third.terminate()
    print(
        f"\nStore lost commits: {len(acked)} acknowledged, {len(present)} left in the "
        f"store, {len(acked - present)} lost from it; vectors and log kept, read-only "
        "until `vnqa repair`, all back after re-sending"
    )


def test_corrupt_store_at_start_is_one_line_then_repair(tmp_path):
    data = tmp_path / "data"
    (data / "index").mkdir(parents=True)
    (data / "index" / "store.sqlite3").write_bytes(b"garbage, not SQLite " * 500)
    for command in (["stats"], ["serve", "--port", "1"]):
        result = run_cli(data, *command)
        assert result.returncode == 1, result.stdout + result.stderr
        # `serve` logs JSON lines (VNQA_LOG_FORMAT=json) before it opens the index.
        lines = [
            line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")
        ]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "store.sqlite3 is damaged" in lines[0] and "vnqa repair" in lines[0]
    repaired = run_cli(data, "repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "rebuilt" in repaired.stdout
    assert run_cli(data, "stats").returncode == 0


def test_full_disk_507_read_only_restart_and_writes_resume(tmp_path):
    """On a real, full filesystem: a write is refused whole with 507, /healthz is
    degraded, a restart on the full disk serves reads, and writes resume once space
    is back."""
    with small_disk(tmp_path / "disk", size="32m") as disk:
        server = ServerProcess(disk, tmp_path / "full.log").start()
        seeded = synthetic_articles(8, start=6000)
        try:
            _ingest_batches(server, seeded, size=8)
            fill(disk)
            accepted: list[dict] = []
            with httpx.Client(base_url=server.url, timeout=60) as http:
                # The log's slack may take a small batch or two (201, and stored); then a
                # batch is refused whole.
                for start in range(6100, 7100, 4):
                    batch = synthetic_articles(4, start=start)
                    refused = http.post("/v1/articles", json={"articles": batch})
                    if refused.status_code != 201:
                        break
                    accepted += batch
                assert refused.status_code == 507, refused.text
                assert "full" in refused.json()["error"]["message"]
                for article in batch:  # nothing of the refused batch was stored
                    assert http.get(f"/v1/articles/{article['id']}").status_code == 404
                for article in accepted:  # everything acknowledged was
                    assert http.get(f"/v1/articles/{article['id']}").status_code == 200
                health = http.get("/healthz").json()
                assert health["status"] == "degraded"
                assert health["index"]["articles"] == 8 + len(accepted)
        finally:
            server.terminate()
        restarted = ServerProcess(disk, tmp_path / "full2.log").start()
        try:
            with httpx.Client(base_url=restarted.url, timeout=60) as http:
                assert http.get("/healthz").json()["status"] == "degraded"
                assert http.get(f"/v1/articles/{seeded[0]['id']}").status_code == 200
                assert http.post("/v1/search", json={"query": "hội nghị"}).status_code == 200
                assert http.post("/v1/articles", json={"articles": batch}).status_code == 507
                free_up(disk)
                resumed = http.post("/v1/articles", json={"articles": batch})
                assert resumed.status_code == 201, resumed.text
                health = http.get("/healthz").json()
                assert health["status"] == "ok"
                assert health["index"]["articles"] == 12 + len(accepted)
        finally:
            restarted.terminate()
        assert "Traceback" not in restarted.log()
