"""``GET /metrics``: the case service's Prometheus metrics (:mod:`openncii.api.metrics`).

With ``OPENNCII_METRICS_TOKEN`` set, ``Authorization: Bearer <token>``; unset, only clients on
the loopback interface (a Prometheus on the same host, or an SSH tunnel).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Final

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from openncii.api.deps import RuntimeDep
from openncii.errors import ForbiddenError, StaffAuthError

__all__ = ["METRICS_PATH", "router"]

METRICS_PATH: Final = "/metrics"

router = APIRouter(include_in_schema=False)


def _allowed(request: Request, token: str | None) -> None:
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise StaffAuthError("A valid metrics token is required (Authorization: Bearer).")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ForbiddenError("Metrics are served to loopback clients only (or set a token).")


@router.get(METRICS_PATH)
def get_metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    token = runtime.settings.metrics_token
    _allowed(request, None if token is None else token.get_secret_value())
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
