"""API keys with scopes, decided on the route a request will reach; deny by default.

``VNQA_API_KEYS="k1:write,k2:read"`` turns authentication on. Rules, in one place
(:func:`required_scope`), keyed by the matched route's template
(:func:`service.api.routing.match_route`, the router's own matching), never by the
raw path, so no spelling of a path reaches a handler under another route's rules:

* :data:`OPEN_ROUTES` (the page, its static files, ``/healthz``, the API docs) are open;
* ``/metrics`` needs ``read`` unless ``VNQA_METRICS_PUBLIC`` (it reveals the index size);
* ``/mcp`` needs ``write``, since its tools include ``add_article``;
* a write method (POST, PUT, PATCH, DELETE) on ``/v1/articles`` or a route below it
  needs ``write``, and so does every route under ``/v1/admin``;
* everything else, including paths that match no route, needs ``read``.

Before any of that, :class:`PathGuardMiddleware` answers 400 to a path holding control
characters (``%0A``, ``%00``...): Starlette's patterns end in ``$``, which also matches
before a trailing newline, so such paths would otherwise reach a route.

Pure-ASGI middleware (not ``BaseHTTPMiddleware``), so streamed responses pass through
untouched. Keys are compared with :func:`hmac.compare_digest` against every configured
key and never logged; the granted scope is left in ``scope["state"]["auth_scope"]``
for routes that want it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import error_response
from service.api.routing import match_route
from service.core.config import KeyScope, Settings

_RANK = {"read": 1, "write": 2}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITE_PREFIXES = ("/v1/articles",)


# The only routes served without a key; a new route needs a key until it is added here.
OPEN_ROUTES = frozenset(
    {"/", "/static/{name}", "/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
_WRITE_ROUTES = "/v1/articles"
_ADMIN_ROUTES = "/v1/admin/"


def required_scope(method: str, route: str | None, *, metrics_public: bool) -> KeyScope | None:
    """The scope a request needs, or ``None`` for an open route.

    ``route`` is the template of the route the request reaches (``None``: no route).
    """
    if route in OPEN_ROUTES:
        return None
    if route == "/metrics":
        return None if metrics_public else "read"
    if route == "/mcp" or (route is not None and route.startswith(_ADMIN_ROUTES)):
        return "write"
    if (
        route is not None
        and method in _WRITE_METHODS
        and (route == _WRITE_ROUTES or route.startswith(_WRITE_ROUTES + "/"))
    ):
        return "write"
    return "read"


def has_control_characters(path: str) -> bool:
    """Whether ``path`` (percent-decoded) holds a C0/C1 control character or DEL."""
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in path)


def _match_key(presented: str, keys: Mapping[str, KeyScope]) -> KeyScope | None:
    """The scope of ``presented``; every key is compared, in constant time each."""
    found: KeyScope | None = None
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

    def __init__(self, app: ASGIApp, keys: Mapping[str, KeyScope], metrics_public: bool) -> None:
        self.app = app
        self.keys = dict(keys)
        self.metrics_public = metrics_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.keys:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        path = scope["path"]
        route = match_route(scope["app"].router.routes, scope) if "app" in scope else None
        needed = required_scope(method, route, metrics_public=self.metrics_public)
        # No exemption for OPTIONS: CORSMiddleware (outside) answers real preflights itself.
        if needed is None:
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
                f"This API key has the `{granted}` scope; {method} {path} needs `{needed}`.",
            )(scope, receive, send)
            return
        scope.setdefault("state", {})["auth_scope"] = granted
        await self.app(scope, receive, send)


class PathGuardMiddleware:
    """400 for a path with control characters, before any routing or key check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and has_control_characters(
            scope.get("root_path", "") + scope.get("path", "")
        ):
            await error_response(
                400,
                "bad_path",
                "The request path contains control characters (such as an encoded newline "
                "%0A or NUL %00); remove them from the URL.",
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """API-key checks, then CORS outside them (so a 401 still carries CORS headers and
    preflights are answered without a key; CORS only when origins are configured), then
    the path guard outside both, on every app, keys or not."""
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
    app.add_middleware(PathGuardMiddleware)
