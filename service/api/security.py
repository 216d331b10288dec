"""API keys with scopes, enforced by path prefix for every route, present and future.

``VNQA_API_KEYS="k1:write,k2:read"`` turns authentication on. Rules, in one place
(:func:`required_scope`):

* ``/v1/...`` needs ``read``; a write method (POST, PUT, PATCH, DELETE) on
  ``/v1/articles`` and anything below it (``/v1/articles/upload``…) needs ``write``;
* ``/mcp`` needs ``write``, since its tools include ``add_article``;
* ``/metrics`` needs ``read`` unless ``VNQA_METRICS_PUBLIC`` (it reveals the index size);
* everything else (``/healthz``, ``/``, ``/docs``, ``/openapi.json``, static files) is open.

A pure-ASGI middleware (not ``BaseHTTPMiddleware``), so streamed responses pass
through untouched. Keys are compared with :func:`hmac.compare_digest` against every
configured key and never logged; the granted scope is left in
``scope["state"]["auth_scope"]`` for routes that want it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Literal

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import error_response
from service.core.config import Settings

KeyScope = Literal["read", "write"]
_RANK = {"read": 1, "write": 2}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITE_PREFIXES = ("/v1/articles",)


def required_scope(method: str, path: str, *, metrics_public: bool) -> KeyScope | None:
    """The scope a request needs, or ``None`` for an open path."""
    if path == "/metrics" or path.startswith("/metrics/"):
        return None if metrics_public else "read"
    if path == "/mcp" or path.startswith("/mcp/"):
        return "write"
    if path == "/v1" or path.startswith("/v1/"):
        if method in _WRITE_METHODS and any(
            path == p or path.startswith(p + "/") for p in _WRITE_PREFIXES
        ):
            return "write"
        return "read"
    return None


def _match_key(presented: str, keys: Mapping[str, str]) -> KeyScope | None:
    """The scope of ``presented``; every key is compared, in constant time each."""
    found: str | None = None
    candidate = presented.encode()
    for key, scope in keys.items():
        if hmac.compare_digest(candidate, key.encode()):
            found = scope
    return found


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


class ApiKeyMiddleware:
    """401 without a valid key, 403 with a key of too small a scope (JSON errors)."""

    def __init__(self, app: ASGIApp, keys: Mapping[str, str], metrics_public: bool) -> None:
        self.app = app
        self.keys = dict(keys)
        self.metrics_public = metrics_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.keys:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # mounted under a prefix: match as the router does
            path = path[len(root) :] or "/"
        needed = required_scope(method, path, metrics_public=self.metrics_public)
        if needed is None or method == "OPTIONS":  # CORS preflights carry no credentials
            await self.app(scope, receive, send)
            return
        token = _bearer(scope.get("headers") or [])
        granted = _match_key(token, self.keys) if token is not None else None
        if granted is None:
            reason = "is missing" if token is None else "is not a valid API key"
            response = error_response(
                401,
                "unauthorized",
                f"The Authorization header {reason}; send `Authorization: Bearer <key>` "
                "with a key from VNQA_API_KEYS.",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="vnqa"'
            await response(scope, receive, send)
            return
        if _RANK[granted] < _RANK[needed]:
            await error_response(
                403,
                "forbidden",
                f"This API key has the `{granted}` scope; {method} {path} needs "
                f"`{needed}`.",
            )(scope, receive, send)
            return
        scope.setdefault("state", {})["auth_scope"] = granted
        await self.app(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """API-key checks, then CORS outside them (so a 401 still carries CORS headers and
    preflights are answered without a key). CORS only when origins are configured."""
    app.add_middleware(
        ApiKeyMiddleware,
        keys=settings.api_key_scopes(),
        metrics_public=settings.metrics_public,
    )
    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
