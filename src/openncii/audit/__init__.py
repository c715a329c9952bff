"""The audit log of the helpline console: every staff action and sign-in attempt, append-only.

An entry says who (the staff member's e-mail then), what (an action name of :data:`ACTIONS`),
about what (a partner's name, an e-mail, a hash shown by its first 8 hex digits), when and from
which client network (IPv4 /24, IPv6 /48: enough to tell an office from elsewhere, not a
person). Never a PIN, an image or a whole hash value. The database refuses UPDATE and DELETE on
the table (triggers of the migration that made it).
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openncii.db.models import AuditEntry
from openncii.signals.hexcode import short_hash

__all__ = [
    "ACTIONS",
    "AUDIT_CSV_COLUMNS",
    "SHELL",
    "AuditRecord",
    "audit_csv_chunks",
    "client_ip",
    "client_network",
    "csv_text",
    "list_audit",
    "record",
    "short_hash",
]

#: The ``network`` of actions taken with the ``openncii`` command on the server.
SHELL: Final = "shell"
#: Every action name the log may hold (the console translates them).
ACTIONS: Final = (
    "staff.add",
    "staff.setup",
    "staff.disable",
    "staff.reset",
    "signin.success",
    "signin.failure",
    "signout",
    "signout.everywhere",
    "partner.add",
    "partner.rotate",
    "partner.revoke",
    "partner.rename",
    "partner.submission",
    "hash.disable",
    "hash.enable",
    "hash.deny",
    "hash.undeny",
    "hash.open",
    "settings.change",
    "helpline.add",
    "helpline.edit",
    "helpline.remove",
    "audit.export",
    "stats.export",
)
AUDIT_CSV_COLUMNS: Final = ("at", "actor", "action", "target", "network", "detail")


def client_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client address as an IP address (an IPv4 client seen through an IPv6 socket as its
    IPv4 address), or None when it is not one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_network(address: str) -> str:
    """The network of a client address: IPv4 /24, IPv6 /48 (an address we cannot read as an
    IP address is kept as ``unknown``)."""
    ip = client_ip(address)
    if ip is None:
        return "unknown"
    prefix = 24 if isinstance(ip, ipaddress.IPv4Address) else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str | None
    action: str
    target: str | None
    network: str | None
    detail: str | None


def record(
    session: Session,
    action: str,
    now: datetime,
    *,
    actor: str | None,
    network: str | None,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Add an entry in the caller's transaction (the action and its entry commit together)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            at=now, actor=actor, action=action, target=target, network=network, detail=detail
        )
    )
    session.flush()


def list_audit(
    session: Session, *, limit: int = 200, before_id: int | None = None
) -> tuple[list[AuditRecord], int]:
    """The newest entries (before ``before_id`` when paging back) and the total count."""
    with session.begin():
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        rows = [_record(row) for row in session.scalars(query)]
        total = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    return rows, total


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(row.id, row.at, row.actor, row.action, row.target, row.network, row.detail)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell that starts like a formula: quote it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with a header line (cells that a spreadsheet would read as formulas are quoted)."""
    return _csv_lines([header]) + _csv_lines(rows)


_COLUMNS: Final = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.network,
    AuditEntry.detail,
)


def audit_csv_chunks(sessions: Callable[[], Session], *, batch: int = 5000) -> Iterator[str]:
    """The whole log as CSV, oldest first, in pieces to stream: the header line, then ``batch``
    entries at a time, each batch read by id in a short transaction of its own (no connection
    is held while the client reads). Entries added after the export began are left out."""
    with sessions() as session, session.begin():
        last = int(session.scalar(select(func.max(AuditEntry.id))) or 0)
    yield _csv_lines([AUDIT_CSV_COLUMNS])
    # The same few actors, actions and networks fill most cells: their CSV cells are kept.
    cells: dict[object, str] = {None: ""}
    after = 0
    while after < last:
        with sessions() as session, session.begin():
            rows = (
                session.connection()
                .execute(
                    select(*_COLUMNS)
                    .where(AuditEntry.id > after, AuditEntry.id <= last)
                    .order_by(AuditEntry.id)
                    .limit(batch)
                )
                .all()
            )
        if not rows:
            return
        after = int(rows[-1][0])
        lines = []
        for _id, at, *texts in rows:
            line = [at.isoformat()]
            for value in texts:
                cell = cells.get(value)
                if cell is None:
                    cell = _cell(value)
                    if len(cells) < 4096:
                        cells[value] = cell
                line.append(cell)
            lines.append(line)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(lines)
        yield out.getvalue()
