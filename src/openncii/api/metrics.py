"""The case service's Prometheus metrics (served by ``api/routes/metrics.py`` at ``GET /metrics``),
in a registry of their own (one per app, so two apps in a process never mix their counts).

Labels are route templates (``/api/v1/cases/status``, ``/admin/api/partners/{name}/rotate``:
never the path with a value in it), methods and statuses: never a hash, a case number or a
client address. A pure ASGI middleware counts every request under the template its path
matches (a static file is ``(static)``, an unknown API path ``(unmatched)``); the domain
counters (cases created and withdrawn, feed pages served, feedback received) follow from the
route and status. argon2 time
is observed around every PIN hash and verification.

Access: with ``OPENNCII_METRICS_TOKEN`` set, ``Authorization: Bearer <token>``; unset, only
clients on the loopback interface (a Prometheus on the same host, or an SSH tunnel).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
)
from starlette.routing import compile_path

from openncii.api.middleware import StatusRecorder
from openncii.serving.limits import ASGIApp, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]

_UNMATCHED: Final = "(unmatched)"
_STATIC: Final = "(static)"
#: Paths under these that match no template are counted as unmatched, the rest as static files.
_API_PREFIXES: Final = ("/api/", "/v1/", "/admin/api/")
_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: (method, route template, status) -> the domain counter it stands for.
_EVENTS: Final = {
    ("POST", "/api/v1/cases", 201): "cases_created",
    ("POST", "/api/v1/cases/withdraw", 200): "cases_withdrawn",
    ("GET", "/v1/FetchHashes", 200): "feed_pages",
    ("POST", "/v1/SubmitFeedback", 200): "feedback_received",
}


class Metrics:
    """The case service's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "openncii_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "openncii_http_request_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.events = {
            name: Counter(f"openncii_{name}", text, registry=self.registry)
            for name, text in (
                ("cases_created", "Cases opened."),
                ("cases_withdrawn", "Cases withdrawn by the person."),
                ("feed_pages", "FetchHashes pages served to partners."),
                ("feedback_received", "SubmitFeedback requests accepted from partners."),
            )
        }
        self.argon2 = Histogram(
            "openncii_argon2_seconds",
            "Time of one argon2id PIN or password hash or verification.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
            registry=self.registry,
        )

    def observe_argon2(self, seconds: float) -> None:
        self.argon2.observe(seconds)


class MetricsMiddleware:
    """Count every HTTP request by its route template and status. ``templates`` gives the
    service's path templates (asked once, at the first request, when every route exists)."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, templates: Callable[[], Iterable[str]]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self._templates = templates
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def template(self, path: str) -> str:
        """The route template ``path`` belongs to, ``(static)`` or ``(unmatched)``."""
        if self._compiled is None:
            self._compiled = [
                (compile_path(template)[0], template) for template in sorted(set(self._templates()))
            ]
        for pattern, template in self._compiled:
            if pattern.match(path):
                return template
        return _UNMATCHED if path.startswith(_API_PREFIXES) else _STATIC

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answer = StatusRecorder(send)
        try:
            await self.app(scope, receive, answer)
        finally:
            template = self.template(str(scope.get("path", "")))
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, template, str(answer.status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
            event = _EVENTS.get((method, template, answer.status))
            if event is not None:
                self.metrics.events[event].inc()
