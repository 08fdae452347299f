"""The audit trail's SQL (`audit_log`). The trail belongs to the agency: no tenant scope yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from yibao.storage.tables import audit_log


def insert_entry(
    conn: Connection,
    *,
    audit_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    detail: str | None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            audit_id=audit_id, at=at, actor=actor, action=action, target=target, detail=detail
        )
    )


def list_entries(
    conn: Connection,
    *,
    actor: str | None,
    action: str | None,
    target: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Rows as stored (detail is JSON text), newest first."""
    query = select(audit_log)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    if target:
        query = query.where(audit_log.c.target == target)
    query = query.order_by(audit_log.c.at.desc(), audit_log.c.audit_id.desc())
    return [dict(r) for r in conn.execute(query.limit(limit).offset(offset)).mappings()]
