"""FastAPI dependencies: everything a route needs, read from ``request.app.state``.

The app factory stores the :class:`Settings`, the :class:`Runtime` and the two
offload lanes (:mod:`service.api.offload`) on ``app.state``; routes declare what they
use with the ``Annotated`` aliases below, never reaching for globals.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.backends import SearchIndex
from index.summary_store import SummaryStore
from service.answering import Answerer
from service.api.errors import ApiError
from service.api.offload import LANE_ATTRS, Lanes, Offload, install_lanes, make_offloads
from service.auto_summaries import AutoSummaries
from service.core.config import Settings
from service.runtime import Runtime


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_runtime(request: Request) -> Runtime:
    """The runtime built at start-up; 503 while it is not ready."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ApiError(503, "not_ready", "The service is still starting; retry in a few seconds.")
    return runtime


def get_index(runtime: Annotated[Runtime, Depends(get_runtime)]) -> SearchIndex:
    """The article index."""
    return runtime.index


def get_answerer(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Answerer:
    """The question answerer."""
    return runtime.answerer


def get_summaries(runtime: Annotated[Runtime, Depends(get_runtime)]) -> SummaryStore:
    """The stored summaries and their work queue."""
    if runtime.summaries is None:
        raise ApiError(501, "not_supported", "Stored summaries need the embedded index backend.")
    return runtime.summaries


def get_auto_summaries(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AutoSummaries:
    """The summary worker (whether or not its background thread runs)."""
    if runtime.auto_summaries is None:
        raise ApiError(501, "not_supported", "Stored summaries need the embedded index backend.")
    return runtime.auto_summaries


def _lanes(request: Request) -> Lanes:
    state = request.app.state
    if any(getattr(state, attr, None) is None for attr in LANE_ATTRS.values()):
        install_lanes(state, make_offloads(state.settings))
    return Lanes(**{name: getattr(state, attr) for name, attr in LANE_ATTRS.items()})


def get_search_offload(request: Request) -> Offload:
    """The app's offloader for searches (interactive; created on first use if needed)."""
    return _lanes(request).search


def get_offload(request: Request) -> Offload:
    """The app's bounded offloader for inference (created on first use if start-up did not)."""
    return _lanes(request).inference


def get_write_offload(request: Request) -> Offload:
    """The app's single-worker offloader for index writes."""
    return _lanes(request).write


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IndexDep = Annotated[SearchIndex, Depends(get_index)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
SearchOffloadDep = Annotated[Offload, Depends(get_search_offload)]
OffloadDep = Annotated[Offload, Depends(get_offload)]
WriteOffloadDep = Annotated[Offload, Depends(get_write_offload)]
SummariesDep = Annotated[SummaryStore, Depends(get_summaries)]
AutoSummariesDep = Annotated[AutoSummaries, Depends(get_auto_summaries)]
