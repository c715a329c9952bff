"""Engines and sessions for SQLite (embedded default, WAL mode) and PostgreSQL (psycopg 3).

No engine exists at import time: :func:`make_engine` is called by ``create_app`` and the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from openncii.errors import ConfigurationError

__all__ = ["SQLITE_BUSY_TIMEOUT_S", "is_sqlite", "make_engine", "make_session_factory"]

#: How long a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT_S: Final = 30.0
_POSTGRES_DRIVERS: Final = ("postgresql+psycopg",)
_SQLITE_SYNC_MODES: Final = ("FULL", "NORMAL")


def is_sqlite(url: str | URL) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...``.

    SQL parameters are hidden from error messages (they hold PIN hashes and hash values).

    SQLite: the parent directory is created, the database runs in WAL mode with
    ``synchronous=FULL`` by default (a commit is on disk before we answer) and foreign keys on,
    and every
    transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout
    instead of failing on a lock upgrade.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError; the message may hold a password
        raise ConfigurationError("the database URL is not a valid SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if sqlite_synchronous not in _SQLITE_SYNC_MODES:
            raise ConfigurationError("sqlite_synchronous is FULL or NORMAL")
        return _sqlite_engine(parsed, sqlite_synchronous)
    if backend == "postgresql":
        if parsed.drivername not in _POSTGRES_DRIVERS:
            raise ConfigurationError(
                "PostgreSQL URLs must use the psycopg 3 driver: postgresql+psycopg://..."
            )
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=3600,
            hide_parameters=True,
        )
    raise ConfigurationError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: URL, synchronous: str) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        pool_size=8,
        max_overflow=8,
        pool_timeout=SQLITE_BUSY_TIMEOUT_S,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (services return plain values from them)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
