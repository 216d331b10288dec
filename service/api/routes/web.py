"""The web page: ``/`` and its static files (plain HTML, JS and CSS; no build step)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.api.errors import ApiError

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "static"
_NAME_RE = re.compile(r"[a-z0-9-]+\.(?:js|css|svg)")

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    """The question page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    """One of the page's files; only plain names, so nothing outside the folder."""
    path = STATIC_DIR / name
    if not _NAME_RE.fullmatch(name) or not path.is_file():
        raise ApiError(404, "not_found", f"No static file {name!r}.")
    return FileResponse(path)
