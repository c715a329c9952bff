"""Robust matching: the photo each hash came from, and the feed's wire names of the variants.

A photo is now enrolled as several PDQ hashes of regions of it, each of a signal type of its own
(``pdq`` for the whole picture, ``pdq_trim``, ``pdq_square``, ``pdq_strip``; see
``openncii.signals.registry``). ``case_hashes.photo`` says which photo of the case a hash
belongs to (the position of the photo's entry in the submission; NULL for videos and for
cases stored before this revision), so a case counts photos as the person chose them.

PostgreSQL: ``feed_record_json`` (revision 0004) learns the wire names of the three new types.
No record of them exists before this revision, so cached records stay valid.

Revision: 0006
Revises: 0007
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
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
        || ',"hashStatus":' || CASE status WHEN 'active' THEN '"Active"' ELSE '"Withdrawn"' END
        || ',"caseNumbers":{' || coalesce(case_entries, '')
        || '},"CSPFeedbacks":[' || coalesce(feedback_entries, '') || ']}'
    $$
"""

#: Revision 0004's function, restored by the downgrade.
_PREVIOUS: Final = _FEED_RECORD_JSON.replace(
    """
             WHEN 'pdq_trim' THEN 'ImagePDQTrim' WHEN 'pdq_square' THEN 'ImagePDQSquare'
             WHEN 'pdq_strip' THEN 'ImagePDQStrip' ELSE signal_type END)::text""",
    " ELSE signal_type END)::text",
)


def upgrade() -> None:
    with op.batch_alter_table("case_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FEED_RECORD_JSON)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PREVIOUS)
    with op.batch_alter_table("case_hashes", schema=None) as batch_op:
        batch_op.drop_column("photo")
