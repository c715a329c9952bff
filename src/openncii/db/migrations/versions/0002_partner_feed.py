"""Partner feed: keyset index on (feed_seq, id) and the table of issued feed checkpoints.

Revision: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_hashes_feed_position", "hashes", ["feed_seq", "id"], unique=False)
    op.create_table(
        "feed_checkpoints",
        sa.Column("ts", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ts", name=op.f("pk_feed_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("feed_checkpoints")
    op.drop_index("ix_hashes_feed_position", table_name="hashes")
