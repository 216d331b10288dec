"""``/healthz``: liveness plus what models and how much data are loaded."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import RuntimeDep
from service.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse, summary="Tình trạng dịch vụ")
async def healthz(runtime: RuntimeDep) -> HealthResponse:
    """Models in use (and why the summarizer fell back, if it did), index size, and
    ``degraded`` with the problems when the index is read-only or the disk is full."""
    # Cheap: not queued behind inference work.
    stats = await run_in_threadpool(runtime.index.stats)
    problems = await run_in_threadpool(runtime.index.problems)
    return HealthResponse.build(runtime.embedder, runtime.summarizer_choice, stats, problems)
