"""``vnqa serve`` as a real subprocess on a free 127.0.0.1 port, for crash and shutdown tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import MODELS_DIR, REPO_ROOT


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m service.cli serve`` over ``data_dir``; JSON logs go to ``log_path``."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "VNQA_DATA_DIR": str(data_dir),
            "VNQA_MODELS_DIR": str(MODELS_DIR),  # the embedder build is reused, not redone
            "VNQA_SUMMARIZER": "extractive",
            "VNQA_LOG_FORMAT": "json",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, limit_s: float = 180.0) -> ServerProcess:
        """Start and wait until ``/healthz`` answers; raises with the log if it dies."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + limit_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not answer /healthz:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, limit_s: float = 120.0) -> int:
        """SIGTERM and wait for the exit status (a graceful shutdown)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=limit_s)
