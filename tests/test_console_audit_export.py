"""The audit log's CSV export is streamed in batches read by id: the same lines as the whole
log at once, and entries added while it streams are left out."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from openncii import audit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_export_streams_every_entry_in_batches(db_sessions: Any) -> None:
    with db_sessions() as session, session.begin():
        for i in range(23):
            audit.record(
                session,
                "signin.failure",
                NOW + timedelta(minutes=i),
                actor=f"=person{i}@example.org" if i == 5 else f"person{i}@example.org",
                network="192.0.2.0/24",
                detail=None if i % 2 else f"try {i}",
            )
    chunks = audit.audit_csv_chunks(db_sessions, batch=5)
    header = next(chunks)
    assert header == "at,actor,action,target,network,detail\n"
    first = next(chunks)
    with db_sessions() as session, session.begin():  # added while the export streams
        audit.record(session, "audit.export", NOW, actor="late@example.org", network="shell")
    rest = list(chunks)
    assert len(rest) == 4  # 23 entries: 5 per batch
    rows = list(csv.reader(io.StringIO(header + first + "".join(rest))))
    assert rows[0] == list(audit.AUDIT_CSV_COLUMNS)
    assert len(rows) == 24
    assert rows[1] == [
        NOW.isoformat(),
        "person0@example.org",
        "signin.failure",
        "",
        "192.0.2.0/24",
        "try 0",
    ]
    assert rows[6][1] == "'=person5@example.org"  # a formula is quoted
    assert rows[-1][0] == (NOW + timedelta(minutes=22)).isoformat()
    assert "late@example.org" not in "".join(rest)


def test_an_empty_log_exports_its_header(db_sessions: Any) -> None:
    assert list(audit.audit_csv_chunks(db_sessions)) == ["at,actor,action,target,network,detail\n"]
