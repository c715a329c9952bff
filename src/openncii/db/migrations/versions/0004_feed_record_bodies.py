"""Partner feed (PostgreSQL): records built by the database and cached on every write.

PostgreSQL gets SQL functions that build a feed record's JSON text (``feed_record_body``), a
deferred trigger that rebuilds a hash's cached record when a transaction that changed the hash
commits, and a backfill of the cache. The feed serves a page as one ``string_agg`` of cached
bodies (see :mod:`openncii.feed.pages`). SQLite is untouched (it builds records in Python).

Every write that changes what a record shows (its cases, their status, feedback) restamps the
hash's ``feed_seq`` in the same transaction (:mod:`openncii.db.feed_clock`), so rebuilding on
UPDATE of ``hashes``, at commit time (after every statement of the transaction), covers them all.

Revision: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Final

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# The wire format (see openncii.feed.pages): compact JSON, keys in this order; caseNumbers
# ordered by case id, CSPFeedbacks by partner name. STABLE, not IMMUTABLE: to_json() is STABLE,
# and a SQL function declared more strictly than its body is not inlined.
_FUNCTIONS: Final = (
    """
    CREATE FUNCTION feed_case_entry(ref text, status text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT to_json(ref)::text
        || CASE status WHEN 'active' THEN ':"Active"' ELSE ':"Withdrawn"' END
    $$
    """,
    """
    CREATE FUNCTION feed_feedback_entry(value text, tags text, source text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT '{"feedbackValue":' || to_json(value)::text || ',"tags":' || tags::json::text
        || ',"source":' || to_json(source)::text || '}'
    $$
    """,
    """
    CREATE FUNCTION feed_record_json(
      signal_type text, value text, payload text, status text, updated_at timestamptz,
      case_entries text, feedback_entries text
    ) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT '{"lastModtimestamp":' || floor(extract(epoch FROM updated_at))::bigint
        || ',"signalType":' || to_json(CASE signal_type WHEN 'pdq' THEN 'ImagePDQ'
             WHEN 'md5' THEN 'VideoMD5' WHEN 'vpdq' THEN 'VideoPDQ' ELSE signal_type END)::text
        || ',"hashValue":' || to_json(CASE WHEN signal_type = 'vpdq' AND payload <> ''
             THEN payload ELSE value END)::text
        || ',"hashStatus":' || CASE status WHEN 'active' THEN '"Active"' ELSE '"Withdrawn"' END
        || ',"caseNumbers":{' || coalesce(case_entries, '')
        || '},"CSPFeedbacks":[' || coalesce(feedback_entries, '') || ']}'
    $$
    """,
    """
    CREATE FUNCTION feed_record_body(h hashes) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT feed_record_json(h.signal_type, h.value, h.payload, h.status, h.updated_at,
        (SELECT string_agg(feed_case_entry(c.partner_ref, c.status), ',' ORDER BY c.id)
           FROM case_hashes ch JOIN cases c ON c.id = ch.case_id WHERE ch.hash_id = h.id),
        (SELECT string_agg(feed_feedback_entry(f.value, f.tags, p.name), ',' ORDER BY p.name)
           FROM feedback f JOIN partners p ON p.id = f.partner_id WHERE f.hash_id = h.id))
    $$
    """,
    # Runs at commit (deferred), once per updated row: the body sees every statement of the
    # transaction, and concurrent writers of the same hash are serialised by its row lock.
    """
    CREATE FUNCTION feed_refresh_record() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO feed_record_cache (hash_id, feed_seq, body)
      SELECT h.id, h.feed_seq, feed_record_body(h) FROM hashes h WHERE h.id = NEW.id
      ON CONFLICT (hash_id) DO UPDATE SET feed_seq = EXCLUDED.feed_seq, body = EXCLUDED.body
        WHERE feed_record_cache.feed_seq <= EXCLUDED.feed_seq;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER feed_refresh_record AFTER UPDATE ON hashes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION feed_refresh_record()
    """,
)

_FILL: Final = """
INSERT INTO feed_record_cache (hash_id, feed_seq, body)
SELECT h.id, h.feed_seq,
  feed_record_json(h.signal_type, h.value, h.payload, h.status, h.updated_at, c.body, f.body)
FROM hashes h
LEFT JOIN (
  SELECT ch.hash_id, string_agg(feed_case_entry(c.partner_ref, c.status), ',' ORDER BY c.id)
  FROM case_hashes ch JOIN cases c ON c.id = ch.case_id GROUP BY ch.hash_id
) AS c (hash_id, body) ON c.hash_id = h.id
LEFT JOIN (
  SELECT f.hash_id, string_agg(feed_feedback_entry(f.value, f.tags, p.name), ',' ORDER BY p.name)
  FROM feedback f JOIN partners p ON p.id = f.partner_id GROUP BY f.hash_id
) AS f (hash_id, body) ON f.hash_id = h.id
"""

_DROP: Final = (
    "DROP TRIGGER feed_refresh_record ON hashes",
    "DROP FUNCTION feed_refresh_record()",
    "DROP FUNCTION feed_record_body(hashes)",
    "DROP FUNCTION feed_record_json(text, text, text, text, timestamptz, text, text)",
    "DROP FUNCTION feed_feedback_entry(text, text, text)",
    "DROP FUNCTION feed_case_entry(text, text)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _FUNCTIONS:
        op.execute(statement)
    # Bodies cached by readers before this revision are rebuilt in the new (compact) form.
    op.execute("TRUNCATE feed_record_cache")
    op.execute(_FILL)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DROP:
        op.execute(statement)
    # Revision 0003's readers filled the cache with bodies of their own: start it empty.
    op.execute("TRUNCATE feed_record_cache")
