"""Per-application state: the engine, the session factory and the case rules.

Built by :func:`openncii.api.create_app` from its settings (nothing at import time) and kept on
``app.state.runtime``; routers reach it through the dependencies of :mod:`openncii.api.deps`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openncii.cases import Argon2Parameters, CaseRules, DenyList, LockoutPolicy, PinHasher
from openncii.cases.abuse import RateLimit
from openncii.db import make_engine, make_session_factory
from openncii.db.server_secrets import CLIENT_KEY_SECRET, server_secret
from openncii.settings import Settings

__all__ = ["Clock", "Runtime", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """What request handlers share. ``clock`` may be replaced (tests)."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.engine: Engine = make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.rules = CaseRules(
            pins=PinHasher(Argon2Parameters.from_settings(settings)),
            denylist=DenyList.load(settings.denylist_extra_path),
            max_hashes=settings.max_hashes_per_case,
            lockout=LockoutPolicy(
                failures=settings.lockout_failures,
                base_seconds=settings.lockout_base_seconds,
                max_seconds=settings.lockout_max_seconds,
            ),
        )
        self.create_limit = RateLimit(settings.rate_limit_create, settings.rate_window_seconds)
        self.status_limit = RateLimit(settings.rate_limit_status, settings.rate_window_seconds)
        self.trusted_proxies = frozenset(
            p.strip() for p in settings.trusted_proxies.split(",") if p.strip()
        )
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def secret(self) -> bytes:
        """The installation's HMAC secret for abuse counters (read once from the database)."""
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    with self.sessions() as session:
                        self._secret = server_secret(session, CLIENT_KEY_SECRET, self.clock())
        return self._secret

    def close(self) -> None:
        self.engine.dispose()
