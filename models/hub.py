"""Fast answers to "can we reach the model hub?" so start-up never stalls on it.

``huggingface_hub`` retries a failing download for over a minute. Before asking it
for anything we check ``HF_HUB_OFFLINE`` and, failing that, open one TCP connection
to the hub's endpoint with a short timeout. The answer is cached per process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_cached: bool | None = None

_TRUE = {"1", "true", "yes", "on"}


def offline_forced() -> bool:
    """True when the environment says not to touch the hub at all."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "VNQA_OFFLINE")
    )


def _endpoint() -> tuple[str, int]:
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.hostname or "", port


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the model hub answers a TCP connect within ``timeout_s`` seconds.

    Honours ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` / ``VNQA_OFFLINE`` without
    any network traffic. The first answer is cached for the life of the process.
    """
    global _cached
    if offline_forced():
        return False
    with _lock:
        if _cached is not None:
            return _cached
        host, port = _endpoint()
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                _cached = True
        except OSError as exc:
            logger.info("model hub unreachable (%s); using local models only", exc)
            _cached = False
        return _cached


def reset_cache() -> None:
    """Forget the cached probe result (for tests and long-running processes)."""
    global _cached
    with _lock:
        _cached = None
