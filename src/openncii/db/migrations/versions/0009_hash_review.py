"""Hash review in the console: hashes the helpline disabled, its own deny-list, and the network
each case was opened from (a keyed digest, for bursts of cases from one network).

A disabled hash keeps its row with ``hashes.status = 'disabled'``; the feed sends it as
``Deleted``. PostgreSQL: ``feed_record_json`` (revisions 0004, 0006) learns that status; no hash
is disabled before this revision, so cached records stay valid.

Revision: 0009
Revises: 0006
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_FEED_RECORD_JSON: Final = """
    CREATE OR REPLACE FUNCTION feed_record_json(
      signal_type text, value text, payload text, status text, updated_at timestamptz,
      case_entries text, feedback_entries text
    ) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT '{"lastModtimestamp":' || floor(extract(epoch FROM updated_at))::bigint
        || ',"signalType":' || to_json(CASE signal_type WHEN 'pdq' THEN 'ImagePDQ'
             WHEN 'md5' THEN 'VideoMD5' WHEN 'vpdq' THEN 'VideoPDQ'
             WHEN 'pdq_trim' THEN 'ImagePDQTrim' WHEN 'pdq_square' THEN 'ImagePDQSquare'
             WHEN 'pdq_strip' THEN 'ImagePDQStrip' ELSE signal_type END)::text
        || ',"hashValue":' || to_json(CASE WHEN signal_type = 'vpdq' AND payload <> ''
             THEN payload ELSE value END)::text
        || ',"hashStatus":' || CASE status WHEN 'active' THEN '"Active"'
             WHEN 'disabled' THEN '"Deleted"' ELSE '"Withdrawn"' END
        || ',"caseNumbers":{' || coalesce(case_entries, '')
        || '},"CSPFeedbacks":[' || coalesce(feedback_entries, '') || ']}'
    $$
"""

#: Revision 0006's function, restored by the downgrade.
_PREVIOUS: Final = _FEED_RECORD_JSON.replace(
    """'"Active"'
             WHEN 'disabled' THEN '"Deleted"' ELSE""",
    """'"Active"' ELSE""",
)


def upgrade() -> None:
    op.create_table(
        "case_networks",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_networks_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_networks")),
    )
    op.create_index("ix_case_networks_network", "case_networks", ["network", "created_at"])
    op.create_index("ix_case_networks_created_at", "case_networks", ["created_at"])
    op.create_table(
        "denied_hashes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_denied_hashes")),
        sa.UniqueConstraint("signal_type", "value", name="uq_denied_hashes_value"),
    )
    op.create_table(
        "disabled_hashes",
        sa.Column("hash_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chosen_hash_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("disabled_by", sa.String(length=254), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hash_id"],
            ["hashes.id"],
            name=op.f("fk_disabled_hashes_hash_id_hashes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hash_id", name=op.f("pk_disabled_hashes")),
    )
    op.create_index("ix_disabled_hashes_chosen_hash_id", "disabled_hashes", ["chosen_hash_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FEED_RECORD_JSON)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PREVIOUS)
    op.execute("UPDATE hashes SET status = 'withdrawn' WHERE status = 'disabled'")
    op.drop_index("ix_disabled_hashes_chosen_hash_id", table_name="disabled_hashes")
    op.drop_table("disabled_hashes")
    op.drop_table("denied_hashes")
    op.drop_index("ix_case_networks_created_at", table_name="case_networks")
    op.drop_index("ix_case_networks_network", table_name="case_networks")
    op.drop_table("case_networks")
