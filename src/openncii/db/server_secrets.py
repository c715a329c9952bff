"""Installation secrets stored in the database, made once and shared by every worker."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii.db.models import ServerSecret
from openncii.db.upsert import insert_for

__all__ = ["CLIENT_KEY_SECRET", "server_secret"]

#: Name of the secret that keys the HMACs of client addresses and case numbers (abuse counters).
CLIENT_KEY_SECRET: Final = "abuse-hmac"  # noqa: S105 - the name of a secret, not a secret
_SECRET_BYTES: Final = 32


def server_secret(session: Session, name: str, now: datetime) -> bytes:
    """The secret called ``name``, created on first use. Commits its own transaction."""
    with session.begin():
        statement = insert_for(session, ServerSecret).values(
            name=name, value=secrets.token_hex(_SECRET_BYTES), created_at=now
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
        value = session.scalars(select(ServerSecret.value).where(ServerSecret.name == name)).one()
    return bytes.fromhex(value)
