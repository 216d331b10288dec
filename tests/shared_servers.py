"""Real PostgreSQL and Milvus Lite servers on loopback, in temporary folders, for tests.

PostgreSQL comes from the Debian package (``make test-deps`` installs it); it refuses
to run as root, so as root the cluster belongs to the ``postgres`` user the package
creates. Milvus Lite runs as ``milvus-lite server`` (gRPC) from the Python package.
Both stop and restart on demand, so tests can take a backend away and bring it back.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import missing_component
from tests.service.server_process import free_port


def postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian's layout or the PATH), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def milvus_lite_command() -> list[str] | None:
    """How to start ``milvus-lite server``, or None when the package is not installed."""
    try:
        import milvus_lite.cmdline  # noqa: F401
    except ImportError:
        return None
    script = Path(sys.executable).parent / "milvus-lite"
    return [str(script)] if script.exists() else [sys.executable, "-m", "milvus_lite"]


class PostgresServer:
    """A throwaway cluster on 127.0.0.1 (trust authentication, database ``vnqa``)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        assert self.bin is not None
        self._user = "postgres" if os.geteuid() == 0 else None
        # Its own folder under the system temp dir: pytest's are private to the test user,
        # and the ``postgres`` user must be able to reach the cluster.
        self.root = Path(tempfile.mkdtemp(prefix="vnqa-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://vnqa@127.0.0.1:{self.port}/vnqa"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr}{done.stdout}")
        return done

    def init(self) -> PostgresServer:
        """initdb, start, and create the role and database."""
        if self._user:
            shutil.chown(self.root, self._user)
        self._run(
            "initdb", "-D", str(self.data), "-U", "vnqa", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "vnqa", "vnqa")
        return self

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c fsync=off"
            f" -c unix_socket_directories={self.root} -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def new_database(self, name: str) -> str:
        """Create an empty database ``name`` on this server; returns its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        """Stop the server and delete the cluster."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class MilvusLiteServer:
    """``milvus-lite server`` over a data folder on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.command = milvus_lite_command()
        assert self.command is not None
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, limit_s: float = 60.0) -> MilvusLiteServer:
        """Start and wait until a client connects."""
        from pymilvus import MilvusClient

        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "milvus.log", "ab")  # noqa: SIM115 - closed below
        self.process = subprocess.Popen(
            [
                *self.command,
                "server",
                "--data-dir",
                str(self.root / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + limit_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite exited: {(self.root / 'milvus.log').read_text()}")
            try:
                MilvusClient(uri=self.uri, timeout=2).list_collections(timeout=2)
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        """Kill the server (its data folder stays for a restart)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@contextmanager
def running_backends(root: Path) -> Iterator[tuple[PostgresServer, MilvusLiteServer]]:
    """A PostgreSQL and a ``milvus-lite server`` of their own (Milvus's data under
    ``root``), for a test module's replicas; skips (fails in CI) when one is missing."""
    if postgres_bin() is None:
        missing_component("PostgreSQL (initdb, pg_ctl) is not installed: run `make test-deps`")
    if milvus_lite_command() is None:
        missing_component("milvus-lite is not installed: pip install -e '.[scale]'")
    pg = PostgresServer().init()
    try:
        milvus = MilvusLiteServer(root).start()
        try:
            yield pg, milvus
        finally:
            milvus.stop()
    finally:
        pg.destroy()
