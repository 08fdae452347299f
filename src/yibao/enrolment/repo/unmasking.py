"""SQL of the unmasking log and the console's security alerts (`unmask_log`,
`console_alert`). Counting the log in the row store makes the per-user limit hold across
every server process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from yibao.storage.tables import console_alert, unmask_log


def insert_unmask(
    conn: Connection,
    *,
    unmask_id: int,
    at: datetime,
    username: str,
    purpose: str,
    purpose_note: str | None,
    records: int,
) -> None:
    conn.execute(
        insert(unmask_log).values(
            unmask_id=unmask_id,
            at=at,
            username=username,
            purpose=purpose,
            purpose_note=purpose_note,
            records=records,
        )
    )


def usage_since(conn: Connection, *, username: str, since: datetime) -> tuple[int, int]:
    """(unmaskings, persons shown) of `username` since `since`."""
    row = conn.execute(
        select(func.count(), func.coalesce(func.sum(unmask_log.c.records), 0)).where(
            unmask_log.c.username == username, unmask_log.c.at >= since
        )
    ).one()
    return int(row[0]), int(row[1])


def alert_raised_since(conn: Connection, *, username: str, kind: str, since: datetime) -> bool:
    found = conn.execute(
        select(console_alert.c.alert_id)
        .where(
            console_alert.c.username == username,
            console_alert.c.kind == kind,
            console_alert.c.at >= since,
        )
        .limit(1)
    ).first()
    return found is not None


def insert_alert(
    conn: Connection,
    *,
    alert_id: int,
    at: datetime,
    kind: str,
    username: str,
    message: str,
    detail: str | None,
) -> None:
    conn.execute(
        insert(console_alert).values(
            alert_id=alert_id,
            at=at,
            kind=kind,
            username=username,
            message=message[:500],
            detail=detail,
        )
    )


def list_alerts(
    conn: Connection, *, open_only: bool, limit: int, offset: int
) -> tuple[int, int, list[dict[str, Any]]]:
    """(open count, total matching, page newest first)."""
    open_count = int(
        conn.execute(
            select(func.count())
            .select_from(console_alert)
            .where(console_alert.c.acked_at.is_(None))
        ).scalar_one()
    )
    query = select(console_alert)
    counted = select(func.count()).select_from(console_alert)
    if open_only:
        query = query.where(console_alert.c.acked_at.is_(None))
        counted = counted.where(console_alert.c.acked_at.is_(None))
    total = int(conn.execute(counted).scalar_one())
    query = query.order_by(console_alert.c.at.desc(), console_alert.c.alert_id.desc())
    rows = [dict(r) for r in conn.execute(query.limit(limit).offset(offset)).mappings()]
    return open_count, total, rows


def ack_alert(conn: Connection, *, alert_id: int, at: datetime, username: str) -> bool:
    """Acknowledge an open alert; False when there is no such open alert."""
    result = conn.execute(
        update(console_alert)
        .where(console_alert.c.alert_id == alert_id, console_alert.c.acked_at.is_(None))
        .values(acked_at=at, acked_by=username)
    )
    return bool(result.rowcount)


def get_alert(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(console_alert).where(console_alert.c.alert_id == alert_id)).first()
    return None if row is None else dict(row._mapping)
