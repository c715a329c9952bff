"""Per-application state: the engine, the session factory, the case rules, the review queue's
rules, the installation's secrets and the partner feed's purge schedule.

Built by :func:`openncii.api.create_app` from its settings (nothing at import time) and kept on
``app.state.runtime``; routers reach it through the dependencies of :mod:`openncii.api.deps`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openncii.api.metrics import Metrics
from openncii.cases import (
    Argon2Parameters,
    CaseRules,
    DenyList,
    LockoutPolicy,
    PinHasher,
    PinSlots,
)
from openncii.cases.abuse import RateLimit
from openncii.cases.bursts import BurstRule
from openncii.db import make_engine, make_session_factory
from openncii.db.server_secrets import CLIENT_KEY_SECRET, server_secret
from openncii.feed import FEED_TOKEN_SECRET, purge_withdrawn
from openncii.partners import record_fetch
from openncii.review import ReviewRules
from openncii.settings import Settings
from openncii.staff import StaffPolicy
from openncii.stats import compact_figures

__all__ = ["Clock", "Runtime", "utc_now"]

Clock = Callable[[], datetime]

_log = logging.getLogger("openncii.api.partner_feed")


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
            pins=PinHasher(
                Argon2Parameters.from_settings(settings),
                PinSlots(settings.pin_hash_workers, settings.pin_hash_queue),
            ),
            denylist=DenyList.load(settings.denylist_extra_path),
            max_hashes=settings.max_hashes_per_case,
            max_files=settings.max_files_per_case,
            lockout=LockoutPolicy(
                tries=settings.pin_tries,
                pause_seconds=settings.pin_pause_seconds,
                legacy_tries=settings.legacy_pin_tries,
                legacy_window_seconds=settings.legacy_pin_window_seconds,
            ),
            bursts=BurstRule.from_settings(settings),
        )
        self.create_limit = RateLimit(settings.rate_limit_create, settings.rate_window_seconds)
        self.status_limit = RateLimit(settings.rate_limit_status, settings.rate_window_seconds)
        self.trusted_proxies = frozenset(
            p.strip() for p in settings.trusted_proxies.split(",") if p.strip()
        )
        self.staff_policy = StaffPolicy.from_settings(settings)
        self.review_rules = ReviewRules.from_settings(settings)
        self.metrics = Metrics()
        self.rules.pins.on_time = self.metrics.observe_argon2
        self._secrets: dict[str, bytes] = {}
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def _server_secret(self, name: str) -> bytes:
        found = self._secrets.get(name)
        if found is None:
            with self._lock:
                found = self._secrets.get(name)
                if found is None:
                    with self.sessions() as session:
                        found = server_secret(session, name, self.clock())
                    self._secrets[name] = found
        return found

    def secret(self) -> bytes:
        """The installation's HMAC secret for abuse counters (read once from the database)."""
        return self._server_secret(CLIENT_KEY_SECRET)

    def feed_secret(self) -> bytes:
        """The installation's secret that signs the partner feed's page tokens (read once)."""
        return self._server_secret(FEED_TOKEN_SECRET)

    def feed_purge_due(self) -> bool:
        """Whether the retention purge of the feed should run now (at most once per
        ``feed_purge_interval_seconds``; never when it is 0)."""
        interval = self.settings.feed_purge_interval_seconds
        if interval <= 0:
            return False
        with self._lock:
            now = time.monotonic()
            if now < self._next_purge:
                return False
            self._next_purge = now + interval
            return True

    def purge_feed(self) -> None:
        """Delete the withdrawn hashes past the retention window, and compact the console's
        rollups (so that the changes piled up between console visits stay few): a background
        task."""
        retention = timedelta(days=self.settings.feed_retention_days)
        with self.sessions() as session:
            purged = purge_withdrawn(session, self.clock(), retention)
            compact_figures(session)
        if purged:
            _log.info("purged %d withdrawn hashes past the retention window", purged)

    def record_fetch(self, partner_id: int, records: int, now: datetime) -> None:
        """Count a feed page served to a partner, for the console (a background task: after
        the answer). Each page is one small write: the console's "last fetch" and pages of
        the last 24 hours are exact at once, and a page's work (reading up to thousands of
        records) outweighs it."""
        with self.sessions() as session:
            record_fetch(session, partner_id, records, now)

    def close(self) -> None:
        self.engine.dispose()
