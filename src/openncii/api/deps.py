"""FastAPI dependencies (``Annotated`` aliases): runtime, session, clock, client identity.

The cheap ones are ``async`` so that FastAPI runs them on the event loop instead of sending
each to the thread pool; anything that waits on the database stays synchronous.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from openncii.api.runtime import Runtime
from openncii.audit import client_network
from openncii.cases.abuse import client_key, network_key

__all__ = ["CaseNetworkDep", "ClientDep", "NetworkDep", "NowDep", "RuntimeDep", "SessionDep"]


async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session for the request. Services commit their own transactions, so closing it at
    the end does no I/O."""
    with runtime.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock()


NowDep = Annotated[datetime, Depends(get_now)]


def _client_address(request: Request, runtime: Runtime) -> str:
    peer = request.client.host if request.client else "unknown"
    if peer not in runtime.trusted_proxies:
        return peer
    # Behind trusted proxies: the right-most address they did not add themselves.
    forwarded = request.headers.get("x-forwarded-for", "")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if hop not in runtime.trusted_proxies:
            return hop
    return peer


def get_client(request: Request, runtime: RuntimeDep) -> str:
    """The client's identity for rate limits: an HMAC of its address, never the address.

    Synchronous: the first call reads the installation secret from the database."""
    return client_key(runtime.secret(), _client_address(request, runtime))


ClientDep = Annotated[str, Depends(get_client)]


async def get_network(request: Request, runtime: RuntimeDep) -> str:
    """The client's network for the console's audit log (IPv4 /24, IPv6 /48)."""
    return client_network(_client_address(request, runtime))


NetworkDep = Annotated[str, Depends(get_network)]


def get_case_network(request: Request, runtime: RuntimeDep) -> str:
    """The keyed digest of the client's network, stored with a new case for the console's
    hash review (bursts of cases from one network): never the address."""
    return network_key(runtime.secret(), _client_address(request, runtime))


CaseNetworkDep = Annotated[str, Depends(get_case_network)]
