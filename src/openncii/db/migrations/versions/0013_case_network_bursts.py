"""Bursts of cases from one network, flagged when a case is stored (:mod:`openncii.cases.bursts`):
``case_networks.burst`` and a partial index of the flagged rows. ``review_scans`` gets the row
``bursts`` with an empty fingerprint, so the first queue read flags the cases already kept with
the server's rule (:func:`openncii.review.bursts.sync_bursts`).

The MD5 entries of the helpline's deny-list now flag the equal stored hashes for review, as
entries added from now on do (:func:`openncii.review.near.flag_equal`): computed here for the
entries already there.

Revision: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openncii.review.near import flag_helpline_equal

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_networks") as batch_op:
        batch_op.add_column(
            sa.Column("burst", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(
        "ix_case_networks_burst",
        "case_networks",
        ["network", "created_at"],
        sqlite_where=sa.text("burst = 1"),
        postgresql_where=sa.text("burst"),
    )
    op.execute("INSERT INTO review_scans (name, fingerprint) VALUES ('bursts', '')")
    flag_helpline_equal(op.get_bind())


def downgrade() -> None:
    op.execute(
        "DELETE FROM review_near_denied WHERE hash_id IN (SELECT id FROM hashes "
        "WHERE signal_type NOT IN ('pdq', 'pdq_trim', 'pdq_square', 'pdq_strip'))"
    )
    op.execute("DELETE FROM review_scans WHERE name = 'bursts'")
    op.drop_index("ix_case_networks_burst", table_name="case_networks")
    with op.batch_alter_table("case_networks") as batch_op:
        batch_op.drop_column("burst")
