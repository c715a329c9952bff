"""The application factory: ``create_app(settings)`` builds the whole HTTP service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from openncii import __version__
from openncii.api.errors import install_error_handlers
from openncii.api.middleware import AccessLogMiddleware, SecurityHeadersMiddleware
from openncii.api.routes import cases, health, helplines, limits, partner_feed, partners
from openncii.api.routes.health import HEALTHZ_PATH
from openncii.api.runtime import Runtime
from openncii.serving.limits import BodyLimitMiddleware
from openncii.settings import Settings
from openncii.web import STATIC_DIR

__all__ = ["API_PREFIX", "HEALTHZ_PATH", "create_app", "create_app_from_environment"]

#: Prefix of the victim API.
API_PREFIX: Final = "/api/v1"


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
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(cases.router)
    api.include_router(limits.router)
    api.include_router(partners.router)
    api.include_router(helplines.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(partner_feed.router)  # the partner API (/v1)

    # Middleware: the last added runs first. Headers wrap everything, even the 413 and 500s.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, log_client_ips=settings.log_client_ips)
    app.add_middleware(SecurityHeadersMiddleware)

    # Mounted last so that /api, /v1, /docs and /healthz win over the static files.
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app


def create_app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call: settings from ``OPENNCII_*`` variables."""
    return create_app(Settings())
