"""A real, small filesystem (tmpfs) that tests can fill up, for full-disk behaviour.

Mounting needs root (or CAP_SYS_ADMIN); where it is refused the tests that need it
are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = "filler.bin"


@contextmanager
def small_disk(folder: Path, size: str = "24m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` on ``folder`` for the duration; skip if impossible."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the filesystem under ``folder`` until at most ``leave`` bytes stay free."""
    filler = folder / FILLER
    block = 64 * 1024
    with open(filler, "ab") as out:
        while True:
            free = shutil.disk_usage(folder).free
            if free <= leave:
                break
            try:
                out.write(b"\0" * min(block, max(free - leave, 1)))
                out.flush()
            except OSError:  # ENOSPC: as full as it gets
                break
        os.fsync(out.fileno())
    return filler


def free_up(folder: Path) -> None:
    """Remove what :func:`fill` wrote."""
    (folder / FILLER).unlink(missing_ok=True)
