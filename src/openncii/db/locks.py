"""Transaction-level advisory locks (PostgreSQL). SQLite needs none: every transaction starts
with ``BEGIN IMMEDIATE`` (:mod:`openncii.db.engine`), so writers take turns anyway."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

__all__ = ["advisory_xact_lock"]


def advisory_xact_lock(connection: Connection, *key: int, shared: bool = False) -> None:
    """Take the advisory lock ``key`` (one bigint, or two ints) until the transaction ends, in
    exclusive or ``shared`` mode, on PostgreSQL; nothing to do on SQLite. A statement of its
    own: the statements after it see what committed while it waited."""
    if connection.dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        connection.execute(select(lock(*key)))
