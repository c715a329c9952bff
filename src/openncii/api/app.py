"""The application factory: ``create_app(settings)`` builds the whole HTTP service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from openncii import __version__
from openncii.api import metrics
from openncii.api.console import ADMIN_API_PREFIX, ADMIN_PATH
from openncii.api.errors import install_error_handlers
from openncii.api.middleware import AccessLogMiddleware, PinAdmissionMiddleware
from openncii.api.routes import (
    admin_audit,
    admin_denylist,
    admin_helplines,
    admin_partners,
    admin_review,
    admin_session,
    admin_settings,
    admin_staff,
    admin_stats,
    cases,
    health,
    helplines,
    limits,
    organisation,
    partner_feed,
    partners,
)
from openncii.api.routes import metrics as metrics_route
from openncii.api.routes.docs import DOCS_CONTENT_SECURITY_POLICY, DOCS_PATH, install_docs
from openncii.api.routes.health import HEALTHZ_PATH
from openncii.api.routes.partner_feed import PARTNER_API_PREFIX
from openncii.api.runtime import Runtime
from openncii.api.schemas import ErrorOut
from openncii.serving.headers import SecurityHeadersMiddleware
from openncii.serving.limits import BodyLimitMiddleware
from openncii.settings import Settings
from openncii.web import STATIC_DIR

__all__ = [
    "API_PREFIX",
    "CONSOLE_ROUTERS",
    "HEALTHZ_PATH",
    "OPENAPI_PATH",
    "create_app",
    "create_app_from_environment",
]

#: Prefix of the victim API.
API_PREFIX: Final = "/api/v1"
#: Where the OpenAPI document is served.
OPENAPI_PATH: Final = "/openapi.json"
#: The routers of the helpline console's API (``/admin/api``), one per resource.
CONSOLE_ROUTERS: Final = (
    admin_session.router,
    admin_stats.router,
    admin_staff.router,
    admin_partners.router,
    admin_audit.router,
    admin_review.router,
    admin_denylist.router,
    admin_settings.router,
    admin_helplines.router,
)


def create_app(settings: Settings) -> FastAPI:
    """Build the OpenNCII FastAPI application from explicit settings.

    The database must already be migrated (``openncii serve`` does it; tests use
    :func:`openncii.db.migrate`). The engine is made here and disposed when the app shuts down.
    """
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="OpenNCII",
        version=__version__,
        description="Case service for stopping non-consensual intimate image abuse. "
        "People send only hashes; the images never leave their device.",
        docs_url=None,  # served by routes.docs, without a CDN
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)

    # Every victim route's 422 is the one error body (FastAPI would document its own shape).
    invalid = {"model": ErrorOut, "description": "The request is not valid (see code and detail)."}
    api = APIRouter(prefix=API_PREFIX, responses={422: invalid})
    api.include_router(cases.router)
    api.include_router(limits.router)
    api.include_router(partners.router)
    api.include_router(helplines.router)
    api.include_router(organisation.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(partner_feed.router)  # the partner API (/v1)
    app.include_router(metrics_route.router)  # GET /metrics (Prometheus)
    install_docs(app, openapi_url=OPENAPI_PATH)
    for console_router in CONSOLE_ROUTERS:
        app.include_router(console_router)  # the helpline console's API (/admin/api)
    _answer_wrong_methods_and_unknown_paths(app)
    _document_the_settings(app, settings)

    # Middleware: the last added runs first. Headers wrap everything, even the 413 and 500s.
    app.add_middleware(
        metrics.MetricsMiddleware, metrics=runtime.metrics, templates=lambda: _templates(app)
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, log_client_ips=settings.log_client_ips)
    app.add_middleware(
        PinAdmissionMiddleware,
        slots=runtime.rules.pins.slots,
        paths=frozenset(
            [*(API_PREFIX + path for path in cases.PIN_PATHS), *admin_session.PASSWORD_PATHS]
        ),
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.served_over_https,
        policies={DOCS_PATH: DOCS_CONTENT_SECURITY_POLICY},
        cookie_prefix=ADMIN_PATH + "/",  # the console's session cookie, and only there
    )

    # Mounted last so that /api, /v1, /docs and /healthz win over the static files.
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app


class _Refusal:
    """An ASGI endpoint that refuses every request (``405`` with ``Allow``, or ``404``).

    Routed without a method list, it matches a path whatever the method, so it answers where
    the static mount would otherwise (a ``GET`` on a ``POST`` route is not a missing file).
    """

    def __init__(self, status: int, detail: str, allow: str | None = None) -> None:
        self.status = status
        self.detail = detail
        self.headers = {"Allow": allow} if allow is not None else None

    async def __call__(self, _scope: Scope, _receive: Receive, _send: Send) -> None:
        raise StarletteHTTPException(self.status, self.detail, self.headers)


def _answer_wrong_methods_and_unknown_paths(app: FastAPI) -> None:
    """After every route of ``app``: a request for a route's path with another method (OPTIONS
    included) gets 405 with the route's methods in ``Allow``; any path under the API prefixes
    that no route serves gets 404. Neither reaches the static files."""
    methods: dict[str, set[str]] = {
        path: {method.upper() for method in operations}
        for path, operations in get_openapi(title="", version="", routes=app.routes)[
            "paths"
        ].items()
    }
    for route in app.router.routes:  # the routes outside the document (/openapi.json, /docs)
        if isinstance(route, Route) and route.methods:
            methods.setdefault(route.path, set()).update(route.methods)
    for path, allowed in methods.items():
        allow = ", ".join(sorted(allowed))
        refusal = _Refusal(405, f"Method not allowed here; use {allow}.", allow)
        app.router.routes.append(Route(path, refusal, include_in_schema=False))
    for prefix in (API_PREFIX, PARTNER_API_PREFIX, ADMIN_API_PREFIX):
        for path in (prefix, prefix + "/{rest:path}"):
            refusal = _Refusal(404, "No such API path.")
            app.router.routes.append(Route(path, refusal, include_in_schema=False))


def _templates(app: FastAPI) -> list[str]:
    """The path templates of every route: the documented ones, the console's, /metrics."""
    documented = get_openapi(title="", version="", routes=app.routes)["paths"]
    console = [str(getattr(r, "path", "")) for router in CONSOLE_ROUTERS for r in router.routes]
    return [*documented, *console, metrics_route.METRICS_PATH]


def _document_the_settings(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document states the limits these settings set (the most hashes a case may
    hold), not the models' static bounds."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            case = document["components"]["schemas"]["CaseCreateIn"]["properties"]["hashes"]
            case["maxItems"] = settings.max_hashes_per_case
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call: settings from ``OPENNCII_*`` variables."""
    return create_app(Settings())
