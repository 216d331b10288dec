"""``/healthz``: liveness plus what models, backends and how much data are loaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import RuntimeDep
from service.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthResponse,
    summary="Tình trạng dịch vụ",
    responses={503: {"model": HealthResponse, "description": "A shared backend is down."}},
)
async def healthz(runtime: RuntimeDep):
    """Models in use (and why the summarizer fell back, if it did), index size, the
    backends and whether each answers, and ``degraded`` with the problems when the
    index is read-only or the disk is full. 503 with ``unavailable`` while a shared
    backend (PostgreSQL, Milvus) does not answer, so a load balancer skips the replica."""
    # Cheap: not queued behind inference work.
    index = runtime.index
    backends = await run_in_threadpool(index.backends)
    if any(not b.reachable for b in backends):
        problems = [b.error or f"{b.where} is unreachable" for b in backends if not b.reachable]
        body = HealthResponse.build(
            runtime.embedder, runtime.summarizer_choice, None, problems, backends
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    stats = await run_in_threadpool(index.stats)
    problems = await run_in_threadpool(index.problems)
    return HealthResponse.build(
        runtime.embedder, runtime.summarizer_choice, stats, problems, backends
    )
