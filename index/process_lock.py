"""The index's process lock: one process opens an index folder at a time.

An ``flock`` on ``index.lock``, released by the kernel when the process dies, so a killed
server never blocks its restart; the file names the holder's pid for the error message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from index.errors import IndexLockedError

LOCK_FILE = "index.lock"


def release_lock(handle: IO[str]) -> None:
    """Release and close a lock taken by :func:`acquire_lock`."""
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def acquire_lock(directory: Path) -> IO[str]:
    """Take the index's process lock (:class:`IndexLockedError` if another holds it)."""
    return _acquire_lock(Path(directory) / LOCK_FILE)


def _acquire_lock(path: Path) -> IO[str]:
    handle = open(path, "a+")  # noqa: SIM115 - held open for the index's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise IndexLockedError(
            f"the index in {path.parent} is in use by {owner}. Stop that process "
            "(e.g. the running server) or send the articles through its HTTP API."
        ) from None
    try:  # who holds it, for the message above; a full disk may refuse even this
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
    except OSError:
        pass
    return handle
