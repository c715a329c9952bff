"""Pure ASGI middleware of the case service: a quiet access log, and the admission of PIN work
into its bounded pool, which refuses an excess request in microseconds. (What both services share
lives in :mod:`openncii.serving`: the headers of every answer,
:class:`openncii.serving.headers.SecurityHeadersMiddleware`, and the body limit,
:class:`openncii.serving.limits.BodyLimitMiddleware`.)

Plain ASGI callables (not ``BaseHTTPMiddleware``) so that they stream, cost little and also
wrap the static files and the error pages.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from openncii.cases.pins import PinSlots, busy_error
from openncii.serving.errors import error_body, rule_for
from openncii.serving.limits import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLogMiddleware", "PinAdmissionMiddleware"]

#: Name of the access logger (method, path, status, duration; no client address by default).
ACCESS_LOGGER: Final = "openncii.access"


class StatusRecorder:
    """An ASGI ``send`` that passes every message on and remembers the response's status.

    ``status`` is 500 until the application starts its response (an exception before that is
    what the server answers with 500).
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)


class AccessLogMiddleware:
    """One line per request: method, path (no query string), status, milliseconds.

    The client address is added only when ``log_client_ips`` is true. Bodies (PINs, hashes) and
    query strings are never logged.
    """

    def __init__(self, app: ASGIApp, log_client_ips: bool = False) -> None:
        self.app = app
        self.log_client_ips = log_client_ips
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answer = StatusRecorder(send)
        try:
            await self.app(scope, receive, answer)
        finally:
            if self.logger.isEnabledFor(logging.INFO):
                elapsed_ms = (time.perf_counter() - start) * 1000
                path = scope.get("path", "")
                if self.log_client_ips and scope.get("client"):
                    self.logger.info(
                        "%s %s %s %d %.1fms",
                        scope["client"][0],
                        scope.get("method", ""),
                        path,
                        answer.status,
                        elapsed_ms,
                    )
                else:
                    self.logger.info(
                        "%s %s %d %.1fms", scope.get("method", ""), path, answer.status, elapsed_ms
                    )


class PinAdmissionMiddleware:
    """Admit each POST to ``paths`` into the bounded PIN pool before anything else happens to it
    (routing, dependencies, the database, counting a try), for the whole request; when the
    pool's queue is full, answer 503 ``busy`` with ``Retry-After`` at once, from a prebuilt
    answer: under a flood, refusing costs almost nothing, so health checks, pages and the
    admitted requests keep the event loop."""

    def __init__(self, app: ASGIApp, slots: PinSlots, paths: frozenset[str]) -> None:
        self.app = app
        self.slots = slots
        self.paths = paths
        busy = busy_error()
        self._body = error_body(str(busy), rule_for(busy).code)
        self._start: Message = {
            "type": "http.response.start",
            "status": rule_for(busy).status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(self._body)).encode()),
                (b"retry-after", str(busy.retry_after).encode()),
            ],
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in (self.paths)
        ):
            await self.app(scope, receive, send)
            return
        if not self.slots.try_admit():
            await send(dict(self._start))
            await send({"type": "http.response.body", "body": self._body})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
