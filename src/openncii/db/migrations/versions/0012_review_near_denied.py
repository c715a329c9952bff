"""The review queue's ``near_denied`` flags, stored (:mod:`openncii.review.near`):
``review_near_denied`` (hashes near a deny-list entry) and ``review_scans`` (the fingerprint of
the shipped list they were computed for: empty here, so the first queue read scans the bank
against the server's list once). The flags of the helpline's entries are computed here.

Revision: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openncii.review.near import flag_helpline

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "review_near_denied",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entry", sa.String(length=64), nullable=False),
        sa.Column("hash_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "entry", "hash_id", name=op.f("pk_review_near_denied")),
    )
    op.create_index("ix_review_near_denied_hash_id", "review_near_denied", ["hash_id"])
    op.create_table(
        "review_scans",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_review_scans")),
    )
    op.execute("INSERT INTO review_scans (name, fingerprint) VALUES ('shipped', '')")
    flag_helpline(op.get_bind())


def downgrade() -> None:
    op.drop_table("review_scans")
    op.drop_index("ix_review_near_denied_hash_id", table_name="review_near_denied")
    op.drop_table("review_near_denied")
