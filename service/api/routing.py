"""Which route a request reaches: the one lookup that access control and metrics share.

Starlette's router tries routes in order and takes the first full match (path and
method), else the first partial one (path only, answered 405). :func:`match_route`
replays exactly that on a bare scope, so a decision made from its answer applies to
the handler that will run, whatever the raw path looked like.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Match
from starlette.types import Scope


def match_route(routes: Iterable[Any], scope: Scope) -> str | None:
    """The path template (``/v1/articles/{article_id}``) of the route ``scope`` reaches.

    ``None`` when no route matches the path (the router would answer 404).
    """
    partial: str | None = None
    for candidate in iter_routes(routes):
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # a route type that cannot match a bare scope
            continue
        path = getattr(candidate, "path", None)
        if not path:
            continue
        if match == Match.FULL:
            return str(path)
        if match == Match.PARTIAL and partial is None:
            partial = str(path)
    return partial


def iter_routes(routes: Iterable[Any]) -> Iterable[Any]:
    """Every route, in the router's order, with FastAPI's included routers opened."""
    for candidate in routes:
        inner = getattr(candidate, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            yield from iter_routes(inner.routes)
        else:
            yield candidate
