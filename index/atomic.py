"""Crash-safe file writes: temp file in the same folder, fsync, rename, fsync folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` with what ``fill`` writes to the open file it is given, so
    readers see the old or the new file, never half (temp file in the same folder,
    fsync, rename, fsync of the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, *parts: bytes | memoryview) -> None:
    """:func:`atomic_write` of ``parts``, written one after another as given (a large
    buffer is not copied into one ``bytes`` first)."""

    def fill(handle: BinaryIO) -> None:
        for part in parts:
            handle.write(part)

    atomic_write(path, fill)


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))
