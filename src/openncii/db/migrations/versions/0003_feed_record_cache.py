"""Partner feed: cache of serialised feed records, keyed by hash and valid for one feed position.

Revision: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "feed_record_cache",
        sa.Column("hash_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("feed_seq", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash_id", name=op.f("pk_feed_record_cache")),
    )


def downgrade() -> None:
    op.drop_table("feed_record_cache")
