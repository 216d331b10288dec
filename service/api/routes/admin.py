"""``/v1/admin``: maintenance (write scope), e.g. redoing stored summaries."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AutoSummariesDep, SummariesDep, WriteOffloadDep
from service.summary_schemas import Requeued, ResummarizeIn

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/resummarize", response_model=Requeued, summary="Tóm tắt lại các bài đã lưu")
async def resummarize(
    summaries: SummariesDep,
    auto_summaries: AutoSummariesDep,
    offload: WriteOffloadDep,
    body: ResummarizeIn | None = None,
) -> Requeued:
    """Queue stale (default), failed or all summaries again; the worker redoes them."""
    which = (body or ResummarizeIn()).which
    count = await offload(summaries.requeue, which)
    auto_summaries.notify()
    return Requeued(requeued=count, which=which)
