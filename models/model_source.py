"""Where a model's files come from, looked up in one order for every model (the embedder
and the seq2seq summarizer): a local folder named by a setting, the Hugging Face cache,
then the hub, asked only when :func:`models.hub.hub_reachable` answers in time.

The lookup never loads anything; each loader reads the folder (or, for the hub,
downloads) in its own way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from models.hub import hub_reachable, offline_forced

# Weight files a model folder may hold (sentence-transformers, transformers).
WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin")


def weight_files(folder: Path) -> list[Path]:
    """Weight files of the model folder and of its sentence-transformers module folders."""
    folder = Path(folder)
    dirs = [folder]
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        dirs += [folder / m["path"] for m in modules if m.get("path")]
    except (OSError, ValueError, TypeError, KeyError):
        pass  # plain transformers folder
    files = {p for d in dirs for pattern in WEIGHT_GLOBS for p in d.glob(pattern) if p.is_file()}
    return sorted(files)


def looks_like_model(folder: Path) -> bool:
    """A folder with a config (``config.json`` or ``modules.json``) and weight files."""
    folder = Path(folder)
    has_config = (folder / "config.json").is_file() or (folder / "modules.json").is_file()
    return has_config and bool(weight_files(folder))


def looks_like_path(model_id: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else must be a folder."""
    return (
        model_id.startswith((".", "~", "/", "\\"))
        or Path(model_id).is_absolute()
        or model_id.count("/") > 1
        or "\\" in model_id
    )


@dataclass(frozen=True)
class ModelLocation:
    """Where a hub id was found: ``cache`` (``folder`` is the snapshot), ``hub`` (reachable;
    the loader downloads) or ``missing``; ``tried`` says what was looked at and why it
    did not serve, for the error message."""

    where: Literal["cache", "hub", "missing"]
    folder: Path | None = None
    tried: list[str] = field(default_factory=list)


def cached_snapshot(model_id: str) -> Path:
    """The Hugging Face cache's snapshot of ``model_id`` (no network); raises when it is
    not cached or lacks a config or weights."""
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(model_id, local_files_only=True))
    if not looks_like_model(folder):
        raise FileNotFoundError(f"cached snapshot {folder} lacks config or weight files")
    return folder


def locate_model(model_id: str, *, hub_probe_timeout_s: float = 3.0) -> ModelLocation:
    """Find hub id ``model_id``: the Hugging Face cache first, then the hub if it answers
    within ``hub_probe_timeout_s`` (never when ``HF_HUB_OFFLINE`` is set)."""
    tried: list[str] = []
    try:
        return ModelLocation("cache", cached_snapshot(model_id), tried)
    except Exception as exc:  # not cached, partial cache, invalid repo id...
        tried.append(f"Hugging Face cache: {type(exc).__name__}: {first_line(exc)}")
    if hub_reachable(hub_probe_timeout_s):
        return ModelLocation("hub", None, tried)
    why = "offline mode is set" if offline_forced() else "no answer from the hub"
    tried.append(f"hub: skipped ({why})")
    return ModelLocation("missing", None, tried)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 200 characters."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
